// Packs events (docs/events.md) as MessagePack maps, straight into one batch buffer: no JSON,
// no intermediate document. Keys and value types are exactly those of a JSONL line. The
// writer also formats timestamps (RFC 3339 UTC with microseconds), caching the part up to
// the second, because it runs once per syscall.
#pragma once

#include <msgpack.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "analyzer/decoder.h"
#include "analyzer/summary.h"
#include "analyzer/syscall_table.h"
#include "common/wire/codec.h"
#include "common/wire/records.h"

namespace sandtrace::analyzer {

// "2026-11-28T22:40:39.123456Z" from nanoseconds since the epoch.
class TimestampFormatter {
 public:
  // The returned view stays valid until the next call.
  std::string_view Format(uint64_t ns);

 private:
  int64_t cached_second_ = -1;
  char text_[32] = {};  // "YYYY-MM-DDTHH:MM:SS" is cached, ".uuuuuuZ" rewritten per call
};

// Run-level facts the summary repeats.
struct SummaryContext {
  std::string_view run_id;
  uint64_t start_ns = 0;
};

class EventWriter {
 public:
  EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  // The `sandbox` event from the tracer's hello.
  void WriteSandbox(const wire::Hello& hello);
  // One `syscall` event; `decoded` refers to `record`'s bytes.
  void WriteSyscall(const wire::SyscallRecord& record, std::string_view name, Category category,
                    const DecodedArgs& decoded);
  void WriteSpawn(const wire::SpawnRecord& record);
  // `argv` holds the items separated by '\0' (empty: no argv known).
  void WriteExec(const wire::ExecRecord& record, std::string_view argv);
  void WriteExit(const wire::ExitRecord& record);
  void WriteGap(uint64_t ts_ns, std::string_view stage, uint64_t lost_records,
                uint64_t lost_messages);
  void WriteSummary(const SummaryBuilder& summary, const SummaryContext& context,
                    const wire::End& end);

  // The batch so far: `count()` events back to back in `data()`.
  const char* data() const { return buffer_.data(); }
  size_t size() const { return buffer_.size(); }
  uint32_t count() const { return count_; }
  // Starts a new batch (the buffer's memory is kept).
  void Clear();

 private:
  void Str(std::string_view s);
  void Key(std::string_view key) { Str(key); }
  void Timestamp(uint64_t ns) { Str(timestamps_.Format(ns)); }
  void StringList(std::string_view joined);  // '\0'-separated items as an array
  void Decoded(const DecodedArgs& decoded);
  void Address(const SocketAddress& addr);  // the {family, address, port} map

  msgpack::sbuffer buffer_;
  msgpack::packer<msgpack::sbuffer> packer_;
  uint32_t count_ = 0;
  TimestampFormatter timestamps_;
};

}  // namespace sandtrace::analyzer
