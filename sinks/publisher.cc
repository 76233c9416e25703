#include "sinks/publisher.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <optional>
#include <zmq.hpp>

#include "common/ready_pipe.h"
#include "common/result.h"
#include "common/wire/channel.h"
#include "common/wire/codec.h"
#include "sinks/sink_loop.h"

namespace sandtrace::sinks {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Nothing acknowledged for this long while messages are outstanding: send them again. Doubles
// after each such resend (up to kMaxResendAfter), back to the start on progress.
constexpr auto kResendAfter = milliseconds(3000);
constexpr auto kMaxResendAfter = milliseconds(30000);
// A resend the collector asks for is honoured at most this often for the same message.
constexpr auto kResendRequestGap = milliseconds(500);
// Messages queued in the socket towards the collector (the rest wait in our buffer).
constexpr int kSocketQueue = 64;
constexpr int kPollMs = 100;
// Messages taken from the analyser per turn of the loop, so acknowledgements keep flowing.
constexpr int kPullsPerTurn = 32;

void Say(const std::string& message) {
  std::fprintf(stderr, "sandtrace-sink-publish: %s\n", message.c_str());
}

// One message of the run, kept until the collector acknowledges it.
struct Outgoing {
  wire::MessageType type;
  uint64_t first_index;
  uint32_t count;
  uint64_t lost_records;
  uint64_t lost_messages;
  std::string body;
};

class Publisher {
 public:
  explicit Publisher(const PublisherOptions& options) : options_(options) {}

  Status Open();
  // Sends the open message and waits for its acknowledgement.
  Status Handshake();
  // Forwards the analyser's stream until its end is acknowledged (or given up on).
  Status Run();

 private:
  void Enqueue(wire::MessageType type, uint32_t count, std::string body, uint64_t lost_records,
               uint64_t lost_messages);
  // Sends unsent messages while the socket takes them.
  Status SendSome();
  Status ReadAcks();
  // Takes what the analyser has ready; false when its stream ended.
  Status Pull();
  void MaybeResend();
  uint64_t unacked() const { return next_seq_ - acked_; }

  const PublisherOptions& options_;
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::optional<wire::Receiver> upstream_;
  std::deque<Outgoing> buffer_;  // messages acked_ .. next_seq_-1
  size_t buffered_bytes_ = 0;
  uint64_t next_seq_ = 0;   // of the next message enqueued
  uint64_t next_index_ = 0;
  uint64_t send_pos_ = 0;   // next message to put on the socket
  uint64_t acked_ = 0;      // everything before it is committed by the collector
  bool upstream_ended_ = false;
  Clock::time_point last_progress_ = Clock::now();
  Clock::duration resend_after_ = kResendAfter;
  std::optional<uint64_t> last_requested_;
  Clock::time_point last_request_time_;
};

Status Publisher::Open() {
  Result<wire::Receiver> receiver = wire::Receiver::Bind(options_.in);
  if (!receiver) return receiver.error();
  upstream_.emplace(std::move(*receiver));
  try {
    socket_ = zmq::socket_t(context_, zmq::socket_type::dealer);
    socket_.set(zmq::sockopt::sndhwm, kSocketQueue);
    socket_.set(zmq::sockopt::linger, 0);  // what is not acknowledged is still in buffer_
    socket_.set(zmq::sockopt::reconnect_ivl, 100);
    socket_.set(zmq::sockopt::reconnect_ivl_max, 2000);
    socket_.connect(options_.to);
  } catch (const zmq::error_t& e) {
    return Error{e.num(), "cannot connect to the collector " + options_.to};
  }
  return {};
}

void Publisher::Enqueue(wire::MessageType type, uint32_t count, std::string body,
                        uint64_t lost_records, uint64_t lost_messages) {
  buffered_bytes_ += body.size();
  buffer_.push_back({type, next_index_, count, lost_records, lost_messages, std::move(body)});
  ++next_seq_;
  next_index_ += count;
}

Status Publisher::SendSome() {
  while (send_pos_ < next_seq_) {
    const Outgoing& m = buffer_[send_pos_ - acked_];
    wire::RemoteHeader h;
    h.type = m.type;
    h.run_id = options_.run_id;
    h.host = options_.host;
    h.seq = send_pos_;
    h.first_index = m.first_index;
    h.count = m.count;
    h.oldest_seq = acked_;
    h.lost_records = m.lost_records;
    h.lost_messages = m.lost_messages;
    const std::string head = wire::EncodeRemoteHeader(h);
    try {
      // The high-water mark counts whole messages: once the first frame is taken, so is the
      // second.
      if (!socket_.send(zmq::buffer(head), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
        return {};
      }
      socket_.send(zmq::buffer(m.body), zmq::send_flags::none);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) return {};
      return Error{e.num(), "zmq send to " + options_.to};
    }
    ++send_pos_;
  }
  return {};
}

Status Publisher::ReadAcks() {
  for (;;) {
    zmq::message_t frame;
    try {
      if (!socket_.recv(frame, zmq::recv_flags::dontwait)) return {};
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) return {};
      return Error{e.num(), "zmq recv from " + options_.to};
    }
    Result<wire::RemoteAck> ack = wire::DecodeRemoteAck(frame.data(), frame.size());
    if (!ack) {
      Say("ignoring an answer from the collector: " + ack.error().message());
      continue;
    }
    if (ack->run_id != options_.run_id) continue;
    const uint64_t durable = std::min(ack->durable_seq, next_seq_);
    if (durable > acked_) {
      while (acked_ < durable) {
        buffered_bytes_ -= buffer_.front().body.size();
        buffer_.pop_front();
        ++acked_;
      }
      send_pos_ = std::max(send_pos_, acked_);
      last_progress_ = Clock::now();
      resend_after_ = kResendAfter;
    }
    if (ack->resend && ack->wanted_seq >= acked_ && ack->wanted_seq < send_pos_) {
      const auto now = Clock::now();
      if (last_requested_ != ack->wanted_seq || now - last_request_time_ > kResendRequestGap) {
        send_pos_ = ack->wanted_seq;
        last_requested_ = ack->wanted_seq;
        last_request_time_ = now;
      }
    }
  }
}

void Publisher::MaybeResend() {
  if (acked_ == send_pos_) {
    last_progress_ = Clock::now();  // nothing outstanding: nothing to wait for
    return;
  }
  const auto now = Clock::now();
  if (now - last_progress_ < resend_after_) return;
  send_pos_ = acked_;  // the collector may have lost what it had not committed
  last_progress_ = now;
  resend_after_ = std::min<Clock::duration>(resend_after_ * 2, kMaxResendAfter);
}

Status Publisher::Pull() {
  for (int i = 0; i < kPullsPerTurn && !upstream_ended_; ++i) {
    if (buffered_bytes_ >= options_.buffer_bytes) return {};  // back-pressure on the analyser
    wire::Message message;
    Result<bool> got = upstream_->Receive(&message, 0);
    if (!got) {
      if (got.error().code != 0) return got.error();
      Say(got.error().message());  // the next message's sequence number reports the loss
      continue;
    }
    if (!*got) return {};
    const bool end = message.header.type == wire::MessageType::kEnd;
    Enqueue(message.header.type, message.header.count, message.body.Take(), message.lost_records,
            message.lost_messages);
    if (end) upstream_ended_ = true;
  }
  return {};
}

Status Publisher::Handshake() {
  Enqueue(wire::MessageType::kHello, 0, std::string(), 0, 0);
  const auto deadline = Clock::now() + milliseconds(options_.connect_timeout_ms);
  while (acked_ == 0) {
    if (Clock::now() >= deadline) {
      return PlainError("the collector at " + options_.to + " did not answer within " +
                        std::to_string(options_.connect_timeout_ms / 1000) +
                        " s (is `sandtrace collect --listen " + options_.to + "` running?)");
    }
    if (Status s = SendSome(); !s) return s;
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, milliseconds(50));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) return Error{e.num(), "zmq poll"};
    }
    if (Status s = ReadAcks(); !s) return s;
  }
  return {};
}

Status Publisher::Run() {
  std::optional<Clock::time_point> give_up_at;
  std::optional<Clock::time_point> quiet_since;
  for (;;) {
    if (upstream_ended_ && !give_up_at) {
      give_up_at = Clock::now() + milliseconds(options_.linger_ms);
    }
    if (SinkTerminateRequested()) {
      // Told to stop: take what the analyser still sends until it is quiet, then end the
      // stream here (the collector finishes the run with what it got) and linger briefly.
      const auto term_limit = Clock::now() + milliseconds(kPublishLingerAfterTermMs);
      if (!give_up_at || *give_up_at > term_limit) give_up_at = term_limit;
      if (!upstream_ended_ && quiet_since &&
          Clock::now() - *quiet_since > milliseconds(kDrainQuietMs)) {
        Enqueue(wire::MessageType::kEnd, 0, std::string(), 0, 0);
        upstream_ended_ = true;
      }
    }
    if (upstream_ended_ && acked_ == next_seq_) return {};
    if (give_up_at && Clock::now() >= *give_up_at) {
      return PlainError(std::to_string(unacked()) + " of the run's " + std::to_string(next_seq_) +
                        " messages were not acknowledged by the collector at " + options_.to +
                        (upstream_ended_ ? "" : " (the run's stream did not end)") +
                        "; they are lost, and the collector shows the run incomplete");
    }

    const bool can_pull = !upstream_ended_ && buffered_bytes_ < options_.buffer_bytes;
    zmq::pollitem_t items[2] = {
        {socket_.handle(), 0,
         static_cast<short>(ZMQ_POLLIN | (send_pos_ < next_seq_ ? ZMQ_POLLOUT : 0)), 0},
        {upstream_->poll_handle(), 0, static_cast<short>(can_pull ? ZMQ_POLLIN : 0), 0},
    };
    try {
      zmq::poll(items, 2, milliseconds(kPollMs));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) return Error{e.num(), "zmq poll"};
    }
    if (Status s = ReadAcks(); !s) return s;
    if (can_pull) {
      const uint64_t before = next_seq_;
      if (Status s = Pull(); !s) return s;
      if (next_seq_ != before || !quiet_since) quiet_since = Clock::now();
    }
    MaybeResend();
    if (Status s = SendSome(); !s) return s;
  }
}

}  // namespace

int RunPublisher(const PublisherOptions& options, int ready_fd) {
  InstallSinkSignalHandlers();

  Publisher publisher(options);
  Status started = publisher.Open();
  if (started) started = publisher.Handshake();
  if (!started) {
    if (ready_fd < 0) Say(started.error().message());
    ReportFailure(ready_fd, started.error().message());
    return 1;
  }
  ReportReady(ready_fd);
  if (Status done = publisher.Run(); !done) {
    Say(done.error().message());
    return 1;
  }
  return 0;
}

}  // namespace sandtrace::sinks
