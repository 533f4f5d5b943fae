// The HTTP server's strict path decoding (DecodeRequestPath), which every
// request passes before routing (issue #9).

#include <gtest/gtest.h>

#include <string>

#include "exporter/http_server.h"

namespace cpha {
namespace {

TEST(RequestPathTest, DecodesEscapesAndRefusesBadOnesAndNul) {
  struct Case {
    std::string raw;
    bool ok;
    std::string decoded;
  };
  const Case cases[] = {
      {"/v1/health/read-ready", true, "/v1/health/read-ready"},
      {"/v1/health/%72ead-ready", true, "/v1/health/read-ready"},
      {"/..%2f..%2fetc", true, "/../../etc"},
      {"/a%25zz", true, "/a%zz"},
      {"", true, ""},
      {"/x%zz", false, ""},
      {"/x%", false, ""},
      {"/x%4", false, ""},
      {"/metrics%00.txt", false, ""},
      {std::string("/a\0b", 4), false, ""},
  };
  for (const Case& input : cases) {
    StatusOr<std::string> path = DecodeRequestPath(input.raw);
    ASSERT_EQ(path.ok(), input.ok) << "path: " << input.raw;
    if (!input.ok) continue;
    EXPECT_EQ(path.value(), input.decoded) << "path: " << input.raw;
  }
}

}  // namespace
}  // namespace cpha
