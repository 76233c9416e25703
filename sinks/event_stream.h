// Turns the messages a sink process receives into the event sequence a Sink sees, and keeps
// the promise "every output ends with exactly one summary": losses reported by the receiver
// become explicit `gap` events (stage "analyzer->sink"), malformed bodies are counted as lost
// records, the analyser's summary is held back until the end of the stream (so nothing follows
// it) and a second one is dropped. When the stream ends without a summary (the analyser died,
// the sink was terminated) a fallback summary is built from the events seen, with outcome
// "aborted", exit_code 1 and "incomplete": true.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/wire/channel.h"
#include "sinks/encoded_sink.h"
#include "sinks/sink.h"

namespace sandtrace::sinks {

inline constexpr char kSinkStage[] = "analyzer->sink";

class EventStream {
 public:
  using WarnFunction = std::function<void(const std::string& message)>;

  // `sink` must outlive the stream. `warn` reports recoverable problems (default: stderr).
  // When `sink` is also an EncodedSink, events other than the summary reach it as their
  // MessagePack bytes (EncodedSink::AppendEncoded) instead of as objects.
  explicit EventStream(Sink* sink, WarnFunction warn = nullptr);

  // Delivers one received message: for an event batch a `gap` event first when messages were
  // lost before it, then its events in order, then Sink::Flush. A gap reported on the end
  // message is delivered too; other message types are ignored. Returns the sink's error.
  Status Deliver(const wire::Message& message);

  // Writes a `gap` event for records lost at another hop (e.g. "publisher->collector").
  Status DeliverGap(uint64_t lost_records, uint64_t lost_messages, std::string_view stage);

  // Passes a pause in the stream on to the sink (Sink::Idle).
  Status Idle();

  // Writes the summary (the analyser's, with this stage's own losses added to its `gaps`, or
  // the fallback one whose "reason" is `reason_if_incomplete`), then flushes and closes the
  // sink. Later calls do nothing.
  Status Finish(std::string_view reason_if_incomplete);

  // The run's id for a fallback summary when no `sandbox` event names it (a collector knows it
  // from the envelope).
  void set_run_id(std::string run_id) { run_id_ = std::move(run_id); }

  // Reports a recoverable problem through the stream's `warn`.
  void Warn(const std::string& message) const { warn_(message); }

  bool summary_seen() const { return summary_.has_value(); }
  uint64_t syscall_events() const { return syscalls_; }

  // The fields of an event the stream's statistics need (views into the event).
  struct Observed {
    std::string_view type;  // "event_type"
    std::string_view syscall;
    std::string_view action;
    std::string_view run_id;
    std::string_view timestamp;
    bool success = true;
    bool thread = false;
    uint64_t lost_records = 0;
  };

 private:
  struct NameCounts {
    uint64_t calls = 0;
    uint64_t errors = 0;
  };

  Status WriteGap(uint64_t lost_records, uint64_t lost_messages,
                  std::string_view stage = kSinkStage);
  Status DeliverEncoded(const wire::Message& message);
  // A batch that does not decode: warned about and counted as lost whole.
  Status LoseMalformedBatch(const wire::Message& message, const Error& why);
  // After a batch's events: the events that had no event_type as a gap, then Sink::Flush.
  Status EndBatch(uint64_t typeless);
  Status WriteEvent(const msgpack::object& event);
  void Observe(const Observed& event);
  // The counts of `syscall` in per_syscall_, new ones if it has none.
  NameCounts& CountsOf(std::string_view syscall);
  msgpack::object_handle FallbackSummary(std::string_view reason) const;
  msgpack::object_handle SummaryWithOwnGaps() const;

  Sink* sink_;
  EncodedSink* encoded_sink_;                 // sink_ as an EncodedSink, or nullptr
  // Of the encoded batch being delivered: its events' fields, its summaries (views into it).
  std::vector<Observed> observed_;
  std::vector<std::string_view> summaries_;
  WarnFunction warn_;
  bool finished_ = false;
  std::optional<msgpack::object_handle> summary_;
  std::string run_id_;
  std::optional<uint64_t> start_ns_;
  uint64_t syscalls_ = 0;
  uint64_t denied_ = 0;
  uint64_t alerts_ = 0;
  uint64_t processes_ = 1;  // the root process has no spawn event
  uint64_t threads_ = 1;
  uint64_t lost_records_seen_ = 0;  // from every gap event, the analyser's and ours
  uint64_t lost_records_here_ = 0;  // from our own gap events only
  std::map<std::string, NameCounts, std::less<>> per_syscall_;
  // The syscall names counted last, most recent first: keys of per_syscall_ (map nodes do not
  // move) and their counts.
  struct RecentName {
    std::string_view name;
    NameCounts* counts = nullptr;
  };
  std::array<RecentName, 8> recent_{};
};

}  // namespace sandtrace::sinks
