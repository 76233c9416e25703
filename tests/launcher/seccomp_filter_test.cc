// Layer 7 on the real kernel. Each case runs in a forked child that sets no_new_privs, installs
// the compiled filter and makes one raw syscall with harmless or invalid arguments (the point
// is EPERM instead of the kernel's own EINVAL/EFAULT/EBADF); the errno, or the signal that
// killed the child, is the outcome. The same table checks IsDeniedByFilter against the kernel.
#include "launcher/seccomp_filter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

namespace sandtrace::launcher {
namespace {

enum class Expect { kEperm, kEnosys, kKilled, kPasses };

struct Case {
  const char* label;
  long nr;
  uint64_t args[6];
  Expect expect;
  int native = 0;           // kPasses: the kernel's own result (0 = success, else errno)
  bool root_eperm = false;  // the kernel itself may say EPERM first (sysctls, lockdown)
};

constexpr uint64_t kBad = 1;  // an unmapped address: EFAULT wherever the kernel reads it
constexpr uint64_t kNone = ~0ull;
constexpr uint64_t kHigh = 1ull << 32;
constexpr long kX32 = 0x40000000;
constexpr long kOpenTreeAttr = 467;
const uint64_t kAtFdcwd = static_cast<uint64_t>(int64_t{AT_FDCWD});
const uint64_t kDevNull = reinterpret_cast<uint64_t>("/dev/null");

const Case kCases[] = {
    // The seed's always-blocked list.
    {"kexec_load", SYS_kexec_load, {0, 0, 0, kNone}, Expect::kEperm, 0, true},
    {"kexec_file_load", SYS_kexec_file_load, {kNone, kNone, 0, 0, kNone}, Expect::kEperm, 0, true},
    {"reboot", SYS_reboot, {0, 0, 0, 0}, Expect::kEperm},
    {"swapon", SYS_swapon, {kBad, 0xffffffff}, Expect::kEperm},
    {"swapoff", SYS_swapoff, {kBad}, Expect::kEperm},
    {"init_module", SYS_init_module, {0, 0, kBad}, Expect::kEperm, 0, true},
    {"finit_module", SYS_finit_module, {kNone, kBad, 0}, Expect::kEperm, 0, true},
    {"delete_module", SYS_delete_module, {kBad, 0}, Expect::kEperm, 0, true},
    {"acct", SYS_acct, {kBad}, Expect::kEperm},
    {"pivot_root", SYS_pivot_root, {kBad, kBad}, Expect::kEperm},
    // Hardening.
    {"io_uring_setup", SYS_io_uring_setup, {0, kBad}, Expect::kEperm, 0, true},
    {"io_uring_enter", SYS_io_uring_enter, {kNone, 0, 0, 0, 0, 0}, Expect::kEperm},
    {"io_uring_register", SYS_io_uring_register, {kNone, 0, 0, 0}, Expect::kEperm},
    {"keyctl", SYS_keyctl, {0xffffffff}, Expect::kEperm},
    {"add_key", SYS_add_key, {kBad, kBad, 0, 0, 0}, Expect::kEperm},
    {"request_key", SYS_request_key, {kBad, kBad, 0, 0}, Expect::kEperm},
    {"bpf", SYS_bpf, {0xffffffff, 0, 0}, Expect::kEperm},
    {"perf_event_open", SYS_perf_event_open, {kBad, 0, kNone, kNone, 0}, Expect::kEperm},
    {"userfaultfd", SYS_userfaultfd, {0xffffffff}, Expect::kEperm},
    {"mount", SYS_mount, {0, kBad, 0, 0, 0}, Expect::kEperm},
    {"umount2", SYS_umount2, {kBad, 0}, Expect::kEperm},
    {"fsopen", SYS_fsopen, {kBad, 0}, Expect::kEperm},
    {"fsconfig", SYS_fsconfig, {kNone, 0, 0, 0, 0}, Expect::kEperm},
    {"fsmount", SYS_fsmount, {kNone, 0, 0}, Expect::kEperm},
    {"fspick", SYS_fspick, {kNone, kBad, 0}, Expect::kEperm},
    {"open_tree", SYS_open_tree, {kNone, kBad, 0}, Expect::kEperm},
    {"open_tree_attr", kOpenTreeAttr, {kNone, kBad, 0, 0, 0}, Expect::kEperm},
    {"move_mount", SYS_move_mount, {kNone, kBad, kNone, kBad, 0}, Expect::kEperm},
    {"mount_setattr", SYS_mount_setattr, {kNone, kBad, 0, 0, 0}, Expect::kEperm},
    {"chroot", SYS_chroot, {kBad}, Expect::kEperm},
    {"unshare", SYS_unshare, {1}, Expect::kEperm},
    {"setns", SYS_setns, {kNone, 0}, Expect::kEperm},
    {"process_vm_writev", SYS_process_vm_writev, {0, 0, 0, 0, 0, 1}, Expect::kEperm},
    {"pidfd_getfd", SYS_pidfd_getfd, {kNone, 0, 0}, Expect::kEperm},
    {"kcmp", SYS_kcmp, {0x7ffffff0, 0x7ffffff0, 0, 0, 0}, Expect::kEperm},
    {"syslog", SYS_syslog, {0xffffffff, 0, 0}, Expect::kEperm},
    {"iopl", SYS_iopl, {4}, Expect::kEperm},
    {"ioperm", SYS_ioperm, {0, 0, 0}, Expect::kEperm},
    {"open_by_handle_at", SYS_open_by_handle_at, {kNone, kBad, 0}, Expect::kEperm},
    {"lookup_dcookie", SYS_lookup_dcookie, {0, 0, 0}, Expect::kEperm},
    {"quotactl", SYS_quotactl, {0, 0, 0, 0}, Expect::kEperm},
    {"quotactl_fd", SYS_quotactl_fd, {kNone, 0, 0, 0}, Expect::kEperm},
    {"nfsservctl", SYS_nfsservctl, {0, 0, 0}, Expect::kEperm},
    {"vhangup (no controlling tty)", SYS_vhangup, {}, Expect::kEperm},
    {"settimeofday", SYS_settimeofday, {kBad, 0}, Expect::kEperm},
    {"clock_settime", SYS_clock_settime, {CLOCK_REALTIME, kBad}, Expect::kEperm},
    {"adjtimex", SYS_adjtimex, {kBad}, Expect::kEperm},
    {"clock_adjtime", SYS_clock_adjtime, {CLOCK_REALTIME, kBad}, Expect::kEperm},
    {"sethostname", SYS_sethostname, {kBad, 100000}, Expect::kEperm},
    {"setdomainname", SYS_setdomainname, {kBad, 100000}, Expect::kEperm},
    // Argument rules.
    {"ptrace(PTRACE_PEEKDATA)", SYS_ptrace, {PTRACE_PEEKDATA, 0x7ffffff0, 0, 0}, Expect::kEperm},
    {"personality(ADDR_NO_RANDOMIZE)", SYS_personality, {ADDR_NO_RANDOMIZE}, Expect::kEperm},
    {"personality(query | 1<<32)", SYS_personality, {0xffffffff | kHigh}, Expect::kEperm},
    {"seccomp(NEW_LISTENER)",
     SYS_seccomp,
     {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0},
     Expect::kEperm},
    {"seccomp(NEW_LISTENER | 1<<32)",
     SYS_seccomp,
     {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER | kHigh, 0},
     Expect::kEperm},
    {"clone(CLONE_NEWNS)", SYS_clone, {CLONE_NEWNS | SIGCHLD}, Expect::kEperm},
    {"clone(CLONE_NEWCGROUP)", SYS_clone, {CLONE_NEWCGROUP | SIGCHLD}, Expect::kEperm},
    {"clone(CLONE_NEWUTS)", SYS_clone, {CLONE_NEWUTS | SIGCHLD}, Expect::kEperm},
    {"clone(CLONE_NEWIPC)", SYS_clone, {CLONE_NEWIPC | SIGCHLD}, Expect::kEperm},
    {"clone(CLONE_NEWUSER)", SYS_clone, {CLONE_NEWUSER | SIGCHLD}, Expect::kEperm},
    {"clone(CLONE_NEWUSER | 1<<32)", SYS_clone, {CLONE_NEWUSER | SIGCHLD | kHigh}, Expect::kEperm},
    {"clone(CLONE_NEWPID)", SYS_clone, {CLONE_NEWPID | SIGCHLD}, Expect::kEperm},
    {"clone(CLONE_NEWNET)", SYS_clone, {CLONE_NEWNET | SIGCHLD}, Expect::kEperm},
    {"clone(CLONE_NEWTIME)", SYS_clone, {CLONE_NEWTIME | SIGCHLD}, Expect::kEperm},
    {"clone(CLONE_UNTRACED)", SYS_clone, {CLONE_UNTRACED | SIGCHLD}, Expect::kEperm},
    {"ioctl(TIOCSTI)", SYS_ioctl, {kNone, TIOCSTI, 0}, Expect::kEperm},
    {"ioctl(TIOCSTI | 1<<32)", SYS_ioctl, {kNone, TIOCSTI | kHigh, 0}, Expect::kEperm},
    {"ioctl(TIOCLINUX)", SYS_ioctl, {kNone, TIOCLINUX, 0}, Expect::kEperm},
    {"ioctl(TIOCLINUX | garbage<<32)",
     SYS_ioctl,
     {kNone, TIOCLINUX | 0xdead00000000ull, 0},
     Expect::kEperm},
    // ENOSYS so that libc falls back to clone.
    {"clone3", SYS_clone3, {0, 0}, Expect::kEnosys},
    // Other architectures' numbers: the whole process is killed.
    {"x32 getpid", kX32 | SYS_getpid, {}, Expect::kKilled},
    {"x32 reboot", kX32 | SYS_reboot, {}, Expect::kKilled},
    // Allowed: the kernel's own result comes through.
    {"getpid", SYS_getpid, {}, Expect::kPasses, 0},
    {"openat(/dev/null)", SYS_openat, {kAtFdcwd, kDevNull, O_RDONLY}, Expect::kPasses, 0},
    {"ioctl(FIONREAD)", SYS_ioctl, {kNone, FIONREAD, 0}, Expect::kPasses, EBADF},
    {"ioctl(TCGETS)", SYS_ioctl, {kNone, TCGETS, 0}, Expect::kPasses, EBADF},
    {"clone(SIGCHLD) (fork)", SYS_clone, {SIGCHLD}, Expect::kPasses, 0},
    {"clone(CLONE_THREAD) without CLONE_SIGHAND",
     SYS_clone,
     {CLONE_THREAD},
     Expect::kPasses,
     EINVAL},
    {"seccomp(SET_MODE_FILTER, 0)",
     SYS_seccomp,
     {SECCOMP_SET_MODE_FILTER, 0, 0},
     Expect::kPasses,
     EFAULT},
    {"personality(query)", SYS_personality, {0xffffffff}, Expect::kPasses, 0},
    {"ptrace(PTRACE_TRACEME) (layer 8)", SYS_ptrace, {PTRACE_TRACEME, 0, 0, 0}, Expect::kPasses, 0},
};

struct Outcome {
  int error = 0;   // errno, 0 for success
  int signal = 0;  // the signal that killed the child, 0 if it reported
};

// Runs `probe` in a fresh session in a forked child, under `program` unless null.
Outcome RunInChild(const SeccompProgram* program, const std::function<int()>& probe) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return {-1, 0};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    setsid();                            // no controlling terminal: vhangup and TIOCSTI are inert
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // no core file from a SIGSYS kill
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(90);
    if (program != nullptr && InstallSeccompFilterInChild(*program) != 0) _exit(91);
    int error = probe();
    ssize_t ignored = write(fds[1], &error, sizeof error);
    (void)ignored;
    _exit(0);
  }
  close(fds[1]);
  int error = -1;
  ssize_t n;
  do {
    n = read(fds[0], &error, sizeof error);
  } while (n < 0 && errno == EINTR);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return {0, WTERMSIG(status)};
  if (n != static_cast<ssize_t>(sizeof error)) return {-1000 - WEXITSTATUS(status), 0};
  return {error, 0};
}

int CallRaw(const Case& c) {
  long r = syscall(c.nr, c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5]);
  if (r < 0) return errno;
  if (c.nr == SYS_clone) {
    if (r == 0) _exit(0);  // the new process
    waitpid(static_cast<pid_t>(r), nullptr, 0);
  }
  return 0;
}

Outcome RunCase(const SeccompProgram* program, const Case& c) {
  return RunInChild(program, [&c] { return CallRaw(c); });
}

const SeccompProgram& Filter() {
  static const SeccompProgram* program = [] {
    Result<SeccompProgram> compiled = CompileSeccompFilter({});
    if (!compiled) ADD_FAILURE() << compiled.error().message();
    return new SeccompProgram(compiled ? *compiled : SeccompProgram());
  }();
  return *program;
}

uint32_t Evaluate(const Case& c) {
  seccomp_data data{};
  data.nr = static_cast<int>(c.nr);
  data.arch = AUDIT_ARCH_X86_64;
  for (int i = 0; i < 6; ++i) data.args[i] = c.args[i];
  return EvaluateSeccompFilter(Filter(), data);
}

TEST(SeccompFilterKernel, EveryCaseHasTheExpectedOutcome) {
  ASSERT_FALSE(Filter().empty());
  for (const Case& c : kCases) {
    Outcome o = RunCase(&Filter(), c);
    switch (c.expect) {
      case Expect::kEperm:
        EXPECT_EQ(o.error, EPERM) << c.label;
        break;
      case Expect::kEnosys:
        EXPECT_EQ(o.error, ENOSYS) << c.label;
        break;
      case Expect::kPasses:
        EXPECT_EQ(o.error, c.native) << c.label;
        break;
      case Expect::kKilled:
        EXPECT_EQ(o.signal, SIGSYS) << c.label;
        continue;
    }
    EXPECT_EQ(o.signal, 0) << c.label;
  }
}

TEST(SeccompFilterKernel, IsDeniedByFilterAgreesWithTheKernel) {
  for (const Case& c : kCases) {
    Outcome o = RunCase(&Filter(), c);
    const bool kernel_denied = o.signal == 0 && o.error == EPERM;
    EXPECT_EQ(IsDeniedByFilter(Filter(), static_cast<int>(c.nr), c.args), kernel_denied) << c.label;
    uint32_t expected = SECCOMP_RET_ALLOW;
    if (c.expect == Expect::kEperm) expected = SECCOMP_RET_ERRNO | EPERM;
    if (c.expect == Expect::kEnosys) expected = SECCOMP_RET_ERRNO | ENOSYS;
    if (c.expect == Expect::kKilled) expected = SECCOMP_RET_KILL_PROCESS;
    EXPECT_EQ(Evaluate(c), expected) << c.label;
  }
}

// Without the filter no case fails with EPERM (as root, where the kernel's permission checks
// pass): the EPERM above comes from the filter, not from the arguments.
TEST(SeccompFilterKernel, WithoutTheFilterTheKernelGivesADifferentAnswer) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: unprivileged, the kernel says EPERM itself";
  for (const Case& c : kCases) {
    if (c.expect == Expect::kKilled || c.root_eperm) continue;
    Outcome o = RunCase(nullptr, c);
    EXPECT_EQ(o.signal, 0) << c.label;
    switch (c.expect) {
      case Expect::kEperm:
        EXPECT_NE(o.error, EPERM) << c.label;
        break;
      case Expect::kEnosys:
        EXPECT_NE(o.error, ENOSYS) << c.label;
        break;
      case Expect::kPasses:
        EXPECT_EQ(o.error, c.native) << c.label;
        break;
      case Expect::kKilled:
        break;
    }
  }
}

int Int80Getpid() {
  long ret;
  asm volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "cc", "r8", "r9", "r10", "r11");
  return ret == getpid() ? 0 : (ret < 0 ? static_cast<int>(-ret) : -1);
}

TEST(SeccompFilterKernel, I386EntryKillsTheProcess) {
  seccomp_data data{};
  data.arch = AUDIT_ARCH_I386;
  data.nr = 20;  // i386 getpid
  EXPECT_EQ(EvaluateSeccompFilter(Filter(), data), SECCOMP_RET_KILL_PROCESS);
  Outcome native = RunInChild(nullptr, Int80Getpid);
  if (native.signal != 0 || native.error != 0) {
    GTEST_SKIP() << "no IA32 emulation in this kernel (int $0x80 gave signal " << native.signal
                 << ", error " << native.error << ")";
  }
  Outcome o = RunInChild(&Filter(), Int80Getpid);
  EXPECT_EQ(o.signal, SIGSYS);
}

TEST(SeccompFilterKernel, TiocstiDeniedOnARealFdWhileFionreadWorks) {
  Outcome o = RunInChild(&Filter(), [] {
    int p[2];
    if (pipe(p) != 0 || write(p[1], "abc", 3) != 3) return -1;
    int n = 0;
    if (ioctl(p[0], FIONREAD, &n) != 0) return errno;
    if (n != 3) return -2;
    char c = 'x';
    if (syscall(SYS_ioctl, p[0], TIOCSTI | kHigh, &c) == 0) return -3;
    return errno;
  });
  EXPECT_EQ(o.signal, 0);
  EXPECT_EQ(o.error, EPERM);
}

TEST(SeccompFilterKernel, ForkStillWorks) {
  Outcome o = RunInChild(&Filter(), [] {
    pid_t pid = fork();
    if (pid == 0) _exit(7);
    if (pid < 0) return errno;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return errno;
    return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : -1;
  });
  EXPECT_EQ(o.signal, 0);
  EXPECT_EQ(o.error, 0);
}

TEST(SeccompFilterKernel, PolicyDenyNamesFailWithEperm) {
  Result<SeccompProgram> program =
      CompileSeccompFilter({.deny = {"getppid", "reboot", "clone3", "listmount"}});
  ASSERT_TRUE(program) << program.error().message();
  const Case getppid{"getppid", SYS_getppid, {}, Expect::kEperm};
  const Case listmount{"listmount", 458, {kBad, kBad, 0, 0}, Expect::kEperm};
  const Case clone3{"clone3", SYS_clone3, {0, 0}, Expect::kEnosys};
  EXPECT_EQ(RunCase(&*program, getppid).error, EPERM);
  EXPECT_EQ(RunCase(&*program, listmount).error, EPERM);
  EXPECT_EQ(RunCase(&*program, clone3).error, ENOSYS);
  EXPECT_TRUE(IsDeniedByFilter(*program, SYS_getppid, getppid.args));
  EXPECT_TRUE(IsDeniedByFilter(*program, 458, listmount.args));
  EXPECT_FALSE(IsDeniedByFilter(Filter(), SYS_getppid, getppid.args));
  EXPECT_EQ(RunCase(&Filter(), getppid).error, 0);
}

TEST(SeccompFilterKernel, InstallNeedsNoNewPrivs) {
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0) GTEST_SKIP() << "no_new_privs is inherited";
  pid_t pid = fork();
  if (pid == 0) {
    Status s = InstallSeccompFilter(Filter());  // no PR_SET_NO_NEW_PRIVS in this child
    bool ok = !s && s.error().code == EACCES &&
              s.error().context.find("layer 7 (seccomp)") != std::string::npos &&
              s.error().context.find("no_new_privs") != std::string::npos;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// Runs last in this file: every filter above was installed in a child only.
TEST(SeccompFilterKernel, TheTestProcessIsNotFiltered) {
  EXPECT_EQ(prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
  EXPECT_EQ(syscall(SYS_getppid), getppid());
}

}  // namespace
}  // namespace sandtrace::launcher
