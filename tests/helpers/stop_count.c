// st-stop-count N [T]: T threads (default 1), each makes N getppid() calls between two
// getrusage(RUSAGE_THREAD) readings and counts the voluntary context switches in between. A
// ptrace stop puts the stopped thread to sleep, so each stop of a traced call is one voluntary
// switch of that thread; getppid() itself never sleeps. The main thread waits for the others
// without syscalls (pthread_tryjoin_np in a spin loop). Prints, per thread,
// "thread I calls N voluntary_switches V".
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static long calls;

static void* work(void* arg) {
  long* switches = arg;
  struct rusage before, after;
  getrusage(RUSAGE_THREAD, &before);
  for (long i = 0; i < calls; ++i) syscall(SYS_getppid);
  getrusage(RUSAGE_THREAD, &after);
  *switches = after.ru_nvcsw - before.ru_nvcsw;
  return NULL;
}

int main(int argc, char** argv) {
  calls = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
  long n = argc > 2 ? strtol(argv[2], NULL, 10) : 1;
  if (calls < 0 || n < 1) return 2;
  long* switches = calloc((size_t)n, sizeof *switches);
  pthread_t* t = calloc((size_t)n, sizeof *t);
  if (!switches || !t) return 1;
  if (n == 1) {
    work(&switches[0]);
  } else {
    for (long i = 0; i < n; ++i) {
      if (pthread_create(&t[i], NULL, work, &switches[i]) != 0) return 1;
    }
    for (long i = 0; i < n; ++i) {
      while (pthread_tryjoin_np(t[i], NULL) == EBUSY) __asm__ volatile("pause");
    }
  }
  for (long i = 0; i < n; ++i) {
    printf("thread %ld calls %ld voluntary_switches %ld\n", i, calls, switches[i]);
  }
  return 0;
}
