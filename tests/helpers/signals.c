// st-signals [SIG]: signal handling under tracing, deterministic syscall counts.
//  1. SIGUSR1 handler installed, raise(SIGUSR1): the handler prints "usr1 handled".
//  2. SIGCHLD handler installed and blocked; a child _exit(0)s; sigsuspend() waits for the
//     SIGCHLD (one call whatever the timing); the handler prints "chld handled"; the child is
//     reaped.
//  3. With SIG (a number): kill(getpid(), SIG) with the default disposition (dies of it when
//     it is fatal). Otherwise exit 0 when both handlers ran, 1 if not.
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t usr1, chld;

static void say(const char* s) {
  ssize_t ignored = write(STDOUT_FILENO, s, strlen(s));
  (void)ignored;
}

static void on_usr1(int sig) {
  (void)sig;
  usr1 = 1;
  say("usr1 handled\n");
}

static void on_chld(int sig) {
  (void)sig;
  chld = 1;
  say("chld handled\n");
}

int main(int argc, char** argv) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  raise(SIGUSR1);

  sa.sa_handler = on_chld;
  sigaction(SIGCHLD, &sa, NULL);
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGCHLD);
  sigprocmask(SIG_BLOCK, &block, &old);
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) _exit(0);
  sigsuspend(&old);  // returns once the SIGCHLD handler ran
  int st;
  if (waitpid(pid, &st, 0) != pid) return 1;

  if (argc > 1) {
    int sig = atoi(argv[1]);
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    signal(sig, SIG_DFL);
    kill(getpid(), sig);
  }
  return usr1 && chld ? 0 : 1;
}
