// st-limits MODE ARGS: exercises one resource limit or the exec allow-list of a policy and
// prints one line per result (the test decides what is a pass), then exits 0:
//   fork N              fork N children at once; each sleeps 1 s and _exit(0)s, so all are alive
//                       together. Then waits for every child that was created.
//                       "RESULT fork ok=K failed=F errno=NAME" (errno of the first failure,
//                       "none" when nothing failed), then "RESULT reaped exited=K" (children
//                       reaped with exit status 0).
//   alloc MB            malloc(MB MiB) and memset every byte.
//                       "RESULT alloc ok mb=MB" or "RESULT alloc failed mb=MB errno=NAME"
//   write PATH BYTES    SIGXFSZ ignored; create/truncate PATH and write BYTES bytes in 4 KiB
//                       chunks until done or a write fails.
//                       "RESULT write ok written=N" or "RESULT write failed written=N errno=NAME"
//   exec PATH           execv(PATH, {PATH}); on success PATH runs (and its exit status is the
//                       helper's); on failure "RESULT exec failed errno=NAME".
// Usage errors exit 2.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* errname(int e) {
  const char* name = strerrorname_np(e);
  return name ? name : "EUNKNOWN";
}

static int usage(void) {
  fputs("usage: st-limits fork N | alloc MB | write PATH BYTES | exec PATH\n", stderr);
  return 2;
}

static int do_fork(long n) {
  long ok = 0, failed = 0;
  int first_errno = 0;
  for (long i = 0; i < n; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      struct timespec second = {1, 0};
      while (nanosleep(&second, &second) != 0 && errno == EINTR) {
      }
      _exit(0);
    }
    if (pid < 0) {
      if (first_errno == 0) first_errno = errno;
      ++failed;
    } else {
      ++ok;
    }
  }
  long exited = 0;
  for (;;) {
    int status;
    pid_t pid = wait(&status);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: every child reaped
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++exited;
  }
  printf("RESULT fork ok=%ld failed=%ld errno=%s\n", ok, failed,
         first_errno ? errname(first_errno) : "none");
  printf("RESULT reaped exited=%ld\n", exited);
  return 0;
}

static int do_alloc(long mb) {
  const size_t size = (size_t)mb << 20;
  errno = 0;
  char* p = malloc(size);
  if (!p) {
    printf("RESULT alloc failed mb=%ld errno=%s\n", mb, errname(errno ? errno : ENOMEM));
    return 0;
  }
  memset(p, 0x5a, size);
  // Read it back so the memset cannot be optimised away.
  unsigned long sum = 0;
  for (size_t i = 0; i < size; i += 4096) sum += (unsigned char)p[i];
  free(p);
  printf("RESULT alloc ok mb=%ld pages=%lu\n", mb, sum / 0x5a);
  return 0;
}

static int do_write(const char* path, long long bytes) {
  signal(SIGXFSZ, SIG_IGN);  // the write fails with EFBIG instead of killing the helper
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    printf("RESULT write failed written=0 errno=%s\n", errname(errno));
    return 0;
  }
  static char chunk[4096];
  memset(chunk, 'x', sizeof chunk);
  long long written = 0;
  int err = 0;
  while (written < bytes) {
    size_t want = bytes - written < (long long)sizeof chunk ? (size_t)(bytes - written)
                                                             : sizeof chunk;
    ssize_t n = write(fd, chunk, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) {
      err = EIO;
      break;
    }
    written += n;
  }
  if (close(fd) != 0 && err == 0) err = errno;
  if (err) {
    printf("RESULT write failed written=%lld errno=%s\n", written, errname(err));
  } else {
    printf("RESULT write ok written=%lld\n", written);
  }
  return 0;
}

static int do_exec(const char* path) {
  char* const argv[] = {(char*)path, NULL};
  fflush(stdout);
  execv(path, argv);
  printf("RESULT exec failed errno=%s\n", errname(errno));
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) return usage();
  const char* mode = argv[1];
  if (strcmp(mode, "fork") == 0 && argc == 3) return do_fork(strtol(argv[2], NULL, 10));
  if (strcmp(mode, "alloc") == 0 && argc == 3) return do_alloc(strtol(argv[2], NULL, 10));
  if (strcmp(mode, "write") == 0 && argc == 4) return do_write(argv[2], strtoll(argv[3], NULL, 10));
  if (strcmp(mode, "exec") == 0 && argc == 3) return do_exec(argv[2]);
  return usage();
}
