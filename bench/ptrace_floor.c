/* st-ptrace-floor: the cheapest ptrace loop that follows a whole process tree.
 *
 * Usage: st-ptrace-floor COMMAND [ARGS...]
 *
 * It does what any syscall tracer must do and nothing more: stop at every syscall entry and
 * exit of every process and thread (PTRACE_SYSCALL), fetch the syscall with
 * PTRACE_GET_SYSCALL_INFO (as a recording tracer must), and resume. It records nothing. The
 * benchmark uses it as the floor that ptrace itself costs on this machine, so that sandtrace
 * and strace can be compared with what is physically possible.
 *
 * Exit status: the root command's status (128+N if it died of signal N); 127 if it could not
 * be executed; 125 if tracing could not be set up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* One byte of state per pid; pid_max is at most 4194304 (PID_MAX_LIMIT on 64-bit). */
enum { kUnknown = 0, kRunning = 1, kAwaitingFirstStop = 2 };
#define PID_LIMIT (4 * 1024 * 1024 + 1)
static unsigned char state[PID_LIMIT];

static void resume(pid_t pid, int sig) {
  /* ESRCH: the tracee was killed meanwhile; waitpid reports its end. */
  ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(intptr_t)sig);
}

static int is_stopping_signal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: st-ptrace-floor COMMAND [ARGS...]\n");
    return 2;
  }
  pid_t root = fork();
  if (root < 0) {
    perror("st-ptrace-floor: fork");
    return 125;
  }
  if (root == 0) {
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) {
      perror("st-ptrace-floor: PTRACE_TRACEME");
      _exit(125);
    }
    kill(getpid(), SIGSTOP);
    execvp(argv[1], argv + 1);
    fprintf(stderr, "st-ptrace-floor: %s: %s\n", argv[1], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }

  int status;
  if (waitpid(root, &status, __WALL) != root || !WIFSTOPPED(status)) {
    fprintf(stderr, "st-ptrace-floor: the child did not stop for tracing\n");
    return 125;
  }
  long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK |
              PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC;
  if (ptrace(PTRACE_SETOPTIONS, root, NULL, (void *)opts) != 0) {
    perror("st-ptrace-floor: PTRACE_SETOPTIONS");
    kill(root, SIGKILL);
    return 125;
  }
  state[root] = kRunning;
  resume(root, 0);

  int root_status = 0;
  for (;;) {
    pid_t pid = waitpid(-1, &status, __WALL);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break; /* ECHILD: every tracee is gone */
    }
    if ((unsigned)pid >= PID_LIMIT) { /* cannot happen on Linux; stay safe anyway */
      if (WIFSTOPPED(status)) resume(pid, 0);
      continue;
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      if (pid == root) root_status = status;
      state[pid] = kUnknown;
      continue;
    }
    if (!WIFSTOPPED(status)) continue;
    const int sig = WSTOPSIG(status);
    const int event = status >> 16;
    if (sig == (SIGTRAP | 0x80)) {
      struct __ptrace_syscall_info info; /* glibc's copy of the kernel struct */
      ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof info, &info);
      resume(pid, 0);
    } else if (sig == SIGTRAP && event != 0) {
      if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
          event == PTRACE_EVENT_CLONE) {
        unsigned long child = 0;
        if (ptrace(PTRACE_GETEVENTMSG, pid, NULL, &child) == 0 && child < PID_LIMIT &&
            state[child] == kUnknown) {
          state[child] = kAwaitingFirstStop; /* its initial SIGSTOP is still to come */
        }
      }
      resume(pid, 0);
    } else if (sig == SIGSTOP && state[pid] != kRunning) {
      /* The initial stop of a new child (possibly before its parent's fork event): eat it. */
      state[pid] = kRunning;
      resume(pid, 0);
    } else if (is_stopping_signal(sig)) {
      siginfo_t si;
      if (ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) != 0 && errno == EINVAL) {
        resume(pid, 0); /* group-stop (not seized: cannot be held), as strace does */
      } else {
        resume(pid, sig);
      }
    } else {
      resume(pid, sig); /* signal-delivery-stop: deliver it unchanged */
    }
  }
  if (WIFSIGNALED(root_status)) return 128 + WTERMSIG(root_status);
  return WEXITSTATUS(root_status);
}
