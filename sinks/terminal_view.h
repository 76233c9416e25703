// The terminal view (sandtrace-sink-term): the run as strace-like lines on stderr, filtered by
// verbosity (SPEC section 2), closed by a summary block from verbosity 1 on.
//   0  only alerts of severity high or critical (sandtrace runs this view on every run)
//   1  the summary block; file/network/process activity (categories file_read, file_write, directory, network,
//      process), every call whose action is not "allow", process events, alerts
//   2  every syscall
//   3  also arguments in full, durations, and pipeline diagnostics (gaps, per-batch stats)
// Lines are buffered and written at the end of each received batch.
#pragma once

#include <string>

#include "common/result.h"
#include "sinks/sink.h"
#include "sinks/terminal_format.h"

namespace sandtrace::sinks {

struct TerminalOptions {
  int verbosity = 1;
  bool color = false;
};

class TerminalView : public Sink {
 public:
  // Writes to `fd`, which stays open (stderr in the sink process).
  TerminalView(int fd, TerminalOptions options);

  Status Write(const msgpack::object& event) override;
  Status Flush() override;
  Status Close() override;

 private:
  bool ShowSyscall(const msgpack::object& event) const;

  int fd_;
  TerminalOptions options_;
  TerminalStyle style_;
  std::string buffer_;
  uint64_t batch_events_ = 0;
  uint64_t batches_ = 0;
};

}  // namespace sandtrace::sinks
