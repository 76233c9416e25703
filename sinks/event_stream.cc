#include "sinks/event_stream.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/wire/codec.h"
#include "common/wire/msgpack_reader.h"
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

enum ObservedKey : uint8_t {
  kNone = 0,
  kType = 1 << 0,
  kSyscall = 1 << 1,
  kAction = 1 << 2,
  kRunId = 1 << 3,
  kTimestamp = 1 << 4,
  kSuccess = 1 << 5,
  kThread = 1 << 6,
  kLostRecords = 1 << 7,
};

// `key`, of the name's length, is `name`: a comparison of known length, done inline.
template <size_t N>
bool Is(std::string_view key, const char (&name)[N]) {
  return std::memcmp(key.data(), name, N - 1) == 0;
}

ObservedKey KeyOf(std::string_view key) {
  switch (key.size()) {
    case 6:
      if (Is(key, "action")) return kAction;
      if (Is(key, "run_id")) return kRunId;
      if (Is(key, "thread")) return kThread;
      break;
    case 7:
      if (Is(key, "syscall")) return kSyscall;
      if (Is(key, "success")) return kSuccess;
      break;
    case 9:
      if (Is(key, "timestamp")) return kTimestamp;
      break;
    case 10:
      if (Is(key, "event_type")) return kType;
      break;
    case 12:
      if (Is(key, "lost_records")) return kLostRecords;
      break;
  }
  return kNone;
}

// The keys whose value is text.
constexpr unsigned kTextKeys = kType | kSyscall | kAction | kRunId | kTimestamp;

// The text field `key` (one of kTextKeys) of `out`.
void SetText(ObservedKey key, std::string_view text, EventStream::Observed* out) {
  switch (key) {
    case kType:
      out->type = text;
      break;
    case kSyscall:
      out->syscall = text;
      break;
    case kAction:
      out->action = text;
      break;
    case kRunId:
      out->run_id = text;
      break;
    case kTimestamp:
      out->timestamp = text;
      break;
    default:
      break;
  }
}

// The value of TextField / BoolField / IntField for `key`: Field() semantics (the first STR key
// that matches wins; a value of another type reads as the fallback).
void SetObserved(ObservedKey key, const wire::MsgpackItem& value, EventStream::Observed* out) {
  using wire::MsgpackKind;
  if ((key & kTextKeys) != 0) {
    const bool text = value.kind == MsgpackKind::kStr || value.kind == MsgpackKind::kBin;
    SetText(key, text ? value.text() : "", out);
    return;
  }
  switch (key) {
    case kSuccess: out->success = value.kind == MsgpackKind::kBool ? value.boolean : true; break;
    case kThread: out->thread = value.kind == MsgpackKind::kBool && value.boolean; break;
    case kLostRecords:
      out->lost_records = value.kind == MsgpackKind::kUint  ? value.u64
                          : value.kind == MsgpackKind::kInt ? static_cast<uint64_t>(value.i64)
                                                            : 0;
      break;
    default:
      break;  // kNone
  }
}

// Reads the Observed fields of an event while an EncodedSink transcodes it. Field() semantics:
// the first str key that matches wins; a value of another type reads as the fallback.
class FieldCollector final : public MapEntryVisitor {
 public:
  uint8_t Interest(std::string_view key) const override { return KeyOf(key); }
  void Entry(uint8_t interest, std::string_view, const char* value, const char* end) override {
    const auto which = static_cast<ObservedKey>(interest);
    if ((seen_ & which) != 0) return;
    seen_ |= which;
    // Most values are a short str (a fixstr): read here, the rest by the reader.
    const auto header = value < end ? static_cast<uint8_t>(*value) : 0;
    if ((which & kTextKeys) != 0 && (header & 0xe0) == 0xa0 && (header & 0x1f) < end - value) {
      SetText(which, {value + 1, static_cast<size_t>(header & 0x1f)}, &fields_);
      return;
    }
    wire::MsgpackReader in(value, end);
    wire::MsgpackItem item;
    if (in.Next(&item)) SetObserved(which, item, &fields_);
  }
  const EventStream::Observed& fields() const { return fields_; }

 private:
  EventStream::Observed fields_;
  unsigned seen_ = 0;
};

// The same from an object (the object path: gap events, sinks that are no EncodedSink).
EventStream::Observed ObservedOf(const msgpack::object& event) {
  EventStream::Observed out;
  if (event.type != msgpack::type::MAP) return out;
  unsigned seen = 0;
  for (uint32_t i = 0; i < event.via.map.size; ++i) {
    const msgpack::object_kv& kv = event.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) continue;
    const ObservedKey which = KeyOf({kv.key.via.str.ptr, kv.key.via.str.size});
    if (which == kNone || (seen & which) != 0) continue;
    seen |= which;
    wire::MsgpackItem value;
    switch (kv.val.type) {
      case msgpack::type::STR:
        value.kind = wire::MsgpackKind::kStr;
        value.data = kv.val.via.str.ptr;
        value.size = kv.val.via.str.size;
        break;
      case msgpack::type::BIN:
        value.kind = wire::MsgpackKind::kBin;
        value.data = kv.val.via.bin.ptr;
        value.size = kv.val.via.bin.size;
        break;
      case msgpack::type::BOOLEAN:
        value.kind = wire::MsgpackKind::kBool;
        value.boolean = kv.val.via.boolean;
        break;
      case msgpack::type::POSITIVE_INTEGER:
        value.kind = wire::MsgpackKind::kUint;
        value.u64 = kv.val.via.u64;
        break;
      case msgpack::type::NEGATIVE_INTEGER:
        value.kind = wire::MsgpackKind::kInt;
        value.i64 = kv.val.via.i64;
        break;
      default:
        value.kind = wire::MsgpackKind::kNil;
        break;
    }
    SetObserved(which, value, &out);
  }
  return out;
}

}  // namespace

EventStream::EventStream(Sink* sink, WarnFunction warn)
    : sink_(sink),
      encoded_sink_(dynamic_cast<EncodedSink*>(sink)),
      warn_(warn ? std::move(warn) : WarnFunction(WarnOnStderr)) {}

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
  if (encoded_sink_ != nullptr) return DeliverEncoded(message);
  msgpack::zone zone;
  std::vector<msgpack::object> events;
  Status unpacked = wire::UnpackObjectsInto(message.body.data(), message.body.size(),
                                            message.header.count, &zone, &events);
  if (!unpacked) return LoseMalformedBatch(message, unpacked.error());
  uint64_t malformed = 0;
  for (const msgpack::object& event : events) {
    if (EventType(event).empty()) {
      ++malformed;
      continue;
    }
    if (Status s = WriteEvent(event); !s) return s;
  }
  return EndBatch(malformed);
}

Status EventStream::LoseMalformedBatch(const wire::Message& message, const Error& why) {
  warn_("event batch " + std::to_string(message.header.seq) +
        " is malformed and counted as lost: " + why.message());
  if (Status s = WriteGap(message.header.count, 1); !s) return s;
  return sink_->Flush();
}

Status EventStream::EndBatch(uint64_t typeless) {
  if (typeless > 0) {
    warn_(std::to_string(typeless) + " events without an event_type counted as lost");
    if (Status s = WriteGap(typeless, 0); !s) return s;
  }
  return sink_->Flush();
}

Status EventStream::DeliverEncoded(const wire::Message& message) {
  const char* next = static_cast<const char*>(message.body.data());
  const char* const end = next + message.body.size();
  const size_t batch_start = encoded_sink_->pending();
  auto lose = [&](const char* why) {
    encoded_sink_->CutPending(batch_start);
    return LoseMalformedBatch(message, PlainError(why));
  };
  // The batch's events go out as they are read; what they count is only counted, and a summary
  // only kept, once the whole batch has proved well-formed.
  observed_.clear();
  summaries_.clear();
  uint64_t typeless = 0;
  for (uint32_t i = 0; i < message.header.count; ++i) {
    if (next == end) return lose("body holds fewer objects than its header says");
    const size_t line_start = encoded_sink_->pending();
    FieldCollector collector;
    const size_t used =
        encoded_sink_->AppendEncoded({next, static_cast<size_t>(end - next)}, &collector);
    if (used == 0) return lose("msgpack: malformed or truncated object");
    const std::string_view event(next, used);
    next += used;
    const Observed& fields = collector.fields();
    if (fields.type.empty() || fields.type == "summary") {
      encoded_sink_->CutPending(line_start);
      if (fields.type.empty()) {
        ++typeless;
      } else {
        summaries_.push_back(event);
      }
      continue;
    }
    observed_.push_back(fields);
  }
  if (next != end) return lose("trailing bytes after the last object");
  for (const Observed& fields : observed_) Observe(fields);
  for (std::string_view summary : summaries_) {
    if (summary_) {
      warn_("dropping a second summary event");
    } else {
      summary_ = msgpack::unpack(summary.data(), summary.size());
    }
  }
  return EndBatch(typeless);
}

Status EventStream::WriteEvent(const msgpack::object& event) {
  const Observed fields = ObservedOf(event);
  if (fields.type == "summary") {
    if (summary_) {
      warn_("dropping a second summary event");
    } else {
      summary_ = msgpack::clone(event);
    }
    return {};
  }
  Observe(fields);
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
  Observe(ObservedOf(gap.get()));
  return sink_->Write(gap.get());
}

void EventStream::Observe(const Observed& event) {
  const std::string_view type = event.type;
  if (type == "syscall") {
    ++syscalls_;
    NameCounts& counts = CountsOf(event.syscall);
    ++counts.calls;
    if (!event.success) ++counts.errors;
    if (event.action == "deny") ++denied_;
  } else if (type == "process") {
    if (event.action == "spawn") {
      ++threads_;
      if (!event.thread) ++processes_;
    }
  } else if (type == "alert") {
    ++alerts_;
  } else if (type == "gap") {
    lost_records_seen_ += event.lost_records;
  } else if (type == "sandbox") {
    if (!event.run_id.empty()) run_id_ = event.run_id;
    start_ns_ = ParseTimestamp(event.timestamp);
  }
}

EventStream::NameCounts& EventStream::CountsOf(std::string_view syscall) {
  // A program uses a handful of syscalls over and over (a loop, a directory walk): the names
  // seen last are looked at first, in order, before the map.
  size_t at = 0;
  while (at < recent_.size() && !(recent_[at].counts != nullptr && recent_[at].name == syscall)) {
    ++at;
  }
  RecentName found;
  if (at < recent_.size()) {
    found = recent_[at];
  } else {
    auto it = per_syscall_.find(syscall);
    if (it == per_syscall_.end())
      it = per_syscall_.emplace(std::string(syscall), NameCounts{}).first;
    found = RecentName{it->first, &it->second};
    at = recent_.size() - 1;  // the least recent name goes
  }
  for (size_t j = at; j > 0; --j) recent_[j] = recent_[j - 1];
  recent_[0] = found;
  return *found.counts;
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
