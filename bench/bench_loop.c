/* st-bench-loop N: one thread making N cheap syscalls (getppid), then exit 0.
 * The syscall is issued with syscall(2) so that no libc caching can skip the kernel. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: st-bench-loop N\n");
    return 2;
  }
  char *end;
  long n = strtol(argv[1], &end, 10);
  if (*argv[1] == '\0' || *end != '\0' || n < 0) {
    fprintf(stderr, "st-bench-loop: N must be a whole number, got '%s'\n", argv[1]);
    return 2;
  }
  for (long i = 0; i < n; ++i) syscall(SYS_getppid);
  return 0;
}
