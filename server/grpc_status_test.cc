#include "server/grpc_status.h"

#include <gtest/gtest.h>

#include <string>

#include "google/rpc/status.pb.h"
#include "server/common/status.h"

namespace fivetran_gateway {
namespace {

TEST(ToGrpcStatusTest, ErrorInfoIsAlwaysThere) {
  grpc::Status s = ToGrpcStatus(absl::InvalidArgumentError("bad"));
  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(s.error_details()));
  ASSERT_GE(rpc.details_size(), 1);
  EXPECT_EQ(rpc.details(0).type_url(), kErrorInfoUrl);
}

// Issue 11 E: whatever a message quotes, it reaches the caller as one
// bounded line.
TEST(ToGrpcStatusTest, MessageIsOneBoundedLine) {
  const std::string quoted = "id \"x\nFORGED\" " + std::string(1 << 20, 'z');
  grpc::Status s =
      ToGrpcStatus(MakeError(absl::StatusCode::kInvalidArgument, quoted, "INVALID_FIELD", {}));
  EXPECT_EQ(s.error_message().find('\n'), std::string::npos);
  EXPECT_EQ(s.error_message().rfind("id \"x\\nFORGED\" zzz", 0), 0u) << s.error_message();
  EXPECT_EQ(s.error_message().size(), kMaxStatusMessage + 3);
  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(s.error_details()));
  EXPECT_EQ(rpc.message(), s.error_message());
}

}  // namespace
}  // namespace fivetran_gateway
