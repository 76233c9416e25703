#include "cli/stage.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ready_pipe.h"

namespace sandtrace::cli {

namespace {
constexpr int kReadyFdInStage = 3;
}

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
  const pid_t wrapper = getpid();

  pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork " + spec.name);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, spec.death_signal);
    if (getppid() != wrapper) _exit(1);  // the wrapper died before the prctl
    if (spec.nice != 0) setpriority(PRIO_PROCESS, 0, spec.nice);  // best effort
    // Move the handed-over fds to their numbers: first out of the way (above 100), then down.
    std::vector<std::pair<int, int>> fds = spec.fds;
    if (spec.handshake) fds.emplace_back(ready[1], kReadyFdInStage);
    for (auto& [from, to] : fds) {
      from = fcntl(from, F_DUPFD_CLOEXEC, 100);
      if (from < 0) _exit(1);
    }
    for (const auto& [from, to] : fds) {
      if (dup2(from, to) < 0) _exit(1);  // dup2 clears FD_CLOEXEC on `to`
    }
    execv(argv[0], argv.data());
    _exit(127);
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
