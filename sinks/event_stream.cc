#include "sinks/event_stream.h"

#include <time.h>

#include <cstdio>
#include <vector>

#include "common/wire/codec.h"
#include "sinks/event_fields.h"

namespace sandtrace::sinks {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

void PackText(Packer& p, std::string_view text) {
  p.pack_str(static_cast<uint32_t>(text.size()));
  p.pack_str_body(text.data(), static_cast<uint32_t>(text.size()));
}

msgpack::object_handle Unpack(const msgpack::sbuffer& buffer) {
  return msgpack::unpack(buffer.data(), buffer.size());
}

void WarnOnStderr(const std::string& message) {
  std::fprintf(stderr, "sandtrace sink: %s\n", message.c_str());
}

}  // namespace

EventStream::EventStream(Sink* sink, WarnFunction warn)
    : sink_(sink), warn_(warn ? std::move(warn) : WarnFunction(WarnOnStderr)) {}

Status EventStream::Deliver(const wire::Message& message) {
  if (finished_) return {};
  if (message.lost_messages > 0 || message.lost_records > 0) {
    if (Status s = WriteGap(message.lost_records, message.lost_messages); !s) return s;
  }
  if (message.header.type != wire::MessageType::kEventBatch) {
    if (message.header.type != wire::MessageType::kEnd) {
      warn_("ignoring a message of type " + std::to_string(static_cast<int>(message.header.type)) +
            " on an event stream");
    }
    return sink_->Flush();
  }
  msgpack::zone zone;
  std::vector<msgpack::object> events;
  Status unpacked = wire::UnpackObjectsInto(message.body.data(), message.body.size(),
                                            message.header.count, &zone, &events);
  if (!unpacked) {
    warn_("event batch " + std::to_string(message.header.seq) +
          " is malformed and counted as lost: " + unpacked.error().message());
    if (Status s = WriteGap(message.header.count, 1); !s) return s;
    return sink_->Flush();
  }
  uint64_t malformed = 0;
  for (const msgpack::object& event : events) {
    if (EventType(event).empty()) {
      ++malformed;
      continue;
    }
    if (Status s = WriteEvent(event); !s) return s;
  }
  if (malformed > 0) {
    warn_(std::to_string(malformed) + " events without an event_type counted as lost");
    if (Status s = WriteGap(malformed, 0); !s) return s;
  }
  return sink_->Flush();
}

Status EventStream::WriteEvent(const msgpack::object& event) {
  const std::string_view type = EventType(event);
  if (type == "summary") {
    if (summary_) {
      warn_("dropping a second summary event");
    } else {
      summary_ = msgpack::clone(event);
    }
    return {};
  }
  Observe(event, type);
  return sink_->Write(event);
}

Status EventStream::DeliverGap(uint64_t lost_records, uint64_t lost_messages,
                               std::string_view stage) {
  if (finished_) return {};
  return WriteGap(lost_records, lost_messages, stage);
}

Status EventStream::WriteGap(uint64_t lost_records, uint64_t lost_messages,
                             std::string_view stage) {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  p.pack_map(5);
  PackText(p, "event_type");
  PackText(p, "gap");
  PackText(p, "timestamp");
  PackText(p, NowTimestamp());
  PackText(p, "stage");
  PackText(p, stage);
  PackText(p, "lost_records");
  p.pack_uint64(lost_records);
  PackText(p, "lost_messages");
  p.pack_uint64(lost_messages);
  lost_records_here_ += lost_records;
  const msgpack::object_handle gap = Unpack(buffer);
  Observe(gap.get(), "gap");
  return sink_->Write(gap.get());
}

void EventStream::Observe(const msgpack::object& event, std::string_view type) {
  if (type == "syscall") {
    ++syscalls_;
    const std::string_view name = TextField(event, "syscall");
    auto it = per_syscall_.find(name);
    if (it == per_syscall_.end()) it = per_syscall_.emplace(std::string(name), NameCounts{}).first;
    ++it->second.calls;
    if (!BoolField(event, "success", true)) ++it->second.errors;
    if (TextField(event, "action") == "deny") ++denied_;
  } else if (type == "process") {
    if (TextField(event, "action") == "spawn") {
      ++threads_;
      if (!BoolField(event, "thread")) ++processes_;
    }
  } else if (type == "alert") {
    ++alerts_;
  } else if (type == "gap") {
    lost_records_seen_ += static_cast<uint64_t>(IntField(event, "lost_records"));
  } else if (type == "sandbox") {
    if (const std::string_view id = TextField(event, "run_id"); !id.empty()) run_id_ = id;
    start_ns_ = ParseTimestamp(TextField(event, "timestamp"));
  }
}

Status EventStream::Idle() {
  if (finished_) return {};
  return sink_->Idle();
}

Status EventStream::Finish(std::string_view reason_if_incomplete) {
  if (finished_) return {};
  finished_ = true;
  const msgpack::object_handle summary = !summary_ ? FallbackSummary(reason_if_incomplete)
                                         : lost_records_here_ > 0 ? SummaryWithOwnGaps()
                                                                  : msgpack::clone(summary_->get());
  Status written = sink_->Write(summary.get());
  Status flushed = written ? sink_->Flush() : written;
  Status closed = sink_->Close();
  if (!flushed) return flushed;
  return closed;
}

msgpack::object_handle EventStream::SummaryWithOwnGaps() const {
  const msgpack::object& original = summary_->get();
  const bool has_gaps = Field(original, "gaps") != nullptr;
  msgpack::sbuffer buffer;
  Packer p(buffer);
  p.pack_map(original.via.map.size + (has_gaps ? 0 : 1));
  for (uint32_t i = 0; i < original.via.map.size; ++i) {
    const msgpack::object_kv& kv = original.via.map.ptr[i];
    p.pack(kv.key);
    if (AsText(&kv.key) == "gaps") {
      p.pack_uint64(static_cast<uint64_t>(AsInt(&kv.val).value_or(0)) + lost_records_here_);
    } else {
      p.pack(kv.val);
    }
  }
  if (!has_gaps) {
    PackText(p, "gaps");
    p.pack_uint64(lost_records_here_);
  }
  return Unpack(buffer);
}

msgpack::object_handle EventStream::FallbackSummary(std::string_view reason) const {
  struct timespec now {};
  clock_gettime(CLOCK_REALTIME, &now);
  const uint64_t now_ns =
      static_cast<uint64_t>(now.tv_sec) * 1000000000 + static_cast<uint64_t>(now.tv_nsec);
  const uint64_t duration_ms =
      start_ns_ && *start_ns_ < now_ns ? (now_ns - *start_ns_) / 1000000 : 0;

  msgpack::sbuffer buffer;
  Packer p(buffer);
  p.pack_map(23);
  PackText(p, "event_type");
  PackText(p, "summary");
  PackText(p, "timestamp");
  PackText(p, FormatTimestamp(now_ns));
  PackText(p, "run_id");
  PackText(p, run_id_);
  PackText(p, "total_syscalls");
  p.pack_uint64(syscalls_);
  PackText(p, "unique_syscalls");
  p.pack_uint64(per_syscall_.size());
  PackText(p, "duration_ms");
  p.pack_uint64(duration_ms);
  PackText(p, "exit_code");
  p.pack_int32(1);
  PackText(p, "outcome");
  PackText(p, "aborted");
  PackText(p, "denied_count");
  p.pack_uint64(denied_);
  PackText(p, "process_count");
  p.pack_uint64(processes_);
  PackText(p, "thread_count");
  p.pack_uint64(threads_);
  PackText(p, "timed_out");
  p.pack_false();
  PackText(p, "interrupted");
  p.pack_false();
  PackText(p, "files_accessed");
  p.pack_array(0);
  PackText(p, "network_attempts");
  p.pack_array(0);
  PackText(p, "alert_count");
  p.pack_uint64(alerts_);
  PackText(p, "suspicious_activity");
  p.pack_array(0);
  PackText(p, "syscall_counts");
  p.pack_map(static_cast<uint32_t>(per_syscall_.size()));
  for (const auto& [name, counts] : per_syscall_) {
    PackText(p, name);
    p.pack_uint64(counts.calls);
  }
  PackText(p, "error_counts");
  uint32_t with_errors = 0;
  for (const auto& entry : per_syscall_) with_errors += entry.second.errors > 0 ? 1 : 0;
  p.pack_map(with_errors);
  for (const auto& [name, counts] : per_syscall_) {
    if (counts.errors == 0) continue;
    PackText(p, name);
    p.pack_uint64(counts.errors);
  }
  PackText(p, "gaps");
  p.pack_uint64(lost_records_seen_);
  PackText(p, "analyzers");
  p.pack_array(0);
  PackText(p, "incomplete");
  p.pack_true();
  PackText(p, "reason");
  PackText(p, reason);
  return Unpack(buffer);
}

}  // namespace sandtrace::sinks
