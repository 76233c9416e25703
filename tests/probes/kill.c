// st-probe-kill HOST_PID...: signals from inside the PID namespace.
//   kill_minus_1    forks a sleeping child, kill(-1, SIGKILL), reports how the child died
//                   (child=SIGKILL) and that the probe itself survived
//   for each HOST_PID: kill(HOST_PID, 0), kill(HOST_PID, SIGTERM), pidfd_open(HOST_PID) and
//   ptrace(PTRACE_ATTACH, HOST_PID)
//   ptrace_parent   ptrace(PTRACE_ATTACH, getppid()) (the parent is outside: getppid() == 0)
//   ptrace_init     ptrace(PTRACE_ATTACH, 1)
#include <signal.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "probe.h"

int main(int argc, char** argv) {
  char label[128];
  for (int i = 1; i < argc; ++i) {
    pid_t host = (pid_t)atoi(argv[i]);
    snprintf(label, sizeof label, "kill0:%d", host);
    PROBE(label, kill(host, 0));
    snprintf(label, sizeof label, "killterm:%d", host);
    PROBE(label, kill(host, SIGTERM));
    snprintf(label, sizeof label, "pidfd_open:%d", host);
    PROBE(label, syscall(SYS_pidfd_open, host, 0));
    snprintf(label, sizeof label, "ptrace:%d", host);
    PROBE(label, ptrace(PTRACE_ATTACH, host, 0, 0));
  }
  probe_report("getppid", 0, 0, "ppid=%d pid=%d", (int)getppid(), (int)getpid());
  PROBE("ptrace_parent", ptrace(PTRACE_ATTACH, getppid(), 0, 0));
  PROBE("ptrace_init", ptrace(PTRACE_ATTACH, 1, 0, 0));

  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    for (;;) pause();
  }
  usleep(100 * 1000);
  long rc = kill(-1, SIGKILL);
  int e = errno;
  int status = 0;
  waitpid(child, &status, 0);
  probe_report("kill_minus_1", rc, e, "child=%s survived=1",
               WIFSIGNALED(status) ? sigabbrev_np(WTERMSIG(status)) : "exited");
  return 0;
}
