// The memory of the analyser's event batches, which ZeroMQ sends in place to every output
// (wire::Sender::SendInPlace) instead of copying each batch once per output. A batch's memory
// comes back here when the last of its senders is done with it (on a ZeroMQ I/O thread) and is
// handed out again for a later batch, so that batches are neither copied nor written into
// fresh pages. Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <vector>

#include "common/wire/channel.h"
#include "common/wire/msgpack_writer.h"

namespace sandtrace::analyzer {

class BatchMemory {
 public:
  BatchMemory() = default;
  BatchMemory(const BatchMemory&) = delete;
  BatchMemory& operator=(const BatchMemory&) = delete;
  // Frees the memory that came back. Every shared batch must have come back: the channels it
  // was sent on are closed.
  ~BatchMemory();

  // Shares `memory` (from malloc) between `uses` users: the body to send (or read), whose
  // release each user calls once when done; the memory comes back after the last one.
  wire::InPlaceBody Share(wire::MsgpackWriter::Memory memory, int uses);

  // Memory for a new batch: some that came back, else fresh memory as large as the largest
  // batch shared so far (at least `capacity`), so that the batch need not grow again.
  wire::MsgpackWriter::Memory Take(size_t capacity);

 private:
  struct Batch {
    BatchMemory* owner;
    wire::MsgpackWriter::Memory memory;
    std::atomic<int> uses;
  };
  // Memory kept for reuse, at most: more batches are in flight only when an output is behind.
  static constexpr size_t kMaxKept = 4;

  static void Release(void* data, void* hint);

  size_t largest_ = 0;  // capacity; Share() and Take() run on one thread
  std::mutex mutex_;
  std::vector<wire::MsgpackWriter::Memory> kept_;
};

}  // namespace sandtrace::analyzer
