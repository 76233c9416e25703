#include "launcher/launch.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "launcher/init.h"
#include "launcher/landlock.h"
#include "launcher/mount_view.h"
#include "launcher/namespaces.h"
#include "launcher/step_report.h"

namespace sandtrace::launcher {
namespace {

// Signal state inherited from sandtrace must not leak into the sandbox: default dispositions
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

struct ChainPids {
  pid_t init;
  pid_t command;
};

[[noreturn]] void FailWith(int report, Step step, const Error& error) {
  errno = error.code != 0 ? error.code : EINVAL;
  FailStep(report, step, error.context.c_str());
}

// Processes of the sandbox that are not the command's: the set-up process and the init.
constexpr uint64_t kSandboxOwnProcesses = 2;

// Layer 5 resource limits, hard and soft alike so the command cannot raise them. Fork bombs
// stop at RLIMIT_NPROC (counted per user in the sandbox's own user namespace); RLIMIT_FSIZE
// makes larger writes fail (EFBIG, SIGXFSZ); RLIMIT_AS bounds each process's memory.
bool ApplyLimits(const SandboxConfig& sandbox) {
  auto set = [](int resource, uint64_t value) {
    const rlimit limit{static_cast<rlim_t>(value), static_cast<rlim_t>(value)};
    return setrlimit(resource, &limit) == 0;
  };
  // The kernel counts the sandbox's init and set-up process too (same uid, same namespace);
  // the tracer's own count of the command's tasks is the exact limit, this is the backstop.
  if (!set(RLIMIT_NPROC, uint64_t{sandbox.max_processes} + kSandboxOwnProcesses)) return false;
  if (sandbox.max_file_size != 0 && !set(RLIMIT_FSIZE, sandbox.max_file_size)) return false;
  if (sandbox.memory != 0 && !set(RLIMIT_AS, sandbox.memory)) return false;
  return true;
}

// The command process: layers 5-8, then exec. Never returns. It is a clone of the
// single-threaded set-up process, so it may allocate (Landlock rules are prepared here, after
// the init mounted the sandbox's /proc, so that rules bind to the sandbox's inodes).
[[noreturn]] void RunCommand(int report, const LaunchSpec& spec, char* const* argv) {
  const SandboxConfig& sandbox = spec.sandbox;
  // Asked before any filter: the --trace pre-filter may trace getpid, and before the tracer
  // attaches a traced call fails with ENOSYS.
  const pid_t self = getpid();
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) FailStep(report, Step::kNoNewPrivs);
  if (!sandbox.trace_only) {
    // Out of the caller's session (no controlling terminal: nothing to inject into with
    // TIOCSTI) and out of sandtrace's process group (kill(0, ...) reaches only the sandbox).
    // The wrapper usually made the session for the whole run; then only the group is left.
    if (sandbox.session_made) {
      if (setpgid(0, 0) < 0) FailStep(report, Step::kProcessGroup);
    } else if (setsid() < 0) {
      FailStep(report, Step::kSession);
    }
    LandlockRules rules;
    rules.read = sandbox.landlock_read;
    rules.read_write = sandbox.landlock_read_write;
    rules.exec = sandbox.landlock_exec;
    rules.optional = sandbox.landlock_optional;
    Result<PreparedLandlock> landlock = PrepareLandlock(rules);
    if (!landlock) FailWith(report, Step::kLandlock, landlock.error());
    if (int err = EnforceLandlockErrno(*landlock); err != 0) {
      errno = err;
      FailStep(report, Step::kLandlock);
    }
    if (!CloseInheritedFds(report)) FailStep(report, Step::kCloseFds);
    if (!ApplyLimits(sandbox)) FailStep(report, Step::kLimits);
    if (int err = InstallSeccompFilterInChild(spec.seccomp); err != 0) {
      errno = err;
      FailStep(report, Step::kSeccomp);
    }
  }
  if (!spec.trace_filter.empty()) {
    if (int err = InstallSeccompFilterInChild(spec.trace_filter); err != 0) {
      errno = err;
      FailStep(report, Step::kTraceFilter);
    }
  }
  if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) FailStep(report, Step::kTraceMe);
  // kill(), not raise(): raise() wraps the signal in two extra sigprocmask calls, which the
  // tracer would then see as the command's first syscalls.
  if (kill(self, SIGSTOP) != 0) FailStep(report, Step::kStop);
  execve(spec.executable.c_str(), argv, environ);
  FailStep(report, Step::kExec);
}

// In the init and the command: back to the caller's nice value (LaunchSpec::command_nice).
// Lowering one's own priority needs no privilege.
void TakeCommandNice(const LaunchSpec& spec) {
  if (spec.command_nice) setpriority(PRIO_PROCESS, 0, *spec.command_nice);
}

// The set-up process: layers 1-4, then the init and the command. Never returns.
[[noreturn]] void RunSetup(int report, int pids_out, const LaunchSpec& spec, char* const* argv,
                           uid_t uid, gid_t gid) {
  if (!ResetSignals()) FailStep(report, Step::kSignals);
  if (unshare(CLONE_NEWUSER) != 0) FailStep(report, Step::kUserNamespace);
  if (!WriteIdMaps(uid, gid)) FailStep(report, Step::kIdMaps);
  if (unshare(CLONE_NEWNS) != 0) FailStep(report, Step::kMountNamespace);
  if (!MakeMountsPrivate()) FailStep(report, Step::kMountPrivate);
  if (!spec.sandbox.trace_only) {
    MountPlan plan;
    plan.read_write = spec.sandbox.writable_paths;
    plan.read_only = spec.sandbox.visible_paths;
    plan.masked = spec.sandbox.masked_paths;
    plan.hidden = spec.sandbox.hidden_paths;
    if (Status s = ApplyMountView(plan); !s) FailWith(report, Step::kMountView, s.error());
  }
  // The IPC and UTS namespaces come with the PID namespace: the host's SysV IPC objects and
  // POSIX message queues are not visible, and the host name cannot be changed for the host.
  if (unshare(CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS) != 0) {
    FailStep(report, Step::kPidNamespace);
  }
  if (spec.sandbox.new_network) {
    if (unshare(CLONE_NEWNET) != 0) FailStep(report, Step::kNetNamespace);
    if (!BringUpLoopback()) FailStep(report, Step::kLoopback);
  }
  int ready[2], go[2];
  if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0) FailStep(report, Step::kInitFork);
  const pid_t init = fork();
  if (init < 0) FailStep(report, Step::kInitFork);
  if (init == 0) {
    TakeCommandNice(spec);
    close(ready[0]);
    close(go[1]);
    close(pids_out);
    if (!MountFreshProc()) FailStep(report, Step::kMountProc);
    close(report);
    close(ready[1]);  // EOF on `ready`: /proc is mounted
    for (int fd = 0; fd <= 2; ++fd) close(fd);
    RunInit(go[0]);
  }
  close(ready[1]);
  close(go[0]);
  char byte;
  if (read(ready[0], &byte, 1) != 0) _exit(125);  // the init failed and reported why
  // CLONE_PARENT: the command's parent is the tracer, so PTRACE_TRACEME attaches to it.
  const long command = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
  if (command < 0) FailStep(report, Step::kCommandFork);
  if (command == 0) {
    TakeCommandNice(spec);
    close(ready[0]);
    close(go[1]);
    close(pids_out);
    RunCommand(report, spec, argv);
  }
  close(go[1]);  // the init may now watch the command
  ChainPids pids{init, static_cast<pid_t>(command)};
  if (write(pids_out, &pids, sizeof pids) != static_cast<ssize_t>(sizeof pids)) _exit(125);
  _exit(0);
}

}  // namespace

std::vector<wire::LayerState> AppliedLayerStates(const LaunchSpec& spec);

Result<LaunchStarted> StartLaunch(const LaunchSpec& spec) {
  int report[2], pids[2];
  if (pipe2(report, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  if (pipe2(pids, O_CLOEXEC) != 0) {
    Error e = ErrnoError("pipe2");
    close(report[0]);
    close(report[1]);
    return e;
  }
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  const pid_t setup = fork();
  if (setup < 0) {
    Error e = ErrnoError("fork");
    for (int fd : {report[0], report[1], pids[0], pids[1]}) close(fd);
    return e;
  }
  if (setup == 0) {
    close(report[0]);
    close(pids[0]);
    RunSetup(report[1], pids[1], spec, argv.data(), uid, gid);
  }
  close(report[1]);
  close(pids[1]);
  return LaunchStarted{setup, report[0], pids[0]};
}

Launched FinishLaunch(const LaunchStarted& started, const LaunchSpec& spec) {
  int status = 0;
  while (waitpid(started.setup, &status, 0) < 0 && errno == EINTR) {
  }
  ChainPids chain{-1, -1};
  ssize_t n;
  while ((n = read(started.pids_fd, &chain, sizeof chain)) < 0 && errno == EINTR) {
  }
  close(started.pids_fd);
  Launched launched;
  launched.report_fd = started.report_fd;
  if (n != static_cast<ssize_t>(sizeof chain) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    launched.setup_failure = ReadFailure(started.report_fd, spec);
    launched.report_fd = -1;
    if (!launched.setup_failure.failed) {
      launched.setup_failure = {true, false, "sandbox set-up process", EIO};
    }
    return launched;
  }
  launched.pid = chain.command;
  launched.init_pid = chain.init;
  return launched;
}

bool AwaitCommandStop(Launched* launched, const LaunchSpec& spec) {
  int status = 0;
  pid_t got;
  do {
    got = waitpid(launched->pid, &status, __WALL);  // EINTR: a tick of the tracer's timer
  } while (got < 0 && errno == EINTR);
  if (got == launched->pid && WIFSTOPPED(status)) return true;
  launched->setup_failure = ReadFailure(launched->report_fd, spec);
  launched->report_fd = -1;
  if (!launched->setup_failure.failed) {
    launched->setup_failure = {true, false, "the command process ended before it was traced", EIO};
  }
  if (launched->init_pid > 0) kill(launched->init_pid, SIGKILL);
  return false;
}

ChildFailure ReadFailure(int report_fd, const LaunchSpec& spec) {
  ChildFailure failure;
  if (report_fd < 0) return failure;
  StepReport r;
  ssize_t n;
  do {
    n = read(report_fd, &r, sizeof r);
  } while (n < 0 && errno == EINTR);  // a tick of the tracer's timer: read again
  close(report_fd);
  if (n != static_cast<ssize_t>(sizeof r)) return failure;
  failure.failed = true;
  failure.error = r.error;
  failure.exec_failed = r.step == Step::kExec;
  const int code = static_cast<int>(r.step);
  failure.layer = code >= 10 && code < 90 ? code / 10 : 0;
  failure.step = failure.exec_failed ? "execve(" + spec.executable + ")" : StepName(r.step);
  r.detail[sizeof r.detail - 1] = '\0';
  if (r.detail[0] != '\0') failure.step += std::string(" [") + r.detail + "]";
  return failure;
}

std::vector<wire::LayerState> LayerStates(const LaunchSpec& spec, const ChildFailure& failure) {
  std::vector<wire::LayerState> layers = AppliedLayerStates(spec);
  if (!failure.failed || failure.layer == 0) return layers;
  for (wire::LayerState& l : layers) {
    if (l.layer == failure.layer) {
      l.applied = false;
      l.detail = "failed: " + failure.step + ": " + strerror(failure.error);
    } else if (l.layer > failure.layer) {
      l.applied = false;
      l.detail = "not reached: layer " + std::to_string(failure.layer) + " failed";
    }
  }
  return layers;
}

std::vector<wire::LayerState> AppliedLayerStates(const LaunchSpec& spec) {
  const SandboxConfig& sandbox = spec.sandbox;
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  auto layer = [](uint8_t n, const char* name, bool applied, std::string detail) {
    return wire::LayerState{n, name, applied, std::move(detail)};
  };
  const std::string skip_trace_only = "skipped: --trace-only";
  std::string mount_detail = "private propagation";
  if (!sandbox.trace_only) {
    MountPlan plan;
    plan.read_write = sandbox.writable_paths;
    plan.masked = sandbox.masked_paths;
    plan.hidden = sandbox.hidden_paths;
    mount_detail += "; " + DescribeMountView(plan);
  }
  std::string landlock_detail = skip_trace_only;
  if (!sandbox.trace_only) {
    landlock_detail = "ABI " + std::to_string(LandlockAbi()) + "; " +
                      std::to_string(sandbox.landlock_read.size() +
                                     sandbox.landlock_read_write.size() +
                                     sandbox.landlock_exec.size()) +
                      " path rules; signals and abstract unix sockets scoped";
  }
  std::string seccomp_detail = skip_trace_only;
  if (!sandbox.trace_only) {
    seccomp_detail = std::to_string(spec.seccomp.code().size()) +
                     " BPF instructions: always-blocked and hardening syscalls fail with EPERM, "
                     "clone3 with ENOSYS, non-native architectures killed";
  }
  if (!spec.trace_filter.empty()) {
    seccomp_detail += "; --trace pre-filter (" + std::to_string(spec.trace_filter.code().size()) +
                      " BPF instructions): only the selected syscalls stop the tracer";
  }
  std::string command_detail = "PR_SET_NO_NEW_PRIVS";
  if (!sandbox.trace_only) {
    command_detail += "; new session and process group; fds beyond 0-2 closed; at most " +
                      std::to_string(sandbox.max_processes) + " processes (RLIMIT_NPROC)";
    if (sandbox.max_file_size != 0) {
      command_detail += "; files up to " + std::to_string(sandbox.max_file_size) +
                        " bytes (RLIMIT_FSIZE)";
    }
    if (sandbox.memory != 0) {
      command_detail += "; " + std::to_string(sandbox.memory) +
                        " bytes of address space per process (RLIMIT_AS)";
    }
  }
  return {
      layer(1, "user_namespace", true,
            "uid " + std::to_string(uid) + " and gid " + std::to_string(gid) +
                " mapped to themselves; setgroups denied"),
      layer(2, "mount_namespace", true, mount_detail),
      layer(3, "pid_namespace", true,
            "own init as PID 1, command as PID 2, fresh /proc; new IPC and UTS namespaces"),
      sandbox.new_network ? layer(4, "network_namespace", true, "only lo, up")
                          : layer(4, "network_namespace", false, "skipped: --allow-net"),
      layer(5, "no_new_privs", true, command_detail),
      layer(6, "landlock", !sandbox.trace_only, landlock_detail),
      layer(7, "seccomp", !sandbox.trace_only, seccomp_detail),
      layer(8, "ptrace", true,
            "PTRACE_TRACEME + SIGSTOP, then held with PTRACE_SEIZE; PTRACE_O_EXITKILL" +
                std::string(sandbox.allow_exec ? "" : "; execve after the command's own denied")),
  };
}

}  // namespace sandtrace::launcher
