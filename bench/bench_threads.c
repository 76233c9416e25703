/* st-bench-threads T N: T threads, each making N cheap syscalls (getppid), then exit 0.
 * The threads start together (a barrier), so the tracer sees T busy tracees at once. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long per_thread;
static pthread_barrier_t start;

static void *worker(void *arg) {
  (void)arg;
  pthread_barrier_wait(&start);
  for (long i = 0; i < per_thread; ++i) syscall(SYS_getppid);
  return NULL;
}

static long parse(const char *what, const char *text, long min) {
  char *end;
  long v = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < min) {
    fprintf(stderr, "st-bench-threads: %s must be a whole number >= %ld, got '%s'\n", what, min,
            text);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: st-bench-threads T N\n");
    return 2;
  }
  long threads = parse("T", argv[1], 1);
  per_thread = parse("N", argv[2], 0);
  if (threads > 1024) {
    fprintf(stderr, "st-bench-threads: at most 1024 threads\n");
    return 2;
  }
  pthread_t *ids = calloc((size_t)threads, sizeof *ids);
  if (!ids || pthread_barrier_init(&start, NULL, (unsigned)threads) != 0) {
    fprintf(stderr, "st-bench-threads: out of memory\n");
    return 1;
  }
  for (long i = 0; i < threads; ++i) {
    int err = pthread_create(&ids[i], NULL, worker, NULL);
    if (err != 0) {
      fprintf(stderr, "st-bench-threads: pthread_create: %s\n", strerror(err));
      return 1;
    }
  }
  for (long i = 0; i < threads; ++i) pthread_join(ids[i], NULL);
  free(ids);
  return 0;
}
