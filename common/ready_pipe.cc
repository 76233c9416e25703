#include "common/ready_pipe.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace sandtrace {
namespace {

void WriteLine(int fd, const std::string& line) {
  if (fd < 0) return;
  // The reader may be gone (a stage that died, the tracer refusing to start): that must be an
  // EPIPE here, not a SIGPIPE that kills the writer. Blocked, not ignored, so that nothing this
  // process starts later inherits an ignored SIGPIPE; a SIGPIPE this write raised is consumed.
  sigset_t pipe_only, previous;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;  // interrupted before writing: retry
    if (n <= 0) break;  // the wrapper is gone; it will notice this stage on its own
    done += static_cast<size_t>(n);
  }
  close(fd);
  const timespec no_wait{0, 0};
  if (!was_pending) {
    while (sigtimedwait(&pipe_only, nullptr, &no_wait) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

}  // namespace

void ReportReady(int fd) { WriteLine(fd, "ok\n"); }

void ReportFailure(int fd, const std::string& message) { WriteLine(fd, "error: " + message + "\n"); }

Status AwaitReady(int fd, int timeout_ms, const std::string& stage) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  Status result = PlainError(stage + ": exited before it was ready");
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result = PlainError(stage + ": not ready after " + std::to_string(timeout_ms) + " ms");
      break;
    }
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;  // a signal for the wrapper: keep waiting
    if (r <= 0) continue;
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF without a full line
    line.append(buf, static_cast<size_t>(n));
    size_t nl = line.find('\n');
    if (nl == std::string::npos) continue;
    line.resize(nl);
    if (line == "ok") {
      result = {};
    } else if (line.rfind("error: ", 0) == 0) {
      result = PlainError(line.substr(7));
    } else {
      result = PlainError(stage + ": unexpected handshake '" + line + "'");
    }
    break;
  }
  close(fd);
  return result;
}

}  // namespace sandtrace
