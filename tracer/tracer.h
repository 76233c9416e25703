// The tracer process as a whole: connect the raw channel, launch the command, send the hello,
// run the ptrace loop, and turn its result into the end message and sandtrace's exit status.
#pragma once

#include <string>
#include <vector>

#include "common/flags.h"
#include "common/result.h"

namespace sandtrace::tracer {

struct TracerConfig {
  std::string endpoint;  // where the analyser listens
  std::string run_id;
  std::string host;
  std::string executable;         // resolved path to exec
  std::vector<std::string> argv;  // the command as given
  bool follow_forks = true;
  int timeout_s = 30;
  std::string sandbox_file;  // the compiled sandbox configuration (launcher/sandbox_config.h);
                             // empty: trace-only defaults
  // --go-fd: the sandbox is built (the command stopped before its exec) while the analyser
  // starts; the tracer connects and lets the command run only after the wrapper's "ok" on
  // this fd (common/ready_pipe.h). -1: no wait.
  int go_fd = -1;
};

// From the tracer's flags: --out, --run-id, --host, --exec, --timeout, --follow-forks,
// --sandbox FILE, --go-fd N, -- ARGV...
Result<TracerConfig> ConfigFromFlags(const StageFlags& flags);

// Runs the whole trace; returns sandtrace's exit status.
int RunTracer(const TracerConfig& config);

}  // namespace sandtrace::tracer
