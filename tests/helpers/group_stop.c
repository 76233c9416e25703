// st-group-stop: the child stops itself with SIGSTOP; the parent waits for the stop
// (WUNTRACED), sends SIGCONT and waits for the child's exit (status 7). Prints "stopped" when
// the parent saw the child stopped, "child resumed" from the child, "ok" at the end. Exit 0
// when the child ended with 7.
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    kill(getpid(), SIGSTOP);
    printf("child resumed\n");
    _exit(7);
  }
  int st;
  if (waitpid(pid, &st, WUNTRACED) != pid) return 1;
  if (WIFSTOPPED(st)) {
    printf("stopped\n");
    kill(pid, SIGCONT);
    if (waitpid(pid, &st, 0) != pid) return 1;
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 7) return 1;
  printf("ok\n");
  return 0;
}
