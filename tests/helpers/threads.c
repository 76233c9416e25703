// st-threads N M: N threads, each makes M getppid() calls and exits; the main thread waits
// for them without syscalls (pthread_tryjoin_np in a spin loop), so the syscall counts do not
// depend on timing. Prints "threads N M".
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static long m;

static void* work(void* arg) {
  (void)arg;
  for (long i = 0; i < m; ++i) syscall(SYS_getppid);
  return NULL;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 4;
  m = argc > 2 ? strtol(argv[2], NULL, 10) : 10;
  pthread_t* t = calloc((size_t)n, sizeof *t);
  for (long i = 0; i < n; ++i) {
    if (pthread_create(&t[i], NULL, work, NULL) != 0) return 1;
  }
  for (long i = 0; i < n; ++i) {
    while (pthread_tryjoin_np(t[i], NULL) == EBUSY) __asm__ volatile("pause");
  }
  printf("threads %ld %ld\n", n, m);
  return 0;
}
