#include "launcher/launch.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sandtrace::launcher {
namespace {

enum class Step : int32_t { kSignals = 1, kTraceMe = 2, kStop = 3, kExec = 4 };

struct Report {
  Step step;
  int32_t error;
};

[[noreturn]] void Fail(int fd, Step step) {
  Report r{step, errno};
  // Best effort: the parent treats a short report like "unknown failure".
  ssize_t ignored = write(fd, &r, sizeof r);
  (void)ignored;
  _exit(step == Step::kExec ? (r.error == ENOENT || r.error == ENOTDIR ? 127 : 126) : 125);
}

// Signal state inherited from sandtrace must not leak into the command: default dispositions
// (ignored signals survive exec) and an empty mask.
bool ResetSignals() {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &dfl, nullptr);  // EINVAL for the libc-reserved signals is harmless
  }
  sigset_t none;
  sigemptyset(&none);
  return sigprocmask(SIG_SETMASK, &none, nullptr) == 0;
}

[[noreturn]] void RunChild(int fd, char* const* argv, const char* executable) {
  if (!ResetSignals()) Fail(fd, Step::kSignals);
  if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) Fail(fd, Step::kTraceMe);
  // kill(), not raise(): raise() wraps the signal in two extra sigprocmask calls, which the
  // tracer would then see as the command's first syscalls.
  if (kill(getpid(), SIGSTOP) != 0) Fail(fd, Step::kStop);
  execve(executable, argv, environ);
  Fail(fd, Step::kExec);
}

}  // namespace

Result<Launched> Launch(const LaunchSpec& spec) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    Error e = ErrnoError("fork");
    close(fds[0]);
    close(fds[1]);
    return e;
  }
  if (pid == 0) {
    close(fds[0]);
    RunChild(fds[1], argv.data(), spec.executable.c_str());
  }
  close(fds[1]);
  return Launched{pid, fds[0]};
}

ChildFailure ReadFailure(int report_fd, const LaunchSpec& spec) {
  ChildFailure failure;
  Report r;
  ssize_t n;
  do {
    n = read(report_fd, &r, sizeof r);
  } while (n < 0 && errno == EINTR);  // a tick of the tracer's timer: read again
  close(report_fd);
  if (n != static_cast<ssize_t>(sizeof r)) return failure;
  failure.failed = true;
  failure.error = r.error;
  switch (r.step) {
    case Step::kSignals: failure.step = "resetting signal dispositions"; break;
    case Step::kTraceMe: failure.step = "layer 8 (ptrace): PTRACE_TRACEME"; break;
    case Step::kStop: failure.step = "layer 8 (ptrace): SIGSTOP"; break;
    case Step::kExec:
      failure.exec_failed = true;
      failure.step = "execve(" + spec.executable + ")";
      break;
  }
  return failure;
}

std::vector<wire::LayerState> LayerStates(const LaunchSpec& spec) {
  static const char* const kNames[] = {"user_namespace", "mount_namespace", "pid_namespace",
                                       "network_namespace", "no_new_privs", "landlock",
                                       "seccomp", "ptrace"};
  std::vector<wire::LayerState> layers;
  for (uint8_t i = 0; i < 8; ++i) {
    wire::LayerState l{static_cast<uint8_t>(i + 1), kNames[i], false, ""};
    if (i == 7) {
      l.applied = true;
      l.detail = "PTRACE_TRACEME + SIGSTOP, then held with PTRACE_SEIZE; PTRACE_O_EXITKILL";
    } else if (spec.trace_only && (i == 5 || i == 6)) {
      l.detail = "skipped: --trace-only";
    } else {
      l.detail = "skipped: not implemented in this version";
    }
    layers.push_back(std::move(l));
  }
  return layers;
}

}  // namespace sandtrace::launcher
