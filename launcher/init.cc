#include "launcher/init.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace sandtrace::launcher {
namespace {

constexpr pid_t kCommandPid = 2;  // the second process of a fresh PID namespace

}  // namespace

void RunInit(int go_fd) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  const int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  char byte;
  while (read(go_fd, &byte, 1) < 0 && errno == EINTR) {
  }
  close(go_fd);
  // -1 when the command is already gone: then only orphans keep us alive.
  const int command = static_cast<int>(syscall(SYS_pidfd_open, kCommandPid, 0));
  bool command_alive = command >= 0;
  for (;;) {
    pid_t reaped;
    while ((reaped = waitpid(-1, nullptr, WNOHANG)) > 0) {
    }
    if (reaped < 0 && errno == ECHILD && !command_alive) _exit(0);
    pollfd fds[2] = {{sigfd, POLLIN, 0}, {command, POLLIN, 0}};
    poll(fds, command_alive ? 2 : 1, -1);  // EINTR: nothing to do but look again
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info;
      while (read(sigfd, &info, sizeof info) > 0) {
      }
    }
    if (command_alive && (fds[1].revents & (POLLIN | POLLHUP))) command_alive = false;
  }
}

}  // namespace sandtrace::launcher
