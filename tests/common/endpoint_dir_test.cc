#include "common/endpoint_dir.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <string>
#include <system_error>

#include "tests/support/temp_dir.h"

namespace sandtrace {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

class EndpointDirTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }
  void TearDown() override {
    const std::error_code error = dir_.Remove();
    EXPECT_FALSE(error) << error.message();
  }

  // A run directory as the wrapper makes one: mkdtemp's name, a socket-like file and a config.
  std::string MakeRunDirectory(const std::string& name, time_t age_s) {
    const std::string path = base() + "/" + name;
    EXPECT_EQ(mkdir(path.c_str(), 0700), 0);
    for (const char* entry : {"/raw", "/sandbox"}) {
      const int fd = open((path + entry).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      EXPECT_GE(fd, 0);
      close(fd);
    }
    Age(path, age_s);
    return path;
  }
  static void Age(const std::string& path, time_t age_s) {
    const timespec when[2] = {{time(nullptr) - age_s, 0}, {time(nullptr) - age_s, 0}};
    EXPECT_EQ(utimensat(AT_FDCWD, path.c_str(), when, AT_SYMLINK_NOFOLLOW), 0);
  }

  const std::string& base() const { return dir_.path(); }

  test_support::TempDir dir_{"/tmp/st-endpoint-dir-test-XXXXXX"};
};

TEST_F(EndpointDirTest, RemovesAnOldUnlockedRunDirectoryWithItsEntries) {
  const std::string left = MakeRunDirectory("sandtrace-AbC123", 3600);
  EXPECT_EQ(RemoveAbandonedEndpointDirectories(base(), "sandtrace-", 60), 1);
  EXPECT_FALSE(Exists(left));
}

TEST_F(EndpointDirTest, KeepsADirectoryItsOwnerHoldsLocked) {
  const std::string live = MakeRunDirectory("sandtrace-live01", 3600);
  const int lock = LockEndpointDirectory(live);
  ASSERT_GE(lock, 0);
  // A second lock on it fails while the first is held, as another run's would.
  EXPECT_EQ(LockEndpointDirectory(live), -1);
  EXPECT_EQ(RemoveAbandonedEndpointDirectories(base(), "sandtrace-", 60), 0);
  EXPECT_TRUE(Exists(live + "/raw"));
  close(lock);
  EXPECT_EQ(RemoveAbandonedEndpointDirectories(base(), "sandtrace-", 60), 1);
  EXPECT_FALSE(Exists(live));
}

// The lock is the process's, not the directory's: when the owner dies (here a child killed with
// SIGKILL), the kernel drops it and the directory counts as abandoned.
TEST_F(EndpointDirTest, AKilledOwnersLockIsGone) {
  const std::string left = MakeRunDirectory("sandtrace-kill01", 3600);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const bool locked = LockEndpointDirectory(left) >= 0;
    (void)!write(ready[1], locked ? "y" : "n", 1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char answer = 0;
  ASSERT_EQ(read(ready[0], &answer, 1), 1);
  close(ready[0]);
  ASSERT_EQ(answer, 'y');
  EXPECT_EQ(RemoveAbandonedEndpointDirectories(base(), "sandtrace-", 60), 0);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_EQ(RemoveAbandonedEndpointDirectories(base(), "sandtrace-", 60), 1);
  EXPECT_FALSE(Exists(left));
}

// A directory changed in the last min_age_s seconds may belong to a run between its mkdtemp and
// its lock.
TEST_F(EndpointDirTest, KeepsARecentDirectory) {
  const std::string fresh = MakeRunDirectory("sandtrace-new001", 5);
  EXPECT_EQ(RemoveAbandonedEndpointDirectories(base(), "sandtrace-", 60), 0);
  EXPECT_TRUE(Exists(fresh + "/sandbox"));
}

TEST_F(EndpointDirTest, LeavesWhatIsNotARunDirectory) {
  const std::string other_name = MakeRunDirectory("sandtrace-toolong1", 3600);
  const std::string short_name = MakeRunDirectory("sandtrace-abc", 3600);
  const std::string other_prefix = MakeRunDirectory("st-replay.abcdef", 3600);
  const std::string file = base() + "/sandtrace-file01";
  const int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  close(fd);
  Age(file, 3600);
  // A symbolic link with a run directory's name: not followed, its target untouched.
  const std::string target = MakeRunDirectory("target", 3600);
  ASSERT_EQ(symlink(target.c_str(), (base() + "/sandtrace-link01").c_str()), 0);
  EXPECT_EQ(RemoveAbandonedEndpointDirectories(base(), "sandtrace-", 60), 0);
  for (const std::string& kept : {other_name, short_name, other_prefix, file, target + "/raw",
                                  base() + "/sandtrace-link01"}) {
    EXPECT_TRUE(Exists(kept)) << kept;
  }
}

// Another user's directory (here root's run directory handed to uid 65534) is never touched.
TEST_F(EndpointDirTest, LeavesAnotherUsersDirectory) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to make a directory owned by another user";
  const std::string theirs = MakeRunDirectory("sandtrace-their1", 3600);
  ASSERT_EQ(chown(theirs.c_str(), 65534, 65534), 0);
  EXPECT_EQ(RemoveAbandonedEndpointDirectories(base(), "sandtrace-", 60), 0);
  EXPECT_TRUE(Exists(theirs + "/raw"));
}

TEST_F(EndpointDirTest, AMissingBaseRemovesNothing) {
  EXPECT_EQ(RemoveAbandonedEndpointDirectories(base() + "/nowhere", "sandtrace-", 60), 0);
}

}  // namespace
}  // namespace sandtrace
