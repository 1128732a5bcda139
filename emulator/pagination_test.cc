#include "emulator/pagination.h"

#include "gtest/gtest.h"

namespace fivetran_emulator {
namespace {

TEST(ParseLimit, AcceptsOnlyOneToThousand) {
  EXPECT_EQ(*ParseLimit(std::nullopt), 100);
  EXPECT_EQ(*ParseLimit("1"), 1);
  EXPECT_EQ(*ParseLimit("1000"), 1000);
  for (const char* bad :
       {"0", "1001", "-1", "", "abc", "1e3", "10.0", " 5", "99999999999999999999", "+5"}) {
    EXPECT_FALSE(ParseLimit(std::string(bad)).ok()) << bad;
  }
}

TEST(Cursor, RoundTripsAndRejectsGarbage) {
  const std::string c = EncodeCursor("amber_reef", "listing");
  EXPECT_EQ(*DecodeCursor(c, "listing"), "amber_reef");
  EXPECT_FALSE(DecodeCursor(c, "other").ok());
  EXPECT_FALSE(DecodeCursor("!!!", "listing").ok());
  EXPECT_FALSE(DecodeCursor("eyJza2lwIjozfQ", "listing").ok());  // {"skip":3}
  EXPECT_FALSE(DecodeCursor(std::string(5000, 'A'), "listing").ok());
  EXPECT_FALSE(DecodeCursor(c.substr(0, c.size() - 3), "listing").ok());
}

}  // namespace
}  // namespace fivetran_emulator
