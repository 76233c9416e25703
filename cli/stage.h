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
  // A stage with a handshake starts at the wrapper's priority (its start-up delays the run) and
  // is lowered, all its threads, once it is ready; one without is lowered before its exec.
  int nice = 0;
  // Lower the priority before the exec even with a handshake (inherited by every thread and
  // process the stage starts). For the analyser: renicing its threads once it is ready means
  // reading /proc/PID/task, and the /proc dentries this creates made reaping it cost up to
  // 2.6 ms of kernel time (d_invalidate in release_task), more than its start-up lost.
  bool nice_before_exec = false;
};

struct Stage {
  std::string name;
  pid_t pid = -1;
  bool running = false;
  int status = 0;  // waitpid status once it ended
  int nice = 0;    // applied by AwaitStage once the stage is ready
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
