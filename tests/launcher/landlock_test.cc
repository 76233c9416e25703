// Layer 6 (Landlock) on the real kernel. Each case prepares a ruleset in the test process,
// forks, enforces it in the child (after PR_SET_NO_NEW_PRIVS, as layer 5 does), runs a probe
// there and reports one line of outcomes ("ok" or the errno name) over a pipe. Host-side facts
// (files unchanged, no connection made) are checked in the parent.
#include "launcher/landlock.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace sandtrace::launcher {
namespace {

namespace fs = std::filesystem;

// "ok" when the call succeeded, else the errno's name ("EACCES").
std::string Outcome(long rc) {
  if (rc >= 0) return "ok";
  const char* name = strerrorname_np(errno);
  return name ? name : std::to_string(errno);
}

// Collects "label=outcome" pairs in the order the calls are made (one statement per call:
// the operands of a chained operator+ are evaluated in unspecified order).
class Report {
 public:
  void Add(const char* label, long rc) { Add(label, Outcome(rc)); }
  void Add(const char* label, const std::string& outcome) {
    if (!text_.empty()) text_ += ' ';
    text_ += std::string(label) + "=" + outcome;
  }
  std::string text() const { return text_; }

 private:
  std::string text_;
};

// Runs `binary` in a grandchild; "ok" on exit 0, the execve errno's name otherwise.
std::string Exec(const std::string& binary) {
  pid_t pid = fork();
  if (pid == 0) {
    char* argv[] = {const_cast<char*>(binary.c_str()), nullptr};
    execve(binary.c_str(), argv, environ);
    _exit(100 + errno);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return "fork/wait failed";
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "ok";
  if (WIFEXITED(status) && WEXITSTATUS(status) >= 100) {
    errno = WEXITSTATUS(status) - 100;
    return Outcome(-1);
  }
  return "status " + std::to_string(status);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
}

// Prepares `rules`, forks, runs `before` unrestricted, enforces, runs `probe`; returns what
// the probe reported, or what went wrong on the way.
std::string RunConfined(const LandlockRules& rules, const std::function<void()>& before,
                        const std::function<std::string()>& probe) {
  Result<PreparedLandlock> prepared = PrepareLandlock(rules);
  if (!prepared) return "prepare: " + prepared.error().message();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return "pipe2 failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string report;
    before();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      report = "prctl: " + Outcome(-1);
    } else if (int error = EnforceLandlockErrno(*prepared); error != 0) {
      report = std::string("enforce: ") + strerrorname_np(error);
    } else {
      report = probe();
    }
    ssize_t ignored = write(fds[1], report.data(), report.size());
    (void)ignored;
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  char buffer[512];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof buffer)) > 0) report.append(buffer, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    report += " (child status " + std::to_string(status) + ")";
  return report;
}

std::string RunConfined(const LandlockRules& rules, const std::function<std::string()>& probe) {
  return RunConfined(
      rules, [] {}, probe);
}

// Fixture tree under /tmp: ro/ (read rule), rw/ (read_write rule), denied/ (no rule).
class LandlockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(LandlockAbi(), 1) << "this kernel has no Landlock";
    ASSERT_TRUE(temp_.ok());
    for (const char* dir : {"ro", "rw", "rw/sub", "denied", "denied/dir"}) {
      fs::create_directory(P(dir));
    }
    WriteFile(P("ro/file"), "ro-content");
    WriteFile(P("rw/file"), "rw-content");
    WriteFile(P("denied/secret"), "secret");
    fs::create_symlink(P("denied/secret"), P("ro/link_to_secret"));
    fs::create_symlink(P("denied"), P("ro/link_to_denied"));
    fs::copy_file("/usr/bin/true", P("ro/true"));
    fs::copy_file("/usr/bin/true", P("denied/true"));
    chmod(P("ro/true").c_str(), 0755);
    chmod(P("denied/true").c_str(), 0755);
  }
  std::string P(const std::string& rel) const { return temp_.File(rel); }

  // read on ro/, read_write on rw/, and the system dirs needed to run a dynamic binary.
  LandlockRules Rules() const {
    LandlockRules rules;
    rules.read = {P("ro")};
    rules.read_write = {P("rw")};
    rules.exec = {"/usr", "/bin", "/lib", "/lib64", "/lib32", "/libx32"};
    rules.optional = {"/bin", "/lib", "/lib64", "/lib32", "/libx32"};
    return rules;
  }

  test_support::TempDir temp_{"/tmp/sandtrace-landlock.XXXXXX"};
};

TEST_F(LandlockTest, ReadRuleAllowsReadingOnly) {
  std::string report = RunConfined(Rules(), [&] {
    Report r;
    r.Add("read", open(P("ro/file").c_str(), O_RDONLY));
    r.Add("list", open(P("ro").c_str(), O_RDONLY | O_DIRECTORY));
    r.Add("write", open(P("ro/file").c_str(), O_WRONLY));
    r.Add("create", open(P("ro/new").c_str(), O_WRONLY | O_CREAT, 0644));
    r.Add("truncate", truncate(P("ro/file").c_str(), 0));
    r.Add("unlink", unlink(P("ro/file").c_str()));
    r.Add("mkdir", mkdir(P("ro/d").c_str(), 0755));
    return r.text();
  });
  EXPECT_EQ(report,
            "read=ok list=ok write=EACCES create=EACCES truncate=EACCES unlink=EACCES "
            "mkdir=EACCES");
  EXPECT_EQ(ReadAll(P("ro/file")), "ro-content");
  EXPECT_FALSE(fs::exists(P("ro/new")));
  EXPECT_FALSE(fs::exists(P("ro/d")));
}

TEST_F(LandlockTest, ReadWriteRuleAllowsChangesWithin) {
  std::string report = RunConfined(Rules(), [&] {
    Report r;
    int fd = open(P("rw/new").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    r.Add("create", fd);
    r.Add("write", write(fd, "new", 3));
    close(fd);
    r.Add("append", open(P("rw/file").c_str(), O_WRONLY | O_APPEND));
    r.Add("truncate", truncate(P("rw/file").c_str(), 2));
    r.Add("rename", rename(P("rw/new").c_str(), P("rw/renamed").c_str()));
    r.Add("into_subdir", rename(P("rw/renamed").c_str(), P("rw/sub/moved").c_str()));
    r.Add("mkdir", mkdir(P("rw/dir").c_str(), 0755));
    r.Add("rmdir", rmdir(P("rw/dir").c_str()));
    r.Add("symlink", symlink("file", P("rw/link").c_str()));
    r.Add("fifo", mkfifo(P("rw/fifo").c_str(), 0644));
    r.Add("link", link(P("rw/file").c_str(), P("rw/sub/hard").c_str()));
    r.Add("unlink", unlink(P("rw/sub/hard").c_str()));
    r.Add("chardev", mknod(P("rw/null").c_str(), S_IFCHR | 0666, makedev(1, 3)));
    return r.text();
  });
  EXPECT_EQ(report,
            "create=ok write=ok append=ok truncate=ok rename=ok into_subdir=ok mkdir=ok "
            "rmdir=ok symlink=ok fifo=ok link=ok unlink=ok chardev=EACCES");
  EXPECT_EQ(ReadAll(P("rw/sub/moved")), "new");
  EXPECT_EQ(ReadAll(P("rw/file")), "rw");
  EXPECT_FALSE(fs::exists(P("rw/null")));
}

TEST_F(LandlockTest, PathsOutsideEveryRuleAreDenied) {
  std::string report = RunConfined(Rules(), [&] {
    Report r;
    r.Add("secret", open(P("denied/secret").c_str(), O_RDONLY));
    r.Add("list", open(P("denied").c_str(), O_RDONLY | O_DIRECTORY));
    r.Add("passwd", open("/etc/passwd", O_RDONLY));
    r.Add("create", open(P("denied/new").c_str(), O_WRONLY | O_CREAT, 0644));
    return r.text();
  });
  EXPECT_EQ(report, "secret=EACCES list=EACCES passwd=EACCES create=EACCES");
  EXPECT_FALSE(fs::exists(P("denied/new")));
}

TEST_F(LandlockTest, ExecNeedsAnExecRule) {
  LandlockRules rules = Rules();
  rules.exec.push_back(P("denied/true"));  // a single file, like the command's own executable
  std::string report = RunConfined(rules, [&] {
    Report r;
    r.Add("system", Exec("/bin/true"));
    r.Add("read_only_dir", Exec(P("ro/true")));
    r.Add("exec_file_rule", Exec(P("denied/true")));
    return r.text();
  });
  EXPECT_EQ(report, "system=ok read_only_dir=EACCES exec_file_rule=ok");
}

TEST_F(LandlockTest, SymlinksDoNotLeadOut) {
  std::string report = RunConfined(Rules(), [&] {
    Report r;
    r.Add("file_link", open(P("ro/link_to_secret").c_str(), O_RDONLY));
    r.Add("dir_link", open(P("ro/link_to_denied/secret").c_str(), O_RDONLY));
    r.Add("new_link", symlink(P("denied/secret").c_str(), P("rw/mine").c_str()));
    r.Add("via_new_link", open(P("rw/mine").c_str(), O_RDONLY));
    return r.text();
  });
  EXPECT_EQ(report, "file_link=EACCES dir_link=EACCES new_link=ok via_new_link=EACCES");
}

TEST_F(LandlockTest, LinksAndRenamesDoNotCrossIntoDeniedDirs) {
  std::string report = RunConfined(Rules(), [&] {
    const std::string file = P("rw/file"), secret = P("denied/secret");
    Report r;
    r.Add("link_out", link(file.c_str(), P("denied/file").c_str()));
    r.Add("link_in", link(secret.c_str(), P("rw/secret").c_str()));
    r.Add("rename_out", rename(file.c_str(), P("denied/file").c_str()));
    r.Add("rename_in", rename(secret.c_str(), P("rw/secret").c_str()));
    r.Add("exchange", renameat2(AT_FDCWD, file.c_str(), AT_FDCWD, secret.c_str(), RENAME_EXCHANGE));
    r.Add("exchange_dir", renameat2(AT_FDCWD, P("rw/sub").c_str(), AT_FDCWD,
                                    P("denied/dir").c_str(), RENAME_EXCHANGE));
    r.Add("ro_to_rw", rename(P("ro/file").c_str(), P("rw/stolen").c_str()));
    return r.text();
  });
  // link_in: rw/ grants MAKE_REG and REFER, but the link would give the file more rights
  // than it has where it lives, which Landlock refuses with EXDEV. Everything else lacks a
  // right on one side (MAKE_* or REMOVE_*), and EACCES takes precedence.
  EXPECT_EQ(report,
            "link_out=EACCES link_in=EXDEV rename_out=EACCES rename_in=EACCES "
            "exchange=EACCES exchange_dir=EACCES ro_to_rw=EACCES");
  EXPECT_EQ(ReadAll(P("denied/secret")), "secret");
  EXPECT_EQ(ReadAll(P("rw/file")), "rw-content");
  EXPECT_FALSE(fs::exists(P("denied/file")));
  EXPECT_FALSE(fs::exists(P("rw/secret")));
  EXPECT_TRUE(fs::exists(P("ro/file")));
}

// Documented Landlock semantics: rights bind at open(), so the caller must close or avoid
// every fd it does not mean to hand to the command.
TEST_F(LandlockTest, FdsOpenedBeforeKeepTheirAccess) {
  int file_fd = -1, dir_fd = -1;
  std::string report = RunConfined(
      Rules(),
      [&] {
        file_fd = open(P("denied/secret").c_str(), O_RDONLY);
        dir_fd = open(P("denied").c_str(), O_RDONLY | O_DIRECTORY);
      },
      [&] {
        char buffer[16] = {};
        Report r;
        r.Add("old_fd_read", read(file_fd, buffer, sizeof buffer - 1));
        r.Add("content", buffer);
        r.Add("reopen", open(P("denied/secret").c_str(), O_RDONLY));
        r.Add("openat_old_dirfd", openat(dir_fd, "secret", O_RDONLY));
        return r.text();
      });
  EXPECT_EQ(report, "old_fd_read=ok content=secret reopen=EACCES openat_old_dirfd=EACCES");
}

TEST_F(LandlockTest, EmptyRulesDenyTheWholeFilesystem) {
  LandlockRules rules;
  std::string report = RunConfined(rules, [&] {
    Report r;
    r.Add("root", open("/", O_RDONLY | O_DIRECTORY));
    r.Add("passwd", open("/etc/passwd", O_RDONLY));
    r.Add("tmp", open(P("rw/x").c_str(), O_WRONLY | O_CREAT, 0644));
    return r.text();
  });
  EXPECT_EQ(report, "root=EACCES passwd=EACCES tmp=EACCES");
}

TEST_F(LandlockTest, FileRulesGetOnlyFileRights) {
  LandlockRules rules;
  rules.read_write = {P("rw/file")};  // a directory right on a file would be EINVAL
  std::string report = RunConfined(rules, [&] {
    Report r;
    r.Add("write", open(P("rw/file").c_str(), O_WRONLY | O_TRUNC));
    r.Add("sibling", open(P("rw/new").c_str(), O_WRONLY | O_CREAT, 0644));
    return r.text();
  });
  EXPECT_EQ(report, "write=ok sibling=EACCES");
}

TEST_F(LandlockTest, SignalsToProcessesOutsideAreDenied) {
  auto probe = [] {
    pid_t inside = fork();
    if (inside == 0) {
      pause();
      _exit(0);
    }
    Report r;
    r.Add("parent", kill(getppid(), 0));
    r.Add("parent_sigcont", kill(getppid(), SIGCONT));
    r.Add("inside", kill(inside, SIGKILL));
    waitpid(inside, nullptr, 0);
    return r.text();
  };
  EXPECT_EQ(RunConfined(Rules(), probe), "parent=EPERM parent_sigcont=EPERM inside=ok");
  LandlockRules unscoped = Rules();
  unscoped.scope_signals = false;
  EXPECT_EQ(RunConfined(unscoped, probe), "parent=ok parent_sigcont=ok inside=ok");
}

TEST_F(LandlockTest, AbstractSocketsOutsideAreUnreachable) {
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::string name = "sandtrace-landlock-test-" + std::to_string(getpid());
  memcpy(addr.sun_path + 1, name.data(), name.size());
  socklen_t len = offsetof(sockaddr_un, sun_path) + 1 + name.size();
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  auto probe = [&] {
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    Report r;
    r.Add("connect", connect(s, reinterpret_cast<sockaddr*>(&addr), len));
    return r.text();
  };
  EXPECT_EQ(RunConfined(Rules(), probe), "connect=EPERM");
  EXPECT_LT(accept(listener, nullptr, nullptr), 0) << "the host listener got a connection";
  EXPECT_EQ(errno, EAGAIN);

  LandlockRules unscoped = Rules();
  unscoped.scope_abstract_unix = false;
  EXPECT_EQ(RunConfined(unscoped, probe), "connect=ok");
  close(listener);
}

TEST_F(LandlockTest, MissingPathIsAnErrorNamingIt) {
  LandlockRules rules = Rules();
  rules.read.push_back(P("does-not-exist"));
  Result<PreparedLandlock> prepared = PrepareLandlock(rules);
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.error().code, ENOENT);
  EXPECT_NE(prepared.error().message().find("layer 6 (landlock)"), std::string::npos);
  EXPECT_NE(prepared.error().message().find(P("does-not-exist")), std::string::npos)
      << prepared.error().message();
}

TEST_F(LandlockTest, MissingOptionalPathIsSkippedAndDescribed) {
  LandlockRules rules = Rules();
  rules.read.push_back(P("does-not-exist"));
  rules.optional.push_back(P("does-not-exist"));
  Result<PreparedLandlock> prepared = PrepareLandlock(rules);
  ASSERT_TRUE(prepared.ok()) << prepared.error().message();
  ASSERT_FALSE(prepared->skipped().empty());
  EXPECT_NE(std::find(prepared->skipped().begin(), prepared->skipped().end(), P("does-not-exist")),
            prepared->skipped().end());
  std::string description = Describe(*prepared);
  EXPECT_EQ(description.rfind("ABI " + std::to_string(LandlockAbi()) + "; ", 0), 0u) << description;
  EXPECT_NE(description.find("signals and abstract unix sockets scoped"), std::string::npos)
      << description;
  EXPECT_NE(description.find(P("does-not-exist")), std::string::npos) << description;
}

}  // namespace
}  // namespace sandtrace::launcher
