// st-syscall-loop N: N getppid() calls, then exit 0. Prints "done N".
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10;
  for (long i = 0; i < n; ++i) syscall(SYS_getppid);
  printf("done %ld\n", n);
  return 0;
}
