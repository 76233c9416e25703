// The child side of fork/exec: starts the command as a tracee. After fork the child applies the
// sandbox layers in order as a chain of named steps (layer 8, PTRACE_TRACEME + SIGSTOP, last),
// then execs. A step that fails, or the exec itself, is reported to the parent over a CLOEXEC
// pipe (step + errno) before the child exits. The child only makes async-signal-safe calls.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "common/wire/records.h"

namespace sandtrace::launcher {

struct LaunchSpec {
  std::string executable;          // path passed to execve
  std::vector<std::string> argv;   // argv[0] included
  bool trace_only = true;
};

struct Launched {
  pid_t pid = -1;
  int report_fd = -1;  // read end of the failure pipe (CLOEXEC); EOF means the exec succeeded
};

// What the child reported before exiting, if anything.
struct ChildFailure {
  bool failed = false;
  bool exec_failed = false;  // the execve itself failed (exit 126/127), not a layer
  std::string step;          // e.g. "execve(/usr/bin/foo)" or "layer 1 (user_namespace)"
  int error = 0;             // errno
};

// Forks the child. It stops itself with SIGSTOP (traced, PTRACE_TRACEME) before exec; the
// caller must wait for that stop and resume it.
Result<Launched> Launch(const LaunchSpec& spec);

// Reads the child's failure report (call after the child exited). Closes report_fd.
ChildFailure ReadFailure(int report_fd, const LaunchSpec& spec);

// The sandbox layer states for the `sandbox` event, as applied by Launch.
std::vector<wire::LayerState> LayerStates(const LaunchSpec& spec);

}  // namespace sandtrace::launcher
