// Packs events (docs/events.md) as MessagePack maps, straight into one batch buffer: no JSON,
// no intermediate document. Keys and value types are exactly those of a JSONL line. The
// writer also formats timestamps (RFC 3339 UTC with microseconds), caching the part up to
// the second, because it runs once per syscall.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>
#include <string>
#include <string_view>

#include "analyzer/decoder.h"
#include "analyzer/summary.h"
#include "analyzer/syscall_table.h"
#include "common/wire/codec.h"
#include "common/wire/msgpack_writer.h"
#include "common/wire/records.h"

namespace sandtrace::analyzer {

// "2026-11-28T22:40:39.123456Z" from nanoseconds since the epoch.
class TimestampFormatter {
 public:
  static constexpr size_t kPackedSize = 28;  // header byte + 27 characters

  // The text, preceded by its one-byte MessagePack fixstr header (so Packed(ns).substr(1) is
  // the text). The returned view stays valid until the next call.
  std::string_view Packed(uint64_t ns);
  std::string_view Format(uint64_t ns) { return Packed(ns).substr(1); }

 private:
  int64_t cached_second_ = -1;
  // Header byte, then "YYYY-MM-DDTHH:MM:SS" (cached) and ".uuuuuuZ" (rewritten per call).
  char text_[32] = {};
};

// A string constant packed at compile time as a MessagePack fixstr (header byte + text), so
// that writing a key is a single fixed-size copy.
template <size_t N>
struct FixStr {
  static_assert(N - 1 < 32, "a fixstr holds at most 31 bytes");
  consteval FixStr(const char (&text)[N]) {
    bytes[0] = static_cast<char>(0xa0 | (N - 1));
    for (size_t i = 0; i + 1 < N; ++i) bytes[i + 1] = text[i];
  }
  char bytes[N] = {};  // N - 1 characters after the header; no NUL
};

// Run-level facts the summary repeats.
struct SummaryContext {
  std::string_view run_id;
  uint64_t start_ns = 0;
  const std::vector<PluginStatus>* plugins = nullptr;  // the `analyzers` list (may be null)
};

class EventWriter {
 public:
  EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  // The `sandbox` event from the tracer's hello.
  // The `sandbox` event from the tracer's hello; `policy` names the policy in force.
  void WriteSandbox(const wire::Hello& hello, std::string_view policy);
  // One `syscall` event; `decoded` refers to `record`'s bytes.
  void WriteSyscall(const wire::SyscallRecord& record, std::string_view name, Category category,
                    const DecodedArgs& decoded);
  void WriteSpawn(const wire::SpawnRecord& record);
  // `argv` holds the items separated by '\0' (empty: no argv known).
  void WriteExec(const wire::ExecRecord& record, std::string_view argv);
  void WriteExit(const wire::ExitRecord& record);
  void WriteGap(uint64_t ts_ns, std::string_view stage, uint64_t lost_records,
                uint64_t lost_messages);
  // One `alert` event whose `event` is a copy of the last syscall or exec event written (an
  // empty map if the batch has none since the last Clear()): call it right after that event.
  void WriteAlert(uint64_t ts_ns, std::string_view rule, std::string_view severity,
                  std::string_view message, int32_t pid);
  void WriteSummary(const SummaryBuilder& summary, const SummaryContext& context,
                    const wire::End& end);

  // The batch so far: `count()` events back to back in `data()`.
  const char* data() const { return buffer_.data(); }
  size_t size() const { return buffer_.size(); }
  uint32_t count() const { return count_; }
  // Starts a new batch (the buffer's memory is kept).
  void Clear();
  // Hands the batch's bytes and their memory over, and starts a new batch in `next` (memory
  // from malloc).
  wire::MsgpackWriter::Memory ReleaseBatch(wire::MsgpackWriter::Memory next);

 private:
  void Str(std::string_view s) { buffer_.Str(s); }
  // A constant key or value, into the buffer or through one of its cursors.
  template <FixStr S, typename Out>
  static void Fixed(Out& out) {
    out.Raw(S.bytes);
  }
  void Timestamp(uint64_t ns) {
    wire::MsgpackWriter::Cursor out = buffer_.Open();
    Timestamp(out, ns);
    buffer_.Commit(out);
  }
  template <typename Cursor>
  void Timestamp(Cursor& out, uint64_t ns) {
    std::memcpy(out.Append(TimestampFormatter::kPackedSize), timestamps_.Packed(ns).data(),
                TimestampFormatter::kPackedSize);
  }
  void StringList(std::string_view joined);  // '\0'-separated items as an array
  void Decoded(const DecodedArgs& decoded, int keys);  // keys: decoded.size()
  void Address(const SocketAddress& addr);  // the {family, address, port} map

  wire::MsgpackWriter buffer_;
  uint32_t count_ = 0;
  TimestampFormatter timestamps_;
  // Where the last syscall or exec event lies in buffer_ (end 0: none), for WriteAlert.
  size_t last_event_begin_ = 0;
  size_t last_event_end_ = 0;
  // The last open flags written and their text (an open call is often repeated with the same).
  std::optional<std::pair<uint32_t, std::string>> open_flags_name_;
};

}  // namespace sandtrace::analyzer
