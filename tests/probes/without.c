// st-probe-without NR MASK VALUE ERRNO CMD [ARGS...]: runs CMD (e.g. sandtrace) as if the
// kernel lacked a feature: a seccomp filter, inherited by CMD and everything it starts, fails
// syscall NR with ERRNO when (low 32 bits of arg0 & MASK) == VALUE (MASK 0: always). Nothing
// outside this process tree changes (no sysctl). Sets no_new_privs (needed without root).
// Examples: 272 0x10000000 0x10000000 1 (unshare(CLONE_NEWUSER) -> EPERM: no user namespaces),
// 444 0 0 38 (landlock_create_ruleset -> ENOSYS: a kernel without Landlock).
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "probe.h"

int main(int argc, char** argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: st-probe-without NR MASK VALUE ERRNO CMD [ARGS...]\n");
    return 2;
  }
  unsigned nr = (unsigned)strtoul(argv[1], NULL, 0);
  unsigned mask = (unsigned)strtoul(argv[2], NULL, 0);
  unsigned value = (unsigned)strtoul(argv[3], NULL, 0);
  unsigned err = (unsigned)strtoul(argv[4], NULL, 0);
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA)),
  };
  struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    perror("st-probe-without: seccomp");
    return 125;
  }
  execv(argv[5], argv + 5);
  perror("st-probe-without: execv");
  return 127;
}
