// The checks on admin request bodies (ParseAdminBody), the one function
// the failover and backup routes parse their bodies with (issue #9).

#include <gtest/gtest.h>

#include <string>

#include "exporter/admin_routes.h"

namespace cpha {
namespace {

struct BodyCase {
  AdminBodyKind kind;
  std::string body;
  std::string expected_error;  // empty: accepted
};

TEST(AdminBodyTest, AcceptsWhatEachRouteNeedsAndRefusesTheRest) {
  const std::string ok = R"("operator":"op","reason":"why")";
  const BodyCase cases[] = {
      {AdminBodyKind::kFailover, "{" + ok + "}", ""},
      {AdminBodyKind::kFailover, "operator=op", "JSON object"},
      {AdminBodyKind::kFailover, "[1,2]", "JSON object"},
      {AdminBodyKind::kFailover, "", "JSON object"},
      {AdminBodyKind::kFailover, R"({"reason":"r"})", "\"operator\""},
      {AdminBodyKind::kFailover, R"({"operator":7,"reason":"r"})",
       "\"operator\""},
      {AdminBodyKind::kFailover, R"({"operator":"o","reason":""})",
       "\"reason\""},
      {AdminBodyKind::kFailover,
       R"({"operator":"o","reason":")" + std::string(201, 'x') + "\"}",
       "longer than 200"},
      {AdminBodyKind::kFailover, R"({"operator":"o\nx","reason":"r"})",
       "control characters"},
      {AdminBodyKind::kBackupCreate, "{" + ok + R"(,"backup_id":"b1"})", ""},
      {AdminBodyKind::kBackupCreate, "{" + ok + "}", "\"backup_id\""},
      {AdminBodyKind::kBackupCreate, "{" + ok + R"(,"backup_id":"../x"})",
       "\"backup_id\""},
      {AdminBodyKind::kBackupCreate,
       "{" + ok + R"(,"backup_id":"b1","output_dir":5})", "\"output_dir\""},
      {AdminBodyKind::kBackupRestore, "{" + ok + R"(,"backup_id":"b1"})",
       "confirm"},
      {AdminBodyKind::kBackupRestore,
       "{" + ok + R"(,"backup_id":"b1","confirm":"yes"})", "confirm"},
      {AdminBodyKind::kBackupRestore,
       "{" + ok + R"(,"backup_id":"b1","confirm":true})", ""},
  };
  for (const BodyCase& input : cases) {
    StatusOr<AdminBody> parsed = ParseAdminBody(input.body, input.kind);
    if (input.expected_error.empty()) {
      EXPECT_TRUE(parsed.ok()) << "body: " << input.body
                               << " refused: " << parsed.status().message();
      continue;
    }
    ASSERT_FALSE(parsed.ok()) << "accepted body: " << input.body;
    EXPECT_NE(parsed.status().message().find(input.expected_error),
              std::string::npos)
        << "body: " << input.body << " message: " << parsed.status().message();
  }
}

TEST(AdminBodyTest, ReadsTheFieldsOfABackupRequest) {
  StatusOr<AdminBody> parsed = ParseAdminBody(
      R"({"operator":"alice","reason":"PR-13","backup_id":"b-1",)"
      R"("output_dir":"/var/backups"})",
      AdminBodyKind::kBackupCreate);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->operator_name, "alice");
  EXPECT_EQ(parsed->reason, "PR-13");
  EXPECT_EQ(parsed->backup_id, "b-1");
  EXPECT_EQ(parsed->output_dir, "/var/backups");
}

TEST(AdminBodyTest, RefusalsNeverRepeatTheBody) {
  for (const std::string& body :
       {std::string(R"({"operator":"Hunter2pw"})"),
        std::string(R"({"operator":"o","reason":"r","backup_id":"Hunter2/"})"),
        std::string("Hunter2pw")}) {
    StatusOr<AdminBody> parsed =
        ParseAdminBody(body, AdminBodyKind::kBackupCreate);
    ASSERT_FALSE(parsed.ok()) << "accepted body: " << body;
    EXPECT_EQ(parsed.status().message().find("Hunter2"), std::string::npos)
        << "body: " << body << " message: " << parsed.status().message();
  }
}

}  // namespace
}  // namespace cpha
