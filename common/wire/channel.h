// Lossless point-to-point message channels over ZeroMQ PAIR sockets. A Sender blocks when the
// receiver's queue is full instead of dropping (PAIR never drops at its high-water mark),
// numbers every message and counts records, so that a Receiver can detect and report any gap.
// Every message is two frames: the envelope header (codec.h) and a body of `count` objects.
// cppzmq exceptions are caught here and returned as Errors.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/wire/records.h"

namespace zmq {
class message_t;
}

namespace sandtrace::wire {

struct ChannelImpl;

// A body that ZeroMQ sends from where it lies instead of copying it (Sender::SendInPlace).
// The bytes must stay unchanged until ZeroMQ calls `release(data, hint)`, which it does once
// per SendInPlace, from its I/O thread, when it is done with them (sent or dropped).
struct InPlaceBody {
  const char* data = nullptr;
  size_t size = 0;
  void (*release)(void* data, void* hint) = nullptr;
  void* hint = nullptr;
};

class Sender {
 public:
  // Connects to a bound Receiver. Messages sent before the connection completes are queued.
  static Result<Sender> Connect(const std::string& endpoint);
  // Binds `endpoint` for a receiver that connects (a plug-in analyser). Until it connects,
  // Send blocks (or gives up, see below).
  static Result<Sender> Bind(const std::string& endpoint);
  // A sender whose ZeroMQ context, socket and I/O threads exist but which is not connected
  // yet, so that a later ConnectTo() is quick (the tracer prepares it while the sandbox is
  // built). Connect() = Unconnected() + ConnectTo().
  static Result<Sender> Unconnected();
  Status ConnectTo(const std::string& endpoint);
  Sender(Sender&&) noexcept;
  Sender& operator=(Sender&&) noexcept;
  ~Sender();

  // Sends one message of `count` objects; blocks while the receiver is behind.
  Status Send(MessageType type, uint32_t count, const char* body, size_t body_size);

  // The same without copying the body; `body.release` is called exactly once, also when the
  // send fails.
  Status SendInPlace(MessageType type, uint32_t count, const InPlaceBody& body);

  // The same, but while the receiver is behind (or gone), asks `give_up` every `poll_ms`; when it
  // returns true the message is not sent and the result is ECANCELED (e.g. the receiving
  // process died).
  Status Send(MessageType type, uint32_t count, const char* body, size_t body_size,
              const std::function<bool()>& give_up, int poll_ms = 100);

  // Closes the channel. After an end message, first waits (up to timeout_ms) for the
  // receiver's acknowledgement, which proves that every message was delivered.
  Status Close(int timeout_ms);

  uint64_t messages_sent() const { return next_seq_; }
  uint64_t records_sent() const { return next_index_; }

 private:
  Sender() = default;
  static Result<Sender> Open(const std::string& endpoint, bool bind);
  // Without `give_up`, blocks until the frames are queued; with it, waits `poll_ms` at a time
  // and asks `give_up` after each wait.
  Status SendFrames(MessageType type, uint32_t count, zmq::message_t body,
                    const std::function<bool()>* give_up = nullptr, int poll_ms = 0);
  std::unique_ptr<ChannelImpl> impl_;
  uint64_t next_seq_ = 0;
  uint64_t next_index_ = 0;
  bool end_sent_ = false;
  bool broken_ = false;  // a send gave up after the first frame of its message
};

// The body of a message: the bytes a Receiver got, kept where ZeroMQ received them (no copy)
// until the body is received into again or destroyed; or bytes of its own (tests, recordings).
class MessageBody {
 public:
  MessageBody() = default;
  MessageBody(std::string bytes) : owned_(std::move(bytes)) {}
  MessageBody& operator=(std::string bytes) {
    frame_.reset();
    owned_ = std::move(bytes);
    return *this;
  }

  const char* data() const {
    return frame_ ? static_cast<const char*>(frame_.get()) : owned_.data();
  }
  size_t size() const { return frame_ ? frame_size_ : owned_.size(); }
  bool empty() const { return size() == 0; }
  std::string_view view() const { return {data(), size()}; }

  // The bytes as a string of the body's own, to change or keep (a received frame is copied).
  std::string& text();
  // Takes the bytes out as a string (a received frame is copied); the body is left empty.
  std::string Take();

  // A received frame becomes the body, kept alive by it instead of copied.
  void Adopt(zmq::message_t&& frame);

 private:
  std::string owned_;
  std::shared_ptr<const void> frame_;  // when set, the body is frame_size_ bytes at frame_
  size_t frame_size_ = 0;
};

// One received message. `lost_records` / `lost_messages` are non-zero when messages were
// missing between the previous message and this one.
struct Message {
  Header header;
  MessageBody body;
  uint64_t lost_messages = 0;
  uint64_t lost_records = 0;
};

class Receiver {
 public:
  static Result<Receiver> Bind(const std::string& endpoint);
  Receiver(Receiver&&) noexcept;
  Receiver& operator=(Receiver&&) noexcept;
  ~Receiver();

  // Waits up to timeout_ms (-1: forever) for a message. Returns false on timeout. Receiving
  // an end message acknowledges it to the sender.
  Result<bool> Receive(Message* out, int timeout_ms);

  // The ZeroMQ socket, for zmq_poll together with other sockets (ZMQ_POLLIN: Receive will not
  // wait).
  void* poll_handle() const;

 private:
  Receiver() = default;
  std::unique_ptr<ChannelImpl> impl_;
  uint64_t expected_seq_ = 0;
  uint64_t expected_index_ = 0;
};

}  // namespace sandtrace::wire
