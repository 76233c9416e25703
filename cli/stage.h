// Starting one pipeline process (tracer, analyser, sink) from the wrapper: fork, die with the
// wrapper (PR_SET_PDEATHSIG), hand over selected fds, exec the stage binary that sits next to
// the `sandtrace` binary. Stages with a readiness handshake get a pipe (--ready-fd).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace sandtrace::cli {

struct StageSpec {
  std::string name;                    // for messages: "analyzer", "sink-jsonl", ...
  std::string binary;                  // file name in the stage directory
  std::vector<std::string> args;       // without argv[0]
  std::vector<std::pair<int, int>> fds;  // (fd in wrapper, fd number in the stage)
  bool handshake = true;               // pass --ready-fd and wait for "ok"
  // Sent to the stage when the wrapper dies: SIGKILL for the tracer (its traced tree dies with
  // it) and the analyser, SIGTERM for the sinks so that they still finish their outputs.
  int death_signal = SIGTERM;
  // Scheduling niceness: the analyser and the sinks yield the CPU to the tracer and the traced
  // program, whose ptrace round trips set the pace (back-pressure keeps the pipeline lossless).
  // Set before the exec, so every thread and process of the stage inherits it. (Renicing the
  // threads of a running stage means reading /proc/PID/task, and the /proc dentries this
  // creates made reaping the stage cost up to 2.6 ms of kernel time, d_invalidate in
  // release_task.)
  int nice = 0;
};

struct Stage {
  std::string name;
  pid_t pid = -1;
  bool running = false;
  int status = 0;  // waitpid status once it ended
};

// Directory holding the stage binaries (the directory of the running executable).
std::string StageDirectory();

// Starts a stage and, when it has a handshake, waits up to timeout_ms for it to be ready.
// On a failed handshake the stage is killed and reaped; the error carries its message.
Result<Stage> StartStage(const StageSpec& spec, int timeout_ms);

// The same in two steps, so that the wrapper can start other stages while this one gets
// ready: LaunchStage returns at once (`*ready_fd`: the read end of its handshake pipe, or -1),
// AwaitStage waits for the handshake, closes the fd, and kills and reaps the stage on failure.
Result<Stage> LaunchStage(const StageSpec& spec, int* ready_fd);
Status AwaitStage(Stage* stage, int ready_fd, int timeout_ms);

}  // namespace sandtrace::cli
