// st-probe-syscalls NAME...: attempts each named syscall (raw, with harmless arguments: a
// nonexistent path, an invalid fd or flag, so that nothing changes even where the call is
// allowed) in a forked child of its own, and prints "RESULT NAME ok|errno=E ret=N". Names:
// the seed's always-blocked list, the hardening list (sandbox layer 7) and a few variants.
// A child of a clone that succeeds prints "RESULT child_ran:NAME ok" and exits.
//   unshare_newuser        unshare(CLONE_NEWUSER)
//   clone_newns ...        clone(CLONE_NEW*|SIGCHLD) (a child that would _exit(0) at once)
//   clone_untraced         clone(CLONE_UNTRACED|SIGCHLD)
//   clone_plain            clone(SIGCHLD) (allowed: the control of the clone_* attempts)
//   clone3                 clone3({exit_signal = SIGCHLD})
//   ptrace_attach_1        ptrace(PTRACE_ATTACH, 1)
//   seccomp_listener       seccomp(SET_MODE_FILTER, NEW_LISTENER, allow-all)
//   seccomp_relax          installs an allow-all filter (allowed), then acct() must still fail
//   personality_linux32    personality(PER_LINUX32)
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/personality.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "probe.h"

#ifndef SYS_open_tree_attr
#define SYS_open_tree_attr 467
#endif

#define NOPATH "/nonexistent-st-probe"

// A child created by a clone that should have failed announces itself on stdout ("RESULT
// child_ran:LABEL ok", raw write: nothing traced or untraced can hide it) and exits at once.
static char child_line[256];
static size_t child_line_len;

static void prepare_child_line(const char* label) {
  snprintf(child_line, sizeof child_line, "RESULT child_ran:%s ok\n", label);
  child_line_len = strlen(child_line);
}

static void child_announce_and_exit(void) {
  probe_raw_syscall6(SYS_write, 1, (long)child_line, (long)child_line_len, 0, 0, 0);
  probe_raw_syscall6(SYS_exit_group, 0, 0, 0, 0, 0, 0);
}

static long raw_clone(unsigned long flags) {
  // fork-like: no new stack, the child returns 0 here.
  long ret = probe_raw_syscall6(SYS_clone, (long)flags, 0, 0, 0, 0, 0);
  if (ret == 0) child_announce_and_exit();
  return ret;
}

static long do_clone3(void) {
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  long ret = probe_raw_syscall6(SYS_clone3, (long)&args, sizeof args, 0, 0, 0, 0);
  if (ret == 0) child_announce_and_exit();
  return ret;
}

static long install_allow_all(unsigned flags) {
  struct sock_filter code[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  struct sock_fprog prog = {.len = 1, .filter = code};
  return -(long)(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0 ? errno : 0);
}

// Returns the raw result: >= 0 or -errno. *known = 0 for an unknown name.
static long attempt(const char* n, int* known) {
  *known = 1;
#define IS(x) (strcmp(n, x) == 0)
#define R(...) probe_raw_syscall6(__VA_ARGS__)
  static char buf[64];
  // The seed's always-blocked list.
  if (IS("kexec_load")) return R(SYS_kexec_load, 0, 0, 0, 0xdead0000L, 0, 0);
  if (IS("kexec_file_load")) return R(SYS_kexec_file_load, -1, -1, 0, 0, 0xdead0000L, 0);
  if (IS("reboot")) return R(SYS_reboot, 0, 0, 0, 0, 0, 0);  // bad magic: EINVAL if allowed
  if (IS("swapon")) return R(SYS_swapon, (long)NOPATH, 0, 0, 0, 0, 0);
  if (IS("swapoff")) return R(SYS_swapoff, (long)NOPATH, 0, 0, 0, 0, 0);
  if (IS("init_module")) return R(SYS_init_module, 0, 0, (long)"", 0, 0, 0);
  if (IS("finit_module")) return R(SYS_finit_module, -1, (long)"", 0, 0, 0, 0);
  if (IS("delete_module"))
    return R(SYS_delete_module, (long)"st_probe_no_such_module", O_NONBLOCK, 0, 0, 0, 0);
  if (IS("acct")) return R(SYS_acct, (long)NOPATH, 0, 0, 0, 0, 0);
  if (IS("pivot_root")) return R(SYS_pivot_root, (long)NOPATH, (long)NOPATH, 0, 0, 0, 0);
  // Hardening.
  if (IS("io_uring_setup")) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    long fd = R(SYS_io_uring_setup, 1, (long)&p, 0, 0, 0, 0);
    if (fd >= 0) close((int)fd);
    return fd;
  }
  if (IS("io_uring_enter")) return R(SYS_io_uring_enter, -1, 0, 0, 0, 0, 0);
  if (IS("io_uring_register")) return R(SYS_io_uring_register, -1, 0, 0, 0, 0, 0);
  if (IS("keyctl")) return R(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0, 0, 0, 0);
  if (IS("add_key"))
    return R(SYS_add_key, (long)"user", (long)"st-probe", (long)"x", 1, -2 /* process */, 0);
  if (IS("request_key")) return R(SYS_request_key, (long)"user", (long)"st-probe-none", 0, 0, 0, 0);
  if (IS("bpf")) return R(SYS_bpf, 0x7fffffff, 0, 0, 0, 0, 0);
  if (IS("perf_event_open")) return R(SYS_perf_event_open, 0, 0, -1, -1, 0, 0);
  if (IS("userfaultfd")) {
    long fd = R(SYS_userfaultfd, O_CLOEXEC, 0, 0, 0, 0, 0);
    if (fd >= 0) close((int)fd);
    return fd;
  }
  if (IS("unshare_newuser")) return R(SYS_unshare, CLONE_NEWUSER, 0, 0, 0, 0, 0);
  if (IS("unshare_newns")) return R(SYS_unshare, CLONE_NEWNS, 0, 0, 0, 0, 0);
  if (IS("unshare_newnet")) return R(SYS_unshare, CLONE_NEWNET, 0, 0, 0, 0, 0);
  if (IS("setns")) return R(SYS_setns, -1, 0, 0, 0, 0, 0);
  if (IS("mount")) return R(SYS_mount, (long)"none", (long)NOPATH, (long)"tmpfs", 0, 0, 0);
  if (IS("mount_remount_root"))
    return R(SYS_mount, 0, (long)"/", 0, 32 /* MS_REMOUNT */ | 4096 /* MS_BIND */, 0, 0);
  if (IS("umount2")) return R(SYS_umount2, (long)NOPATH, 0, 0, 0, 0, 0);
  if (IS("fsopen")) {
    long fd = R(SYS_fsopen, (long)"tmpfs", 1 /* FSOPEN_CLOEXEC */, 0, 0, 0, 0);
    if (fd >= 0) close((int)fd);
    return fd;
  }
  if (IS("fsconfig")) return R(SYS_fsconfig, -1, 0, 0, 0, 0, 0);
  if (IS("fsmount")) return R(SYS_fsmount, -1, 0, 0, 0, 0, 0);
  if (IS("fspick")) return R(SYS_fspick, AT_FDCWD, (long)NOPATH, 0, 0, 0, 0);
  if (IS("open_tree")) return R(SYS_open_tree, AT_FDCWD, (long)NOPATH, 0, 0, 0, 0);
  if (IS("open_tree_attr")) return R(SYS_open_tree_attr, AT_FDCWD, (long)NOPATH, 0, 0, 0, 0);
  if (IS("move_mount")) return R(SYS_move_mount, -1, (long)"", -1, (long)"", 0, 0);
  if (IS("mount_setattr")) return R(SYS_mount_setattr, AT_FDCWD, (long)NOPATH, 0, 0, 0, 0);
  if (IS("chroot")) return R(SYS_chroot, (long)NOPATH, 0, 0, 0, 0, 0);
  if (IS("ptrace_attach_1")) return R(SYS_ptrace, PTRACE_ATTACH, 1, 0, 0, 0, 0);
  if (IS("ptrace_attach_1_highbits"))  // PTRACE_ATTACH with garbage in the high half
    return R(SYS_ptrace, (long)(PTRACE_ATTACH | (1UL << 32)), 1, 0, 0, 0, 0);
  if (IS("process_vm_writev")) {
    struct iovec local = {.iov_base = buf, .iov_len = 1};
    struct iovec remote = {.iov_base = (void*)0x10, .iov_len = 1};  // unmapped in any process
    return R(SYS_process_vm_writev, 1, (long)&local, 1, (long)&remote, 1, 0);
  }
  if (IS("pidfd_getfd")) return R(SYS_pidfd_getfd, -1, 0, 0, 0, 0, 0);
  if (IS("kcmp")) return R(SYS_kcmp, 1, 1, 0, 0, 0, 0);
  if (IS("syslog")) return R(SYS_syslog, 10 /* SIZE_BUFFER */, 0, 0, 0, 0, 0);
  if (IS("iopl")) return R(SYS_iopl, 0, 0, 0, 0, 0, 0);  // level 0: nothing gained if allowed
  if (IS("ioperm")) return R(SYS_ioperm, 0x80, 1, 0, 0, 0, 0);  // turn_on 0
  if (IS("open_by_handle_at")) return R(SYS_open_by_handle_at, AT_FDCWD, 0, O_RDONLY, 0, 0, 0);
  if (IS("quotactl")) return R(SYS_quotactl, 0, (long)NOPATH, 0, 0, 0, 0);
  if (IS("vhangup")) return R(SYS_vhangup, 0, 0, 0, 0, 0, 0);
  if (IS("settimeofday")) return R(SYS_settimeofday, 0, 0, 0, 0, 0, 0);
  if (IS("clock_settime")) return R(SYS_clock_settime, 0, 0, 0, 0, 0, 0);  // NULL: EFAULT
  if (IS("adjtimex")) return R(SYS_adjtimex, 0, 0, 0, 0, 0, 0);
  if (IS("sethostname")) return R(SYS_sethostname, 0, 100000, 0, 0, 0, 0);  // too long
  if (IS("setdomainname")) return R(SYS_setdomainname, 0, 100000, 0, 0, 0, 0);
  if (IS("clone_newns")) return raw_clone(CLONE_NEWNS | SIGCHLD);
  if (IS("clone_newuser")) return raw_clone(CLONE_NEWUSER | SIGCHLD);
  if (IS("clone_newpid")) return raw_clone(CLONE_NEWPID | SIGCHLD);
  if (IS("clone_newnet")) return raw_clone(CLONE_NEWNET | SIGCHLD);
  if (IS("clone_untraced")) return raw_clone(CLONE_UNTRACED | SIGCHLD);
  if (IS("clone_plain")) return raw_clone(SIGCHLD);
  if (IS("clone3")) return do_clone3();
  if (IS("seccomp_listener")) return install_allow_all(SECCOMP_FILTER_FLAG_NEW_LISTENER);
  if (IS("seccomp_relax")) {
    long rc = install_allow_all(0);
    probe_report("seccomp_relax_install", rc < 0 ? -1 : 0, (int)-rc, NULL);
    if (rc < 0) return rc;
    return R(SYS_acct, (long)NOPATH, 0, 0, 0, 0, 0);
  }
  if (IS("personality_linux32")) return R(SYS_personality, PER_LINUX32, 0, 0, 0, 0, 0);
  if (IS("getpid")) return R(SYS_getpid, 0, 0, 0, 0, 0, 0);
#undef IS
#undef R
  *known = 0;
  return 0;
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
      probe_report(argv[i], -1, errno, "step=fork");
      continue;
    }
    if (child == 0) {
      prepare_child_line(argv[i]);
      int known;
      long ret = attempt(argv[i], &known);
      if (!known) {
        fprintf(stderr, "st-probe-syscalls: unknown name %s\n", argv[i]);
        _exit(2);
      }
      if (ret >= 0) {
        probe_report(argv[i], 0, 0, "ret=%ld", ret);
      } else {
        probe_report(argv[i], -1, (int)-ret, "ret=-1");
      }
      _exit(0);
    }
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      printf("RESULT %s died status=%d\n", argv[i], status);
      fflush(stdout);
    }
  }
  // Reap the children of successful clones, if any.
  while (waitpid(-1, NULL, __WALL) > 0) {
  }
  return 0;
}
