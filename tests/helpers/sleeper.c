// st-sleeper N [MARKER]: forks N children; every process (the original included) prints
// "sleeper PID" and then sleeps forever in pause(). The marker only tags argv.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1;
  setvbuf(stdout, NULL, _IONBF, 0);
  for (long i = 0; i < n; ++i) {
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) break;
  }
  printf("sleeper %d\n", (int)getpid());
  for (;;) pause();
}
