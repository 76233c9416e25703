// Layer 2's enforcing view on the real kernel. Each case forks a child that builds the launch
// chain's first steps (new user namespace + id maps, new mount namespace, private propagation)
// and ApplyMountView, runs a probe there and reports one line of outcomes ("ok" or the errno
// name) over a pipe (tests/launcher/mount_view_probe.h). Host-side facts (files unchanged or
// created, mounts not leaked) are checked in the parent. Runs as root and as an unprivileged user.
#include "launcher/mount_view.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <string>

#include "launcher/namespaces.h"
#include "tests/launcher/mount_view_probe.h"
#include "tests/support/temp_dir.h"

namespace sandtrace::launcher {
namespace {

namespace fs = std::filesystem;
using namespace view_probe;

// Host fixture under /var/tmp (not hidden by the private /tmp): ro/ (not in the plan), rw/
// (read_write) with rw/.env (masked) and rw/decoy, secret.txt and secret_dir/ (masked).
class MountViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(temp_.ok());
    for (const char* dir : {"ro", "rw", "rw/sub", "secret_dir"}) fs::create_directory(P(dir));
    WriteFile(P("ro/file"), "ro-content");
    WriteFile(P("rw/.env"), "TOKEN=1");
    WriteFile(P("rw/decoy"), "decoy");
    WriteFile(P("secret.txt"), "secret");
    WriteFile(P("secret_dir/key"), "key");
  }
  std::string P(const std::string& rel) const { return temp_.File(rel); }

  MountPlan Plan() const {
    MountPlan plan;
    plan.read_write = {P("rw")};
    plan.masked = {P("rw/.env"), P("secret.txt"), P("secret_dir"), P("does-not-exist")};
    return plan;
  }

  test_support::TempDir temp_{"/var/tmp/sandtrace-mv.XXXXXX"};
};

TEST_F(MountViewTest, HostTreeIsReadOnly) {
  std::string report = RunInView(Plan(), [&] {
    Report r;
    r.Add("create", Create(P("ro/new")));
    r.Add("write", open(P("ro/file").c_str(), O_WRONLY));
    r.Add("mkdir", mkdir(P("ro/d").c_str(), 0755));
    r.Add("unlink", unlink(P("ro/file").c_str()));
    r.Add("root", Flags("/"));
    r.Add("usr", Flags("/usr"));
    r.Add("sys", Flags("/sys"));
    r.Add("read", ReadAll(P("ro/file")));
    return r.text();
  });
  EXPECT_EQ(report,
            "create=EROFS write=EROFS mkdir=EROFS unlink=EROFS root=ro,nosuid,nodev "
            "usr=ro,nosuid,nodev sys=ro,nosuid,nodev read=ro-content");
  EXPECT_FALSE(fs::exists(P("ro/new")));
  EXPECT_FALSE(fs::exists(P("ro/d")));
  EXPECT_EQ(ReadAll(P("ro/file")), "ro-content");
}

TEST_F(MountViewTest, ReadWritePathReachesTheHost) {
  std::string report = RunInView(Plan(), [&] {
    Report r;
    r.Add("create", Create(P("rw/out.txt"), "hello"));
    r.Add("mkdir", mkdir(P("rw/sub/d").c_str(), 0755));
    r.Add("flags", Flags(P("rw").c_str()));
    r.Add("outside", Create(P("ro/out.txt")));
    return r.text();
  });
  EXPECT_EQ(report, "create=ok mkdir=ok flags=rw,nosuid,nodev outside=EROFS");
  EXPECT_EQ(ReadAll(P("rw/out.txt")), "hello");
  EXPECT_TRUE(fs::is_directory(P("rw/sub/d")));
  EXPECT_FALSE(fs::exists(P("ro/out.txt")));
}

TEST_F(MountViewTest, PrivateTmpRunAndShmAreEmptyAndStayInside) {
  const std::string host_marker = "/tmp/sandtrace-mv-host-" + std::to_string(getpid());
  WriteFile(host_marker, "host");
  const std::string inside = "/tmp/sandtrace-mv-inside-" + std::to_string(getpid());
  std::string report = RunInView(Plan(), [&] {
    Report r;
    r.Add("tmp", List("/tmp"));
    r.Add("run", List("/run"));
    r.Add("shm", List("/dev/shm"));
    r.Add("write_tmp", Create(inside));
    r.Add("write_shm", Create("/dev/shm/x"));
    r.Add("tmp_flags", Flags("/tmp"));
    return r.text();
  });
  fs::remove(host_marker);
  EXPECT_EQ(report,
            "tmp=(empty) run=(empty) shm=(empty) write_tmp=ok write_shm=ok "
            "tmp_flags=rw,nosuid,nodev");
  EXPECT_FALSE(fs::exists(inside));
}

TEST_F(MountViewTest, MasksHideFilesAndDirectoriesEvenInsideWritablePaths) {
  std::string report = RunInView(Plan(), [&] {
    Report r;
    r.Add("env_read", open(P("rw/.env").c_str(), O_RDONLY));
    r.Add("env_write", open(P("rw/.env").c_str(), O_WRONLY | O_TRUNC));
    r.Add("env_unlink", unlink(P("rw/.env").c_str()));
    r.Add("env_rename_over", rename(P("rw/decoy").c_str(), P("rw/.env").c_str()));
    r.Add("env_rename_away", rename(P("rw/.env").c_str(), P("rw/moved").c_str()));
    r.Add("env_exchange", renameat2(AT_FDCWD, P("rw/decoy").c_str(), AT_FDCWD, P("rw/.env").c_str(),
                                    RENAME_EXCHANGE));
    r.Add("env_link", link(P("rw/.env").c_str(), P("rw/hard").c_str()));
    r.Add("env_symlink", symlink(P("rw/.env").c_str(), P("rw/soft").c_str()));
    r.Add("env_via_symlink", open(P("rw/soft").c_str(), O_RDONLY));
    r.Add("file_read", open(P("secret.txt").c_str(), O_RDONLY));
    r.Add("dir_list", List(P("secret_dir")));
    r.Add("dir_key", open(P("secret_dir/key").c_str(), O_RDONLY));
    r.Add("dir_create", Create(P("secret_dir/new")));
    return r.text();
  });
  EXPECT_EQ(report,
            "env_read=EACCES env_write=EACCES env_unlink=EBUSY env_rename_over=EBUSY "
            "env_rename_away=EBUSY env_exchange=EBUSY env_link=EXDEV env_symlink=ok "
            "env_via_symlink=EACCES "
            "file_read=EACCES dir_list=(empty) dir_key=ENOENT dir_create=EROFS");
  EXPECT_EQ(ReadAll(P("rw/.env")), "TOKEN=1");
  EXPECT_EQ(ReadAll(P("secret_dir/key")), "key");
  EXPECT_EQ(ReadAll(P("rw/decoy")), "decoy");
  EXPECT_FALSE(fs::exists(P("rw/hard")));
}

TEST_F(MountViewTest, MaskedSymlinkMasksItsTarget) {
  fs::create_symlink(P("ro/file"), P("ro/link"));
  MountPlan plan = Plan();
  plan.masked.push_back(P("ro/link"));
  std::string report = RunInView(plan, [&] {
    Report r;
    r.Add("target", open(P("ro/file").c_str(), O_RDONLY));
    r.Add("link", open(P("ro/link").c_str(), O_RDONLY));
    return r.text();
  });
  EXPECT_EQ(report, "target=EACCES link=EACCES");
}

TEST_F(MountViewTest, DevHoldsOnlyTheMinimalNodes) {
  std::string report = RunInView(Plan(), [&] {
    Report r;
    r.Add("dev", List("/dev"));
    int fd = open("/dev/null", O_RDWR);
    r.Add("null_write", write(fd, "x", 1));
    char buf[16];
    r.Add("null_read", std::to_string(read(fd, buf, sizeof buf)));
    close(fd);
    fd = open("/dev/zero", O_RDONLY);
    memset(buf, 1, sizeof buf);
    const bool zeros = read(fd, buf, sizeof buf) == 16 && buf[0] == 0 && buf[15] == 0;
    r.Add("zero", zeros ? "zeros" : "bad");
    close(fd);
    fd = open("/dev/urandom", O_RDONLY);
    r.Add("urandom", std::to_string(read(fd, buf, sizeof buf)));
    close(fd);
    fd = open("/dev/full", O_WRONLY);
    r.Add("full", write(fd, "x", 1));
    close(fd);
    fd = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    r.Add("ptmx", fd);
    r.Add("pts", fd >= 0 && ptsname(fd) != nullptr ? Outcome(access(ptsname(fd), F_OK)) : "none");
    close(fd);
    for (const char* missing : {"/dev/kmsg", "/dev/mem", "/dev/fuse", "/dev/kvm"})
      r.Add(missing, open(missing, O_RDONLY));
    r.Add("create", Create("/dev/new"));
    r.Add("mknod", mknod("/dev/sda", S_IFBLK | 0600, makedev(8, 0)));
    r.Add("chmod_null", chmod("/dev/null", 0600));
    r.Add("flags", Flags("/dev"));
    return r.text();
  });
  EXPECT_EQ(report,
            "dev=fd,full,null,ptmx,pts,random,shm,stderr,stdin,stdout,tty,urandom,zero "
            "null_write=ok null_read=0 zero=zeros urandom=16 full=ENOSPC ptmx=ok pts=ok "
            "/dev/kmsg=ENOENT /dev/mem=ENOENT /dev/fuse=ENOENT /dev/kvm=ENOENT create=EROFS "
            "mknod=EROFS chmod_null=EROFS flags=ro,nosuid,nodev");
  struct stat st;
  ASSERT_EQ(stat("/dev/null", &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0666u);
}

TEST_F(MountViewTest, CgroupsAreHidden) {
  std::string report = RunInView(Plan(), [&] {
    Report r;
    r.Add("cgroup", List("/sys/fs/cgroup"));
    r.Add("sys_write", open("/sys/kernel/mm/transparent_hugepage/enabled", O_WRONLY));
    return r.text();
  });
  // Unprivileged, the permission check (root-owned 0644 file) fails before the read-only one.
  const char* denied = geteuid() == 0 ? "EROFS" : "EACCES";
  const bool thp = fs::exists("/sys/kernel/mm/transparent_hugepage/enabled");
  EXPECT_EQ(report, std::string("cgroup=(empty) sys_write=") + (thp ? denied : "ENOENT"));
}

TEST_F(MountViewTest, MountsDoNotPropagateEitherWay) {
  const bool root = geteuid() == 0;
  const std::string tag = "sandtrace-probe-" + std::to_string(getpid());
  const std::string host_tag = "sandtrace-host-" + std::to_string(getpid());
  fs::create_directory(P("hostmnt"));
  bool leaked = false;
  std::string report = RunInView(
      Plan(),
      [&](const std::function<void()>& sync) {
        Report r;
        r.Add("mkdir", mkdir("/tmp/inner", 0755));
        r.Add("mount", mount(tag.c_str(), "/tmp/inner", "tmpfs", 0, nullptr));
        sync();
        const std::string mounts = ReadAll("/proc/self/mountinfo");
        r.Add("host_mount_seen", mounts.find(host_tag) != std::string::npos ? "yes" : "no");
        r.Add("hostmnt", List(P("hostmnt")));
        return r.text();
      },
      [&] {
        const std::string mounts = ReadAll("/proc/self/mountinfo");
        leaked = mounts.find(tag) != std::string::npos ||
                 mounts.find("sandtrace-tmp") != std::string::npos ||
                 mounts.find("sandtrace-dev") != std::string::npos;
        if (root) {
          EXPECT_EQ(mount(host_tag.c_str(), P("hostmnt").c_str(), "tmpfs", 0, nullptr), 0);
          WriteFile(P("hostmnt/visible"), "x");
        }
      });
  if (root) {
    EXPECT_EQ(umount(P("hostmnt").c_str()), 0);
  }
  EXPECT_FALSE(leaked);
  EXPECT_EQ(report, "mkdir=ok mount=ok host_mount_seen=no hostmnt=(empty)");
}

TEST_F(MountViewTest, FreshProcMountsInANewPidNamespace) {
  std::string report = RunInView(Plan(), [&] {
    if (unshare(CLONE_NEWPID) != 0) return "unshare(CLONE_NEWPID)=" + Outcome(-1);
    int fds[2];
    if (pipe(fds) != 0) return std::string("pipe failed");
    pid_t init = fork();
    if (init == 0) {
      Report r;
      r.Add("pid", std::to_string(getpid()));
      r.Add("proc", MountFreshProc() ? 0 : -1);
      r.Add("self", ReadAll("/proc/self/stat").substr(0, 2));
      const std::string text = r.text();
      if (write(fds[1], text.data(), text.size()) < 0) _exit(2);
      _exit(0);
    }
    close(fds[1]);
    std::string text;
    char buffer[256];
    ssize_t n;
    while ((n = read(fds[0], buffer, sizeof buffer)) > 0) text.append(buffer, n);
    waitpid(init, nullptr, 0);
    return text;
  });
  EXPECT_EQ(report, "pid=1 proc=ok self=1 ");
}

TEST_F(MountViewTest, WorkingDirectoryIsReenteredThroughTheView) {
  const std::string rw = P("rw");
  std::string report = RunInView(
      Plan(), [](const std::function<void()>&) { return Create("relative.txt", "cwd"); }, [] {},
      [&] { (void)!chdir(rw.c_str()); });
  EXPECT_EQ(report, "ok");
  EXPECT_EQ(ReadAll(P("rw/relative.txt")), "cwd");
}

TEST_F(MountViewTest, HiddenWorkingDirectoryBecomesRoot) {
  test_support::TempDir temp("/tmp/sandtrace-mv-cwd.XXXXXX");
  ASSERT_TRUE(temp.ok());
  const std::string dir = temp.path();
  std::string report = RunInView(
      Plan(),
      [](const std::function<void()>&) {
        char buf[4096];
        return std::string(getcwd(buf, sizeof buf) ? buf : "(getcwd failed)");
      },
      [] {}, [&] { (void)!chdir(dir.c_str()); });
  EXPECT_EQ(report, "/");
}

TEST_F(MountViewTest, ReadOnlyPathUnderPrivateTmpStaysReachable) {
  test_support::TempDir temp("/tmp/sandtrace-mv-ro.XXXXXX");
  ASSERT_TRUE(temp.ok());
  const std::string dir = temp.path();
  WriteFile(dir + "/prog", "program");
  MountPlan plan = Plan();
  plan.read_only = {dir + "/prog"};
  std::string report = RunInView(plan, [&] {
    Report r;
    r.Add("read", ReadAll(dir + "/prog"));
    r.Add("write", open((dir + "/prog").c_str(), O_WRONLY));
    r.Add("tmp", List("/tmp") == dir.substr(5) ? "only-the-bind" : List("/tmp"));
    r.Add("sibling", Create(dir + "/other"));
    return r.text();
  });
  const bool sibling_on_host = fs::exists(dir + "/other");
  EXPECT_EQ(report, "read=program write=EROFS tmp=only-the-bind sibling=ok");
  EXPECT_FALSE(sibling_on_host);
}

TEST_F(MountViewTest, MissingOrRelativeWritablePathIsAnError) {
  MountPlan plan = Plan();
  plan.read_write.push_back(P("missing"));
  std::string report = RunInView(plan, [] { return std::string("ran"); });
  EXPECT_EQ(report, "setup: layer 2 (mount_namespace): read-write bind: open_tree(" + P("missing") +
                        "): No such file or directory");
  plan.read_write = {"relative/dir"};
  report = RunInView(plan, [] { return std::string("ran"); });
  EXPECT_EQ(report,
            "setup: layer 2 (mount_namespace): read-write bind of 'relative/dir': not an "
            "absolute path below /: Invalid argument");
}

TEST_F(MountViewTest, ProgramsStillRun) {
  std::string report = RunInView(Plan(), [&] {
    Report r;
    pid_t pid = fork();
    if (pid == 0) {
      char* argv[] = {const_cast<char*>("true"), nullptr};
      execv("/usr/bin/true", argv);
      _exit(127);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    r.Add("true", std::to_string(status));
    return r.text();
  });
  EXPECT_EQ(report, "true=0");
}

TEST_F(MountViewTest, WritablePathOnReadOnlyHostMountIsAnError) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to make a read-only host mount";
  const std::string dir = P("rw");
  ASSERT_EQ(mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr), 0);
  ASSERT_EQ(mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr), 0);
  std::string report = RunInView(Plan(), [] { return std::string("ran"); });
  EXPECT_EQ(umount(dir.c_str()), 0);
  EXPECT_EQ(report, "setup: layer 2 (mount_namespace): read-write bind: mount_setattr(" + dir +
                        ", clear ro) (the host mounts it read-only): Operation not permitted");
}

TEST(DescribeMountViewTest, NamesEveryPart) {
  MountPlan plan;
  plan.read_write = {"/a", "/b"};
  plan.masked = {"/c"};
  EXPECT_EQ(DescribeMountView(plan),
            "read-only root; private /tmp, /run, /dev/shm; minimal /dev; /sys/fs/cgroup hidden; "
            "2 writable paths; 1 path masked");
}

}  // namespace
}  // namespace sandtrace::launcher
