// How the processes of the launch chain report a failed set-up step to the tracer: one fixed-size
// record (step + errno) written to a CLOEXEC pipe right before the process exits. Writing it
// is async-signal-safe, so it works in any child of fork.
#pragma once

#include <cstdint>

namespace sandtrace::launcher {

enum class Step : int32_t {
  kSignals = 1,
  kUserNamespace = 10,   // layer 1
  kIdMaps = 11,          // layer 1: uid_map / gid_map
  kMountNamespace = 20,  // layer 2
  kMountPrivate = 21,    // layer 2: private propagation
  kMountView = 22,       // layer 2: the restricted view (enforcing)
  kPidNamespace = 30,    // layer 3
  kInitFork = 31,        // layer 3: fork of the namespace's init
  kMountProc = 32,       // layer 3: fresh /proc
  kCommandFork = 33,     // layer 3: clone of the command process
  kNetNamespace = 40,    // layer 4
  kLoopback = 41,        // layer 4: bring lo up
  kNoNewPrivs = 50,      // layer 5
  kSession = 51,         // setsid
  kCloseFds = 52,        // close inherited fds beyond 0-2
  kLimits = 53,          // resource limits
  kProcessGroup = 54,    // setpgid (the wrapper made the run's session)
  kLandlock = 60,        // layer 6
  kSeccomp = 70,         // layer 7
  kTraceFilter = 71,     // layer 7: the --trace pre-filter
  kTraceMe = 80,         // layer 8
  kStop = 81,            // layer 8
  kExec = 90,            // the command's execve
};

struct StepReport {
  Step step;
  int32_t error;
  char detail[216];  // NUL-terminated context (e.g. the mount that failed), may be empty
};

// Writes the report for `step` with the current errno (and optional detail text) to `fd` and
// exits: 126/127 for a failed exec (like a shell), 125 for any set-up step.
[[noreturn]] void FailStep(int fd, Step step, const char* detail = nullptr);

// "layer 1 (user_namespace): unshare(CLONE_NEWUSER)" etc.
const char* StepName(Step step);

}  // namespace sandtrace::launcher
