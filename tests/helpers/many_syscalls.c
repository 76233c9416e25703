// st-many-syscalls N: N cheap syscalls (getppid, getuid, getgid in turn), then exit 0.
// Used for the lossless test (> 100k records through the pipeline).
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 120000;
  static const long kNrs[] = {SYS_getppid, SYS_getuid, SYS_getgid};
  for (long i = 0; i < n; ++i) syscall(kNrs[i % 3]);
  printf("done %ld\n", n);
  return 0;
}
