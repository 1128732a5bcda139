#include "server/common/safe_text.h"

#include <gtest/gtest.h>

#include <string>

namespace fivetran_gateway {
namespace {

TEST(SafeTextTest, EscapesWhatCouldEndALineOrFakeAField) {
  struct Row {
    std::string in;
    std::string out;
  } rows[] = {
      {"decent_dropsy", "decent_dropsy"},
      {"a\nrpc method=Forged code=OK", "a\\nrpc method=Forged code=OK"},
      {"a\r\n\tb", "a\\r\\n\\tb"},
      {"x\" code=OK y=\"", "x\\\" code=OK y=\\\""},
      {"back\\slash", "back\\\\slash"},
      {std::string("nul\0byte", 8), "nul\\x00byte"},
      {"\x1b[31mred", "\\x1b[31mred"},
      {"del\x7f", "del\\x7f"},
      {"gr\xC3\xBC\xC3\x9F", "gr\\xc3\\xbc\\xc3\\x9f"},
      {"", ""},
  };
  for (const Row& r : rows) EXPECT_EQ(SafeText(r.in), r.out) << r.in;
}

TEST(SafeTextTest, BoundsTheLengthWithAnEllipsis) {
  EXPECT_EQ(SafeText(std::string(4 << 20, 'x')), std::string(kMaxQuotedValue, 'x') + "...");
  EXPECT_EQ(SafeText(std::string(10, 'y'), 10), std::string(10, 'y'));
  EXPECT_EQ(SafeText(std::string(11, 'y'), 10), std::string(10, 'y') + "...");
  // An escape is never cut in half.
  EXPECT_EQ(SafeText("abcdefghi\n", 10), "abcdefghi...");
}

TEST(SafeTextTest, OneLineKeepsQuotes) {
  EXPECT_EQ(OneLine("Connection with id 'x' \"y\"\nz", 100), "Connection with id 'x' \"y\"\\nz");
  EXPECT_EQ(OneLine(std::string(50, 'm'), 20), std::string(20, 'm') + "...");
}

}  // namespace
}  // namespace fivetran_gateway
