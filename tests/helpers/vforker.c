// st-vforker N: N sequential vfork; each child _exit(3)s at once; the parent reaps it.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 2;
  for (volatile long i = 0; i < n; i = i + 1) {
    pid_t pid = vfork();
    if (pid < 0) return 1;
    if (pid == 0) _exit(3);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 3) return 1;
  }
  printf("vforked %ld\n", n);
  return 0;
}
