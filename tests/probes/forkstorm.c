// st-probe-forkstorm N: creates N children at once (raw clone(SIGCHLD), fork-like); the very
// first thing each child does is the denied syscall acct() (raw, no libc in between), then it
// exits 0 when that failed with EPERM, 1 otherwise. The parent reaps them all and prints
// "RESULT storm ok children=N eperm=M pids=a,b,...".
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "probe.h"

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 50;
  if (n < 1 || n > 1000) return 2;
  static char pids[16 * 1000];
  size_t o = 0;
  int started = 0;
  for (int i = 0; i < n; ++i) {
    long pid = probe_raw_syscall6(SYS_clone, SIGCHLD, 0, 0, 0, 0, 0);
    if (pid == 0) {
      long r = probe_raw_syscall6(SYS_acct, (long)"/nonexistent-st-probe", 0, 0, 0, 0, 0);
      probe_raw_syscall6(SYS_exit_group, r == -EPERM ? 0 : 1, 0, 0, 0, 0, 0);
    }
    if (pid < 0) {
      probe_report("storm", -1, (int)-pid, "step=clone started=%d", started);
      break;
    }
    ++started;
    o += (size_t)snprintf(pids + o, sizeof pids - o, "%s%ld", o ? "," : "", pid);
  }
  int eperm = 0, reaped = 0, status;
  while (wait(&status) > 0) {
    ++reaped;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++eperm;
  }
  probe_report("storm", 0, 0, "children=%d reaped=%d eperm=%d pids=%s", started, reaped, eperm,
               pids);
  return 0;
}
