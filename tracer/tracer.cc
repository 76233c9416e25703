#include "tracer/tracer.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "common/ready_pipe.h"
#include "launcher/launch.h"
#include "tracer/clock.h"
#include "tracer/ptrace_loop.h"
#include "tracer/publisher.h"

namespace sandtrace::tracer {
namespace {

int ExitStatusFromWait(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// The end message and exit status of the run (SPEC section 2).
wire::End MakeEnd(const LoopResult& loop, const launcher::ChildFailure& failure) {
  wire::End end;
  switch (loop.kill_reason) {
    case KillReason::kTimeout:
      end.outcome = wire::Outcome::kTimedOut;
      end.exit_code = 124;
      end.detail = "timeout: the process tree was killed";
      return end;
    case KillReason::kSignal:
      end.outcome = wire::Outcome::kInterrupted;
      end.signal = loop.stop_signal;
      end.exit_code = 128 + loop.stop_signal;
      end.detail = std::string("interrupted by ") + strsignal(loop.stop_signal) +
                   ": the process tree was killed";
      return end;
    case KillReason::kPublishFailed:
      end.outcome = wire::Outcome::kAborted;
      end.exit_code = 1;
      end.detail = "publishing records failed: " + loop.publish_error.message();
      return end;
    case KillReason::kAttachFailed:
      end.outcome = wire::Outcome::kSetupFailed;
      end.exit_code = 125;
      end.detail = "layer 8 (ptrace): " + loop.publish_error.message();
      return end;
    case KillReason::kNone:
    case KillReason::kRootGone:
      break;
  }
  if (failure.failed) {
    end.outcome = failure.exec_failed ? wire::Outcome::kExecFailed : wire::Outcome::kSetupFailed;
    end.exit_code = failure.exec_failed
                        ? (failure.error == ENOENT || failure.error == ENOTDIR ? 127 : 126)
                        : 125;
    end.detail = failure.step + ": " + strerror(failure.error);
    return end;
  }
  if (WIFSIGNALED(loop.root_status)) {
    end.outcome = wire::Outcome::kSignaled;
    end.signal = WTERMSIG(loop.root_status);
  }
  end.exit_code = ExitStatusFromWait(loop.root_status);
  return end;
}

Result<launcher::LaunchSpec> LoadLaunchSpec(const TracerConfig& config) {
  launcher::LaunchSpec spec;
  spec.executable = config.executable;
  spec.argv = config.argv;
  if (config.sandbox_file.empty()) return spec;  // trace-only defaults
  int fd = open(config.sandbox_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + config.sandbox_file);
  std::string bytes;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) bytes.append(buf, static_cast<size_t>(n));
  close(fd);
  Result<launcher::SandboxConfig> sandbox = launcher::DeserializeSandboxConfig(bytes);
  if (!sandbox) return sandbox.error();
  spec.sandbox = std::move(*sandbox);
  if (!spec.sandbox.trace_only) {
    Result<launcher::SeccompProgram> program =
        launcher::SeccompProgram::Deserialize(spec.sandbox.seccomp_program);
    if (!program) return program.error();
    spec.seccomp = std::move(*program);
  }
  if (!spec.sandbox.trace_filter.empty()) {
    Result<launcher::SeccompProgram> filter =
        launcher::SeccompProgram::Deserialize(spec.sandbox.trace_filter);
    if (!filter) return filter.error();
    spec.trace_filter = std::move(*filter);
  }
  return spec;
}

}  // namespace

Result<TracerConfig> ConfigFromFlags(const StageFlags& flags) {
  TracerConfig c;
  c.endpoint = flags.Get("out");
  if (c.endpoint.empty()) return PlainError("--out ENDPOINT is required");
  c.run_id = flags.Get("run-id");
  c.host = flags.Get("host");
  c.argv = flags.positional();
  if (c.argv.empty()) return PlainError("no command given");
  c.executable = flags.Get("exec", c.argv[0]);
  const std::string follow = flags.Get("follow-forks", "true");
  if (follow != "true" && follow != "false") return PlainError("--follow-forks: true or false");
  c.follow_forks = follow == "true";
  c.sandbox_file = flags.Get("sandbox");
  Result<long long> timeout = flags.GetInt("timeout", 30);
  if (!timeout) return timeout.error();
  if (*timeout < 0 || *timeout > 1'000'000'000) return PlainError("--timeout out of range");
  c.timeout_s = static_cast<int>(*timeout);
  Result<long long> go_fd = flags.GetInt("go-fd", -1);
  if (!go_fd) return go_fd.error();
  c.go_fd = static_cast<int>(*go_fd);
  return c;
}

namespace {
constexpr int kGoTimeoutMs = 60'000;

// How many nice levels the tracing thread runs above the command (when it may). On the
// benchmark VM, a fork/exec-heavy script took 1.06x the floor's time at 6, 1.03x at 7 and
// 0.98x at 8 and at 10; 4 threads paid 6 % more CPU at 8, 10 % at 10.
constexpr int kTracerPriorityBoost = 8;

// Every stop of every traced thread waits for this thread, so it runs kTracerPriorityBoost
// nice levels above the command it traces when it may (CAP_SYS_NICE, or an RLIMIT_NICE that
// allows it); otherwise (an unprivileged user by default) it stays at the caller's. Only this
// thread and the set-up process it forks are raised (Linux keeps a nice value per thread, and a
// fork inherits it): the sandbox's init and the command take the caller's back before anything
// of theirs runs, and ZeroMQ's threads start at the caller's (RunTracer). Other programs lose
// little to it: the thread runs only while a tracee waits for it. On a 2-vCPU VM a
// fork/exec-heavy script went from 1.2-1.3x the floor's wall time to about 1.0x
// (docs/benchmarks.md, the 2026-11-30 08:02 entry).
//
// Not when the run may use one CPU only (taskset): the gain is in where the scheduler puts the
// tracer and a tracee that stops, and with one CPU there is no choice to make. What remains is
// the price: a tracer that always runs first handles one stop per wake-up where, at the
// command's nice, it takes the stops of several threads in turn (4 threads on one CPU:
// 1.15x the time with a boost of 8, as for the floor with one of 10).
//
// Returns whether the calling thread now runs raised above `caller_nice`, its nice value before.
bool RaiseTracerPriority(int caller_nice) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) < 2) return false;
  const int raised = std::max(-20, caller_nice - kTracerPriorityBoost);
  return raised < caller_nice && setpriority(PRIO_PROCESS, 0, raised) == 0;
}

std::optional<int> CurrentNice() {
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, 0);
  if (nice == -1 && errno != 0) return std::nullopt;
  return nice;
}
}  // namespace

int RunTracer(const TracerConfig& config) {
  // Orphans of the traced tree are re-parented to us, so the tree can always be killed whole.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  InstallStopHandlers();
  const Clock clock;
  const uint64_t start_ns = clock.RealtimeNs();

  // The go pipe is ours, not the command's.
  if (config.go_fd >= 0) fcntl(config.go_fd, F_SETFD, FD_CLOEXEC);
  // Fork the sandbox before ZeroMQ starts its threads: the child chain is then a copy of a
  // single-threaded process.
  Result<launcher::LaunchSpec> loaded = LoadLaunchSpec(config);
  if (!loaded) {
    fprintf(stderr, "sandtrace: %s\n", loaded.error().message().c_str());
    return 125;
  }
  // The set-up process builds the sandbox on the way to every run's start, so it runs at the
  // tracer's priority: forked raised, with the init and the command taking the caller's nice
  // value back before anything of theirs runs. On the benchmark VM this took 0.6-0.7 ms off the
  // 4.5-4.9 ms from sandtrace's start to the command's exec (docs/benchmarks.md, 09:55 entry).
  const std::optional<int> caller_nice = CurrentNice();
  const bool raised = caller_nice && RaiseTracerPriority(*caller_nice);
  if (raised) loaded->command_nice = caller_nice;
  const launcher::LaunchSpec& spec = *loaded;
  Result<launcher::LaunchStarted> started = launcher::StartLaunch(spec);
  if (!started) {
    fprintf(stderr, "sandtrace: %s\n", started.error().message().c_str());
    return 125;
  }
  // ZeroMQ's context, socket and threads are set up while the set-up process builds the
  // sandbox; the connection itself waits for the go. Its threads start at the caller's nice
  // value (a new thread takes its creator's), then this one is raised again.
  if (raised) setpriority(PRIO_PROCESS, 0, *caller_nice);
  Result<wire::Sender> sender = wire::Sender::Unconnected();
  if (raised) RaiseTracerPriority(*caller_nice);
  launcher::Launched launched = launcher::FinishLaunch(*started, spec);
  // The command waits stopped before its exec; the analyser is ready (bound) once this returns,
  // so the connection below is made at once.
  if (config.go_fd >= 0) {
    if (Status go = AwaitReady(config.go_fd, kGoTimeoutMs, "the pipeline"); !go) {
      if (launched.init_pid > 0) kill(launched.init_pid, SIGKILL);
      if (launched.pid > 0) kill(launched.pid, SIGKILL);
      return 1;  // the wrapper reports why the pipeline did not start
    }
  }
  Status connected = sender ? sender->ConnectTo(config.endpoint)
                            : Status(Error{sender.error().code, "zmq connect " + config.endpoint});
  if (!connected) {
    if (launched.init_pid > 0) kill(launched.init_pid, SIGKILL);
    fprintf(stderr, "sandtrace: %s\n", connected.error().message().c_str());
    return 1;
  }
  Publisher publisher(std::move(*sender));

  wire::Hello hello;
  hello.run_id = config.run_id;
  hello.host = config.host;
  hello.argv = config.argv;
  hello.executable = config.executable;
  hello.start_ns = start_ns;
  hello.tracer_pid = getpid();
  if (!launched.setup_failure.failed) launcher::AwaitCommandStop(&launched, spec);
  const bool failed = launched.setup_failure.failed;
  hello.root_pid = failed ? 0 : launched.pid;
  hello.follow_forks = config.follow_forks;
  hello.trace_only = spec.sandbox.trace_only;
  hello.layers = launcher::LayerStates(spec, launched.setup_failure);
  if (Status s = publisher.SendHello(hello); !s) {
    if (launched.init_pid > 0) kill(launched.init_pid, SIGKILL);
    fprintf(stderr, "sandtrace: %s\n", s.error().message().c_str());
    return 1;
  }
  if (failed) {
    wire::End end = MakeEnd(LoopResult{}, launched.setup_failure);
    end.end_ns = clock.RealtimeNs();
    fprintf(stderr, "sandtrace: %s\n", end.detail.c_str());
    if (Status s = publisher.Finish(end); !s) {
      fprintf(stderr, "sandtrace: finishing the trace: %s\n", s.error().message().c_str());
    }
    return end.exit_code;
  }

  LoopOptions options{config.follow_forks, config.timeout_s};
  const bool restrict_exec = !spec.sandbox.trace_only && !spec.sandbox.allow_exec;
  options.deny_later_execs = restrict_exec && !spec.sandbox.exec_allowlist;
  options.landlock_exec_denials = restrict_exec && spec.sandbox.exec_allowlist;
  options.max_tasks = spec.sandbox.trace_only ? 0 : spec.sandbox.max_processes;
  for (int32_t nr : spec.sandbox.log_only) options.log_only.Set(nr);
  options.seccomp = spec.seccomp.empty() ? nullptr : &spec.seccomp;
  options.seccomp_stops = !spec.trace_filter.empty();
  PtraceLoop loop(&publisher, &clock, options);
  LoopResult result = loop.Run(launched.pid, launched.init_pid);
  launcher::ChildFailure failure = launcher::ReadFailure(launched.report_fd, spec);

  wire::End end = MakeEnd(result, failure);
  end.end_ns = clock.RealtimeNs();
  if (end.outcome == wire::Outcome::kExecFailed || end.outcome == wire::Outcome::kSetupFailed ||
      end.outcome == wire::Outcome::kAborted) {
    fprintf(stderr, "sandtrace: %s\n", end.detail.c_str());
  } else if (end.outcome == wire::Outcome::kTimedOut) {
    fprintf(stderr, "sandtrace: timed out after %d s; the process tree was killed\n",
            config.timeout_s);
  }
  // The end first, then the sandbox's init and any leftovers are reaped: everything in the
  // sandbox was killed already, and reaping it while the end was on its way held up the end.
  // This thread, raised, then looked for orphans and waited for the init on one vCPU while the
  // init's exit took the other, and ZeroMQ's I/O thread, which sends the end, waited for a
  // vCPU: the end of a run came about 0.25 ms later (docs/benchmarks.md, 19:20 entry).
  Status finished = publisher.Finish(end);
  loop.ReapRest();
  StopTicks();
  if (!finished) {
    fprintf(stderr, "sandtrace: finishing the trace: %s\n", finished.error().message().c_str());
    if (end.exit_code == 0) end.exit_code = 1;
  }
  return end.exit_code;
}

}  // namespace sandtrace::tracer
