#include "cli/stage.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ready_pipe.h"

namespace sandtrace::cli {

namespace {
constexpr int kReadyFdInStage = 3;

constexpr size_t kMaxHandedFds = 16;
constexpr size_t kChildStackSize = 64 * 1024;

struct ChildArgs {
  const StageSpec* spec;
  char* const* argv;
  const std::pair<int, int>* fds;  // (fd in wrapper, fd number in the stage)
  size_t fd_count;
  pid_t wrapper;
  sigset_t mask;  // the wrapper's signal mask, restored before the exec
};

// The stage's side of LaunchStage, up to its exec. It runs in the wrapper's memory on its own
// stack (CLONE_VM | CLONE_VFORK): only system calls, no allocation, no return.
int RunStageChild(void* arg) {
  const ChildArgs& a = *static_cast<const ChildArgs*>(arg);
  // Our handlers would run on the wrapper's data: default dispositions before signals open.
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction current;
    if (sigaction(sig, nullptr, &current) == 0 && current.sa_handler != SIG_DFL &&
        current.sa_handler != SIG_IGN) {
      sigaction(sig, &dfl, nullptr);
    }
  }
  prctl(PR_SET_PDEATHSIG, a.spec->death_signal);
  if (getppid() != a.wrapper) _exit(1);  // the wrapper died before the prctl
  // Best effort; inherited by every thread and process the stage starts.
  if (a.spec->nice != 0) setpriority(PRIO_PROCESS, 0, a.spec->nice);
  // Move the handed-over fds to their numbers: first out of the way (above 100), then down.
  int moved[kMaxHandedFds];
  for (size_t i = 0; i < a.fd_count; ++i) {
    moved[i] = fcntl(a.fds[i].first, F_DUPFD_CLOEXEC, 100);
    if (moved[i] < 0) _exit(1);
  }
  for (size_t i = 0; i < a.fd_count; ++i) {
    if (dup2(moved[i], a.fds[i].second) < 0) _exit(1);  // dup2 clears FD_CLOEXEC on the copy
  }
  sigprocmask(SIG_SETMASK, &a.mask, nullptr);
  execv(a.argv[0], a.argv);
  _exit(127);
}

}  // namespace

std::string StageDirectory() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

Result<Stage> LaunchStage(const StageSpec& spec, int* ready_fd) {
  *ready_fd = -1;
  const std::string binary = StageDirectory() + "/" + spec.binary;
  if (access(binary.c_str(), X_OK) != 0) return ErrnoError(binary);
  int ready[2] = {-1, -1};
  if (spec.handshake && pipe2(ready, O_CLOEXEC) != 0) return ErrnoError("pipe2");

  std::vector<std::string> args{binary};
  if (spec.handshake) args.push_back("--ready-fd=" + std::to_string(kReadyFdInStage));
  args.insert(args.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::pair<int, int>> fds = spec.fds;
  if (spec.handshake) fds.emplace_back(ready[1], kReadyFdInStage);
  if (fds.size() > kMaxHandedFds) return PlainError(spec.name + ": too many fds to hand over");
  ChildArgs child{&spec, argv.data(), fds.data(), fds.size(), getpid(), {}};

  // Like posix_spawn: the child shares our memory until its exec (no copy of the wrapper's
  // page tables), with every signal blocked so that no handler of ours runs in it.
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &child.mask);
  alignas(16) char stack[kChildStackSize];
  const pid_t pid = clone(RunStageChild, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD,
                          &child);
  const int clone_errno = errno;
  sigprocmask(SIG_SETMASK, &child.mask, nullptr);
  if (pid < 0) {
    errno = clone_errno;
    return ErrnoError("clone " + spec.name);
  }
  if (spec.handshake) {
    close(ready[1]);
    *ready_fd = ready[0];
  }
  return Stage{spec.name, pid, true, 0};
}

Status AwaitStage(Stage* stage, int ready_fd, int timeout_ms) {
  if (ready_fd < 0) return {};
  Status ready_status = AwaitReady(ready_fd, timeout_ms, stage->name);
  if (!ready_status) {
    kill(stage->pid, SIGKILL);
    waitpid(stage->pid, nullptr, 0);
    stage->running = false;
    return ready_status;
  }
  return ready_status;
}

Result<Stage> StartStage(const StageSpec& spec, int timeout_ms) {
  int ready_fd = -1;
  Result<Stage> stage = LaunchStage(spec, &ready_fd);
  if (!stage) return stage.error();
  if (Status s = AwaitStage(&*stage, ready_fd, timeout_ms); !s) return s.error();
  return stage;
}

}  // namespace sandtrace::cli
