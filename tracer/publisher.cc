#include "tracer/publisher.h"

namespace sandtrace::tracer {

namespace {
constexpr int kEndAckTimeoutMs = 60'000;
}

Status Publisher::Flush() {
  if (pending_ == 0) return {};
  Status s = sender_.Send(wire::MessageType::kRawBatch, pending_, batch_.data(), batch_.size());
  batch_.clear();
  pending_ = 0;
  urgent_ = false;
  return s;
}

Status Publisher::SendOne(wire::MessageType type, const msgpack::sbuffer& body) {
  return sender_.Send(type, 1, body.data(), body.size());
}

Status Publisher::SendHello(const wire::Hello& hello) {
  msgpack::sbuffer body;
  wire::EncodeHello(hello, &body);
  return SendOne(wire::MessageType::kHello, body);
}

Status Publisher::Finish(const wire::End& end) {
  Status sent = Flush();
  if (sent) {
    msgpack::sbuffer body;
    wire::EncodeEnd(end, &body);
    sent = SendOne(wire::MessageType::kEnd, body);
  }
  if (!sent) return sent;
  return sender_.Close(kEndAckTimeoutMs);
}

}  // namespace sandtrace::tracer
