// st-group-stop: the child stops itself with SIGSTOP; the parent waits for the stop
// (WUNTRACED), sends SIGCONT and waits for the child's exit (status 7). Prints "stopped" when
// the parent saw the child stopped, "child resumed" from the child, "ok" at the end. Exit 0
// when the child ended with 7. Run untraced it prints "stopped", "child resumed", "ok".
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// One write per line, so that the lines of parent and child never mix.
static void say(const char* s) {
  ssize_t ignored = write(STDOUT_FILENO, s, strlen(s));
  (void)ignored;
}

int main(void) {
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    kill(getpid(), SIGSTOP);
    say("child resumed\n");
    _exit(7);
  }
  int st;
  if (waitpid(pid, &st, WUNTRACED) != pid) return 1;
  if (WIFSTOPPED(st)) {
    // A stopped child stays stopped until SIGCONT: give a child that was wrongly let go the
    // time to print first, which changes the order of the lines.
    struct timespec pause_for = {0, 300 * 1000 * 1000};
    nanosleep(&pause_for, NULL);
    say("stopped\n");
    kill(pid, SIGCONT);
    if (waitpid(pid, &st, 0) != pid) return 1;
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 7) return 1;
  say("ok\n");
  return 0;
}
