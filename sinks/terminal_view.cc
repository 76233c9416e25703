#include "sinks/terminal_view.h"

#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "sinks/event_fields.h"

namespace sandtrace::sinks {
namespace {

constexpr size_t kBufferLimit = 64 * 1024;

bool IsActivityCategory(std::string_view category) {
  return category == "file_read" || category == "file_write" || category == "directory" ||
         category == "network" || category == "process";
}

}  // namespace

TerminalView::TerminalView(int fd, TerminalOptions options)
    : fd_(fd), options_(options), style_{options.color, options.verbosity >= 3} {}

bool TerminalView::ShowSyscall(const msgpack::object& event) const {
  if (options_.verbosity >= 2) return true;
  if (options_.verbosity < 1) return false;
  return IsActivityCategory(TextField(event, "category")) ||
         TextField(event, "action", "allow") != "allow";
}

namespace {

// Shown even without -v: what a user must not miss.
bool SevereAlert(const msgpack::object& event) {
  const std::string_view s = TextField(event, "severity");
  return s == "high" || s == "critical";
}

}  // namespace

Status TerminalView::Write(const msgpack::object& event) {
  ++batch_events_;
  const std::string_view type = EventType(event);
  const int v = options_.verbosity;
  if (type == "syscall") {
    if (ShowSyscall(event)) FormatSyscall(event, style_, &buffer_);
  } else if (type == "process") {
    if (v >= 1) FormatProcess(event, style_, &buffer_);
  } else if (type == "sandbox") {
    if (v >= 1) FormatSandbox(event, style_, &buffer_);
  } else if (type == "alert") {
    if (v >= 1 || SevereAlert(event)) FormatAlert(event, style_, &buffer_);
  } else if (type == "gap") {
    if (v >= 3) FormatGap(event, style_, &buffer_);
  } else if (type == "summary") {
    if (v >= 1) FormatSummary(event, style_, &buffer_);
  }
  if (buffer_.size() >= kBufferLimit) return Flush();
  return {};
}

Status TerminalView::Flush() {
  if (options_.verbosity >= 3 && batch_events_ > 0) {
    buffer_ += "sandtrace: batch " + std::to_string(++batches_) + ": " +
               std::to_string(batch_events_) + " events\n";
  }
  batch_events_ = 0;
  size_t done = 0;
  Status result;
  while (done < buffer_.size()) {
    const ssize_t n = write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;  // SIGTERM arrived before anything was written
    if (n < 0) {
      result = ErrnoError("terminal view: write");
      break;
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
  return result;
}

Status TerminalView::Close() { return Flush(); }

}  // namespace sandtrace::sinks
