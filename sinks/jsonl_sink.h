// The JSONL output (SPEC section 3): each event map becomes one JSON object on its own line,
// written through a buffer, never per line. The buffer goes out once it holds kJsonlBufferLimit
// bytes (big writes cost the kernel less: 64 MiB into a new ext4 file took it 24 ms in 2 MiB
// writes against 28 ms in one write per ~300 KiB batch), when the stream pauses (Idle), at the
// end (Close), and at the end of a batch once its oldest line has waited kJsonlMaxDelayMs, so
// that a slow trace still reaches the file as it runs. The EventStream in
// front of it guarantees that the summary is the last line, exactly once. No fsync: a trace is
// not a database.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "sinks/encoded_sink.h"
#include "sinks/sink.h"
#include "sinks/text_buffer.h"

namespace sandtrace::sinks {

inline constexpr size_t kJsonlBufferLimit = 2 << 20;
inline constexpr int kJsonlMaxDelayMs = 200;

class JsonlSink : public Sink, public EncodedSink {
 public:
  // Creates or truncates `path` (mode 0644). The error names the file.
  static Result<std::unique_ptr<JsonlSink>> OpenPath(const std::string& path);
  // Takes ownership of the open, writable descriptor `fd` (1 for `-o -`); it is closed at the
  // end. Fails when fd is not open for writing. With `empty_at_begin`, Begin() empties it when
  // it is a regular file (the wrapper opens `-o FILE` without O_TRUNC, see Begin).
  static Result<std::unique_ptr<JsonlSink>> AdoptFd(int fd, bool empty_at_begin = false);
  // Opens `path` for appending (created if missing), for `sandtrace collect`.
  static Result<std::unique_ptr<JsonlSink>> OpenAppend(const std::string& path);
  ~JsonlSink() override;

  // Empties an adopted regular file when asked to (AdoptFd). Here and not in the wrapper: on a
  // file system that discards freed blocks at once (ext4 with `discard` and no journal), cutting
  // the last run's output takes the caller 0.3-0.5 ms of waiting for the device, which the
  // wrapper spent on every run's start-up path, ahead of the stages. The sink does it while the
  // command starts, before it writes anything.
  Status Begin() override;
  Status Write(const msgpack::object& event) override;
  // The same, adding "run_id" to an event that has none (a collector's file holds many runs).
  Status Write(const msgpack::object& event, std::string_view run_id);
  // EncodedSink: the event's MessagePack bytes, transcoded without an object tree. Nothing is
  // written before Flush, however long the pending lines grow.
  size_t AppendEncoded(std::string_view bytes, MapEntryVisitor* visitor) override;
  size_t pending() const override { return buffer_.size(); }
  void CutPending(size_t pending) override { buffer_.Commit(buffer_.data() + pending); }
  // Cuts the file back to `size` bytes when it is longer: what a collector wrote after its last
  // commit, which the publishers send again. Only before anything is written.
  Status CutBack(uint64_t size);
  // The file's size once everything written so far is flushed.
  Result<uint64_t> FileSize() const;
  const std::string& name() const { return name_; }
  // End of a batch: writes the buffer out when it holds kJsonlBufferLimit bytes or its oldest
  // line has waited kJsonlMaxDelayMs, and keeps it otherwise (as Sink::Flush allows).
  Status Flush() override;
  Status Idle() override { return WriteOut(); }
  Status Close() override;
  // Writes out everything buffered, now (a collector, before it commits the file's size).
  Status WriteOut();

 private:
  JsonlSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

  int fd_;
  std::string name_;  // for error messages: the path, or "fd N"
  bool empty_at_begin_ = false;
  TextBuffer buffer_;
  // When Flush first kept the buffer's lines (none while nothing is kept).
  std::optional<std::chrono::steady_clock::time_point> kept_since_;
  JsonKeyCache keys_;  // of AppendEncoded's events
};

}  // namespace sandtrace::sinks
