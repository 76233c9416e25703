// Batches raw records and sends them downstream over a wire::Sender. Records are encoded as
// they arrive (no copies kept); a batch goes out when it holds kBatchRecords records, when the
// oldest record waited longer than kMaxDelayNs, when a record marked urgent (process events)
// waited kUrgentDelayNs, or when the tracer asks (end).
#pragma once

#include <cstdint>
#include <msgpack.hpp>

#include "common/result.h"
#include "common/wire/channel.h"
#include "common/wire/codec.h"

namespace sandtrace::tracer {

class Publisher {
 public:
  static constexpr uint32_t kBatchRecords = 1024;
  static constexpr uint64_t kMaxDelayNs = 100'000'000;  // 100 ms
  // Process starts and ends reach the user this soon, while a burst of them (a build, a shell
  // script) still shares batches: one batch per process event woke every stage each time.
  static constexpr uint64_t kUrgentDelayNs = 50'000'000;  // 50 ms

  explicit Publisher(wire::Sender sender) : sender_(std::move(sender)) {}

  // Appends a record to the current batch; sends the batch when full.
  template <typename Record>
  Status Add(const Record& record, uint64_t now_ns) {
    if (pending_ == 0) oldest_ns_ = now_ns;
    wire::EncodeRecord(record, &batch_);
    if (++pending_ >= kBatchRecords) return Flush();
    if (urgent_ && now_ns - urgent_ns_ >= kUrgentDelayNs) return Flush();
    return {};
  }

  // Marks the batch as holding a record that must go out within kUrgentDelayNs. True when it
  // was not urgent before: the caller then arranges for FlushIfStale to be called in time.
  bool MarkUrgent(uint64_t now_ns) {
    if (urgent_ || pending_ == 0) return false;
    urgent_ = true;
    urgent_ns_ = now_ns;
    return true;
  }

  // Sends the batch if it has waited too long.
  Status FlushIfStale(uint64_t now_ns) {
    if (pending_ > 0 && now_ns - oldest_ns_ >= kMaxDelayNs) return Flush();
    if (urgent_ && now_ns - urgent_ns_ >= kUrgentDelayNs) return Flush();
    return {};
  }

  Status Flush();
  Status SendHello(const wire::Hello& hello);
  // Flushes, sends the end message and waits for the receiver's acknowledgement.
  Status Finish(const wire::End& end);

  uint64_t records() const { return sender_.records_sent() + pending_; }

 private:
  Status SendOne(wire::MessageType type, const msgpack::sbuffer& body);

  wire::Sender sender_;
  msgpack::sbuffer batch_{64 * 1024};
  uint32_t pending_ = 0;
  uint64_t oldest_ns_ = 0;
  bool urgent_ = false;
  uint64_t urgent_ns_ = 0;
};

}  // namespace sandtrace::tracer
