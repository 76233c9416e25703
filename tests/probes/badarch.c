// st-probe-badarch MODE: a 64-bit program entering the kernel through a foreign ABI.
//   int80   i386 getpid through `int $0x80`
//   x32     x32 getpid (nr | 0x40000000) through `syscall`
// Prints "RESULT attempting MODE" first; a sandbox that kills the process (SIGSYS) leaves it at
// that. If the call returns: "RESULT MODE ok ret=N" or "RESULT MODE errno=E".
#include "probe.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  printf("RESULT attempting %s\n", argv[1]);
  fflush(stdout);
  long ret;
  if (strcmp(argv[1], "int80") == 0) {
    long nr = 20;  // i386 getpid
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr) : "memory");
  } else if (strcmp(argv[1], "x32") == 0) {
    long nr = 0x40000000L | 39;  // x32 getpid
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
  } else {
    return 2;
  }
  if (ret < 0 && ret > -4096) {
    probe_report(argv[1], -1, (int)-ret, NULL);
  } else {
    probe_report(argv[1], 0, 0, "ret=%ld", ret);
  }
  return 0;
}
