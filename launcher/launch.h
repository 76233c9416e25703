// The child side of fork/exec: starts the command in the sandbox as a tracee. A chain of three
// processes applies the layers in the seed's order, each step a short named function:
//   set-up process (child of the tracer): layer 1 user namespace, layer 2 mount namespace,
//     layer 3 PID namespace, layer 4 network namespace; forks the init, clones the command
//     with CLONE_PARENT (so the tracer is its parent), reports both pids, exits.
//   init (PID 1 of the sandbox): mounts a fresh /proc, then reaps orphans (launcher/init.h).
//   command (PID 2): layer 5 no_new_privs, (enforcing: setsid, layer 6 Landlock, fds beyond
//     0-2 closed, layer 7 seccomp), layer 8 PTRACE_TRACEME + SIGSTOP, exec.
// In enforcing mode the set-up process also builds the restricted filesystem view (layer 2).
// A failed step is reported to the tracer over a CLOEXEC pipe (launcher/step_report.h).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/wire/records.h"
#include "launcher/sandbox_config.h"
#include "launcher/seccomp_filter.h"

namespace sandtrace::launcher {

struct LaunchSpec {
  std::string executable;         // path passed to execve
  std::vector<std::string> argv;  // argv[0] included
  SandboxConfig sandbox;
  SeccompProgram seccomp;  // compiled from sandbox.seccomp_program; empty under --trace-only
  SeccompProgram trace_filter;  // from sandbox.trace_filter; empty: no --trace pre-filter
  // The nice value the sandbox's init and the command take before anything of theirs runs,
  // when the set-up process runs at another (the tracer's raised one); unset: they keep the
  // set-up process's.
  std::optional<int> command_nice;
};

// What the child chain reported before the command could run, if anything.
struct ChildFailure {
  bool failed = false;
  bool exec_failed = false;  // the execve itself failed (exit 126/127), not a layer
  std::string step;          // e.g. "execve(/usr/bin/foo)" or "layer 1 (user_namespace): ..."
  int error = 0;             // errno
  int layer = 0;             // the sandbox layer (1-8) that failed, 0 for none
};

struct Launched {
  pid_t pid = -1;       // the command; stopped by SIGSTOP once it is ready to be traced
  pid_t init_pid = -1;  // PID 1 of the sandbox (killing it kills every sandboxed process)
  int report_fd = -1;   // read end of the failure pipe; EOF means every step succeeded
  ChildFailure setup_failure;  // set when the chain failed before the command existed
};

// The set-up process, forked but not yet waited for.
struct LaunchStarted {
  pid_t setup = -1;
  int report_fd = -1;  // read end of the failure pipe
  int pids_fd = -1;    // read end of the pipe that carries the init's and the command's pids
};

// Starts the chain: forks the set-up process and returns at once, so that the caller can
// prepare other things (it may start threads) while the sandbox is built.
Result<LaunchStarted> StartLaunch(const LaunchSpec& spec);

// Waits for the set-up process. Then the command is (or will shortly be) stopped in SIGSTOP,
// traced by the caller (PTRACE_TRACEME), unless setup_failure says why the chain failed.
Launched FinishLaunch(const LaunchStarted& started, const LaunchSpec& spec);

// Waits until the command stopped itself, ready to be traced. When it died before (a layer
// failed), fills launched->setup_failure from its report and returns false.
bool AwaitCommandStop(Launched* launched, const LaunchSpec& spec);

// Reads the chain's failure report (call after the command exited). Closes report_fd.
ChildFailure ReadFailure(int report_fd, const LaunchSpec& spec);

// The sandbox layer states for the `sandbox` event, as applied by the chain. With a failure, the
// failed layer says so and the later ones were not reached.
std::vector<wire::LayerState> LayerStates(const LaunchSpec& spec, const ChildFailure& failure);

}  // namespace sandtrace::launcher
