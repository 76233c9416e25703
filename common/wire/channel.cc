#include "common/wire/channel.h"

#include <memory>
#include <mutex>
#include <zmq.hpp>

#include "common/wire/codec.h"

namespace sandtrace::wire {
namespace {

// One ZeroMQ context for all the channels of a process, so that one I/O thread serves them all
// (the analyser receives and sends through the same one): each context has an I/O thread and
// a reaper thread of its own, started with it and woken for each message. It lives while a
// channel holds it; the last one to go terminates it, waiting for its sockets' linger.
std::shared_ptr<zmq::context_t> SharedContext() {
  static std::mutex mutex;
  static std::weak_ptr<zmq::context_t> shared;
  std::lock_guard<std::mutex> lock(mutex);
  std::shared_ptr<zmq::context_t> context = shared.lock();
  if (!context) {
    context = std::make_shared<zmq::context_t>(1);
    shared = context;
  }
  return context;
}

}  // namespace

struct ChannelImpl {
  std::shared_ptr<zmq::context_t> context = SharedContext();  // declared first: outlives socket
  zmq::socket_t socket;
};

namespace {

// Queue depth in messages; each message is a batch of records.
constexpr int kHighWaterMark = 32;
constexpr int kReconnectMs = 2;
constexpr int kReconnectMaxMs = 100;

}  // namespace

Result<Sender> Sender::Unconnected() {
  Sender sender;
  try {
    sender.impl_ = std::make_unique<ChannelImpl>();
    sender.impl_->socket = zmq::socket_t(*sender.impl_->context, zmq::socket_type::pair);
    sender.impl_->socket.set(zmq::sockopt::sndhwm, kHighWaterMark);
    // Never -1, not even before Close sets the linger it wants: a bound socket's connection
    // whose peer vanishes ends on its own, with the socket's linger at that moment, and with
    // -1 it would wait for ever to deliver its queued messages to the peer that is gone, and
    // the context's termination with it (ChannelTest.BoundSenderGivesUpWhenTheReceiver-
    // VanishesMidStream hung about once in 3000 rounds on a loaded machine).
    sender.impl_->socket.set(zmq::sockopt::linger, 0);
    // A receiver that is still starting (the sinks start side by side with the analyser) is
    // retried soon: ZeroMQ's default is to wait 100 ms after a refused connection. The wait
    // doubles after each failure up to kReconnectMaxMs, so a receiver that died is not
    // retried 500 times a second until the end of the run.
    sender.impl_->socket.set(zmq::sockopt::reconnect_ivl, kReconnectMs);
    sender.impl_->socket.set(zmq::sockopt::reconnect_ivl_max, kReconnectMaxMs);
  } catch (const zmq::error_t& e) {
    return Error{e.num(), "zmq socket"};
  }
  return sender;
}

Status Sender::ConnectTo(const std::string& endpoint) {
  try {
    impl_->socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return Error{e.num(), "zmq connect " + endpoint};
  }
  return {};
}

Result<Sender> Sender::Open(const std::string& endpoint, bool bind) {
  Result<Sender> sender = Unconnected();
  if (!sender) return Error{sender.error().code, (bind ? "zmq bind " : "zmq connect ") + endpoint};
  if (!bind) {
    if (Status s = sender->ConnectTo(endpoint); !s) return s.error();
    return sender;
  }
  try {
    sender->impl_->socket.bind(endpoint);
  } catch (const zmq::error_t& e) {
    return Error{e.num(), "zmq bind " + endpoint};
  }
  return sender;
}

Result<Sender> Sender::Connect(const std::string& endpoint) { return Open(endpoint, false); }

Result<Sender> Sender::Bind(const std::string& endpoint) { return Open(endpoint, true); }

Sender::Sender(Sender&&) noexcept = default;
Sender& Sender::operator=(Sender&&) noexcept = default;
Sender::~Sender() = default;

Status Sender::Send(MessageType type, uint32_t count, const char* body, size_t body_size) {
  return SendFrames(type, count, zmq::message_t(body, body_size));
}

Status Sender::SendInPlace(MessageType type, uint32_t count, const InPlaceBody& body) {
  zmq::message_t frame;
  try {
    frame.rebuild(const_cast<char*>(body.data), body.size, body.release, body.hint);
  } catch (const zmq::error_t& e) {  // not taken over: release it here
    body.release(const_cast<char*>(body.data), body.hint);
    return Error{e.num(), "zmq message"};
  }
  return SendFrames(type, count, std::move(frame));
}

namespace {

// Blocks until the frame is queued. A signal interrupts the wait with EINTR before the frame is
// queued, so sending again cannot duplicate it.
Status SendFrameBlocking(zmq::socket_t& socket, zmq::message_t& frame, zmq::send_flags more) {
  for (;;) {
    try {
      socket.send(frame, more);
      return {};
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) return Error{e.num(), "zmq send"};
    }
  }
}

// Never a blocking send: the room that a poll saw is gone when the receiver disconnects just
// after it, and a PAIR socket without a peer blocks every send for good.
Status SendFrameOrGiveUp(zmq::socket_t& socket, zmq::message_t& frame, zmq::send_flags more,
                         const std::function<bool()>& give_up, int poll_ms) {
  for (;;) {
    try {
      if (socket.send(frame, more | zmq::send_flags::dontwait)) return {};
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLOUT, 0};
      if (zmq::poll(&item, 1, std::chrono::milliseconds(poll_ms)) > 0) continue;
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) return Error{e.num(), "zmq send"};
    }
    if (give_up()) return Error{ECANCELED, "zmq send: the receiver is gone"};
  }
}

}  // namespace

Status Sender::SendFrames(MessageType type, uint32_t count, zmq::message_t body,
                          const std::function<bool()>* give_up, int poll_ms) {
  if (broken_) return Error{EPIPE, "zmq send: an earlier message was cut off"};
  Header header{type, next_seq_, next_index_, count};
  const std::string head = EncodeHeader(header);
  // PAIR waits for queue space instead of dropping.
  zmq::message_t frames[2] = {zmq::message_t(head.data(), head.size()), std::move(body)};
  for (int i = 0; i < 2; ++i) {
    const auto more = i == 0 ? zmq::send_flags::sndmore : zmq::send_flags::none;
    Status sent = give_up ? SendFrameOrGiveUp(impl_->socket, frames[i], more, *give_up, poll_ms)
                          : SendFrameBlocking(impl_->socket, frames[i], more);
    if (!sent) {
      broken_ = i > 0;  // its first frame is queued: a next message would continue it
      return sent;
    }
  }
  ++next_seq_;
  next_index_ += count;
  if (type == MessageType::kEnd) end_sent_ = true;
  return {};
}

Status Sender::Send(MessageType type, uint32_t count, const char* body, size_t body_size,
                    const std::function<bool()>& give_up, int poll_ms) {
  return SendFrames(type, count, zmq::message_t(body, body_size), &give_up, poll_ms);
}

Status Sender::Close(int timeout_ms) {
  if (!impl_) return {};
  Status result;
  try {
    if (end_sent_) {
      // Wait for the receiver's acknowledgement of the end message: only then is everything
      // delivered (libzmq can discard queued ipc messages of a closed socket despite linger).
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
      result = Error{ETIMEDOUT, "waiting for the receiver to acknowledge the end of stream"};
      for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        zmq::pollitem_t item{impl_->socket.handle(), 0, ZMQ_POLLIN, 0};
        try {
          if (zmq::poll(&item, 1, left) == 0) continue;
          zmq::message_t ack;
          if (impl_->socket.recv(ack, zmq::recv_flags::dontwait)) {
            result = {};
            break;
          }
        } catch (const zmq::error_t& e) {
          if (e.num() != EINTR) throw;  // a timer signal of the caller: keep waiting
        }
      }
    }
    // Unsent messages get up to timeout_ms more: the wait happens when the shared context
    // ends, i.e. here for the process's last channel, otherwise when that one goes.
    impl_->socket.set(zmq::sockopt::linger, timeout_ms);
    impl_->socket.close();
  } catch (const zmq::error_t& e) {
    return Error{e.num(), "zmq close"};
  }
  impl_.reset();
  return result;
}

Result<Receiver> Receiver::Bind(const std::string& endpoint) {
  Receiver receiver;
  try {
    receiver.impl_ = std::make_unique<ChannelImpl>();
    receiver.impl_->socket = zmq::socket_t(*receiver.impl_->context, zmq::socket_type::pair);
    receiver.impl_->socket.set(zmq::sockopt::rcvhwm, kHighWaterMark);
    receiver.impl_->socket.set(zmq::sockopt::linger, 0);
    receiver.impl_->socket.bind(endpoint);
  } catch (const zmq::error_t& e) {
    return Error{e.num(), "zmq bind " + endpoint};
  }
  return receiver;
}

Receiver::Receiver(Receiver&&) noexcept = default;
Receiver& Receiver::operator=(Receiver&&) noexcept = default;
Receiver::~Receiver() = default;

void* Receiver::poll_handle() const { return impl_->socket.handle(); }

std::string& MessageBody::text() {
  if (frame_) {
    owned_.assign(static_cast<const char*>(frame_.get()), frame_size_);
    frame_.reset();
  }
  return owned_;
}

void MessageBody::Adopt(zmq::message_t&& frame) {
  auto kept = std::make_shared<zmq::message_t>(std::move(frame));
  const void* bytes = kept->data();
  frame_size_ = kept->size();
  frame_ = std::shared_ptr<const void>(std::move(kept), bytes);  // points into what it keeps
  owned_.clear();
}

std::string MessageBody::Take() {
  std::string bytes = std::move(text());
  owned_.clear();
  return bytes;
}

Result<bool> Receiver::Receive(Message* out, int timeout_ms) {
  zmq::message_t head;
  zmq::message_t body;
  try {
    zmq::pollitem_t item{impl_->socket.handle(), 0, ZMQ_POLLIN, 0};
    // EINTR from a signal surfaces as an exception with num() == EINTR: report "no message".
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) == 0) return false;
    if (!impl_->socket.recv(head, zmq::recv_flags::none)) return false;
    if (!head.more()) return PlainError("zmq recv: message without a body frame");
    if (!impl_->socket.recv(body, zmq::recv_flags::none)) return PlainError("zmq recv: no body");
    while (body.more()) {  // tolerate and drop extra frames from a newer peer
      zmq::message_t extra;
      if (!impl_->socket.recv(extra, zmq::recv_flags::none)) break;
      if (!extra.more()) break;
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return false;
    return Error{e.num(), "zmq recv"};
  }
  Result<Header> header = DecodeHeader(head.data(), head.size());
  if (!header) return header.error();
  out->header = *header;
  out->body.Adopt(std::move(body));
  out->lost_messages = header->seq > expected_seq_ ? header->seq - expected_seq_ : 0;
  out->lost_records =
      header->first_index > expected_index_ ? header->first_index - expected_index_ : 0;
  expected_seq_ = header->seq + 1;
  expected_index_ = header->first_index + header->count;
  if (header->type == MessageType::kEnd) {
    try {
      impl_->socket.send(zmq::str_buffer("ack"), zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
      // The sender is gone already; it no longer needs the acknowledgement.
    }
  }
  return true;
}

}  // namespace sandtrace::wire
