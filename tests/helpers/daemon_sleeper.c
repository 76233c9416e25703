// st-daemon-sleeper MARKER: double fork + setsid; the grandchild (still carrying MARKER in its
// argv) sleeps forever, the middle child exits, the original process waits for the middle
// child and exits 0. Prints the grandchild's pid on stdout as "sleeper PID".
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  int p[2];
  if (pipe(p) != 0) return 1;
  pid_t mid = fork();
  if (mid < 0) return 1;
  if (mid == 0) {
    setsid();
    pid_t g = fork();
    if (g < 0) _exit(1);
    if (g == 0) {
      close(p[0]);
      close(p[1]);
      for (;;) pause();
    }
    ssize_t ignored = write(p[1], &g, sizeof g);
    (void)ignored;
    _exit(0);
  }
  close(p[1]);
  pid_t g = 0;
  if (read(p[0], &g, sizeof g) != sizeof g) return 1;
  int st;
  waitpid(mid, &st, 0);
  printf("sleeper %d\n", (int)g);
  fflush(stdout);
  return 0;
}
