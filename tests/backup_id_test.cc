// The checks on backup ids and output directories that keep a backup
// request inside the directory it names (issue #4).

#include <gtest/gtest.h>

#include <string>

#include "ha/backup.h"

namespace cpha {
namespace {

TEST(BackupIdTest, AcceptsOnlySafeNames) {
  struct Case {
    std::string id;
    bool safe;
  };
  const Case cases[] = {
      {"backup-pr13-local", true},
      {"a.b_c-1", true},
      {std::string(100, 'x'), true},
      {std::string(101, 'x'), false},
      {"", false},
      {".", false},
      {"..", false},
      {"a..b", false},
      {"a/b", false},
      {"/etc", false},
      {std::string("a\0b", 3), false},
      {"a b", false},
      {"a\\b", false},
      {"caf\xc3\xa9", false},
  };
  for (const Case& input : cases) {
    EXPECT_EQ(IsSafeBackupId(input.id), input.safe) << "id: " << input.id;
  }
}

TEST(BackupIdTest, OutputDirMustBeAbsoluteWithoutParentSteps) {
  EXPECT_EQ(OutputDirProblem("/tmp/pr13-backups"), "");
  EXPECT_EQ(OutputDirProblem("/"), "");
  EXPECT_NE(OutputDirProblem("tmp/x"), "");
  EXPECT_NE(OutputDirProblem(""), "");
  EXPECT_NE(OutputDirProblem("/tmp/../etc"), "");
  EXPECT_NE(OutputDirProblem(std::string("/tmp/\0x", 7)), "");
}

}  // namespace
}  // namespace cpha
