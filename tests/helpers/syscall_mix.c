// st-syscall-mix N: at least N syscalls of the kinds that make the pipeline keep state, then
// exit 0. In turn: getppid; openat and newfstatat of a distinct path that does not exist
// (ENOENT: a decoded path, the summary's files list and the reporting rules see a new path
// each time); getuid. Every 10000 rounds a child is forked that makes one call and exits
// (spawn and exit events, per-process state). Prints "done N CHILDREN".
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
  long rounds = (n + 3) / 4, children = 0;
  char path[64];
  struct stat st;
  for (long i = 0; i < rounds; ++i) {
    syscall(SYS_getppid);
    snprintf(path, sizeof path, "/nonexistent-st-syscall-mix/%ld", i);
    int fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) close(fd);
    fstatat(AT_FDCWD, path, &st, 0);
    syscall(SYS_getuid);
    if (i % 10000 == 9999) {
      pid_t pid = fork();
      if (pid == 0) {
        syscall(SYS_getppid);
        _exit(0);
      }
      if (pid > 0) {
        waitpid(pid, NULL, 0);
        ++children;
      }
    }
  }
  printf("done %ld %ld\n", rounds * 4, children);
  return 0;
}
