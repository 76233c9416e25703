#include "analyzer/stage.h"

#include <cstdio>
#include <string>

#include "common/wire/codec.h"

namespace sandtrace::analyzer {
namespace {

void Report(const std::string& what) {
  std::fprintf(stderr, "sandtrace-analyzer: %s\n", what.c_str());
}

uint64_t ElapsedMs(uint64_t since_ns) { return (NowNs() - since_ns) / 1000000; }

constexpr size_t kBatchCapacity = 64 * 1024;  // a new batch's memory, until some comes back

}  // namespace

Stage::Stage(wire::Receiver input, std::vector<wire::Sender> outputs, PluginHost* plugins,
             StageOptions options)
    : input_(std::move(input)),
      outputs_(std::move(outputs)),
      plugins_(plugins != nullptr && !plugins->empty() ? plugins : nullptr),
      options_(options) {}

Status Stage::Run(const volatile std::sig_atomic_t* stop) {
  wire::Message message;  // one for all: it holds the last received frame
  while (!analyzer_.finished() && *stop == 0) {
    Result<bool> got = input_.Receive(&message, options_.poll_ms);
    if (!got) {
      Report(got.error().message());
      if (got.error().code != 0) break;  // the socket itself failed: nothing more will come
      continue;                          // an undecodable header: the next one reports the gap
    }
    if (*got) Handle(message);
  }
  if (!analyzer_.finished()) {
    const uint64_t drain_start = NowNs();
    while (!analyzer_.finished() && ElapsedMs(drain_start) < uint64_t(options_.drain_limit_ms)) {
      Result<bool> got = input_.Receive(&message, options_.drain_silence_ms);
      if (!got || !*got) break;
      Handle(message);
    }
  }
  if (!analyzer_.finished()) {
    wire::End aborted;
    aborted.outcome = wire::Outcome::kAborted;
    aborted.end_ns = NowNs();
    FinishPlugins(aborted);
    end_ = analyzer_.Abort(NowNs(), "the analyser stopped before the tracer's end of stream");
  }
  Flush();
  return Finish();
}

void Stage::Handle(const wire::Message& message) {
  analyzer_.OnLoss(message.lost_records, message.lost_messages, NowNs());
  const wire::Header& header = message.header;
  switch (header.type) {
    case wire::MessageType::kHello: {
      Result<wire::Hello> hello = wire::DecodeHello(message.body.data(), message.body.size());
      if (!hello) {
        Report("undecodable hello: " + hello.error().message());
        analyzer_.OnLoss(header.count, 1, NowNs());
      } else if (!analyzer_.OnHello(*hello)) {
        Report("ignoring a hello that came after the start of the stream");
      }
      break;
    }
    case wire::MessageType::kRawBatch:
      HandleRawBatch(message);
      break;
    case wire::MessageType::kEnd:
      HandleEnd(message);
      break;
    case wire::MessageType::kEventBatch:
      Report("ignoring an event batch on the tracer's channel (seq " + std::to_string(header.seq) +
             ")");
      break;
  }
  Flush();
}

void Stage::HandleRawBatch(const wire::Message& message) {
  // records_ keeps its records from message to message, and they their memory.
  Status decoded = wire::DecodeRecordsReusing(message.body.data(), message.body.size(),
                                              message.header.count, &records_);
  if (!decoded) {
    Report("undecodable raw batch (seq " + std::to_string(message.header.seq) +
           "): " + decoded.error().message());
    analyzer_.OnLoss(message.header.count, 1, NowNs());
    return;
  }
  for (uint32_t i = 0; i < message.header.count; ++i) analyzer_.OnRecord(records_[i]);
}

void Stage::HandleEnd(const wire::Message& message) {
  Result<wire::End> end = wire::DecodeEnd(message.body.data(), message.body.size());
  if (!end) {
    Report("undecodable end of stream: " + end.error().message());
    end_ = analyzer_.Abort(NowNs(), "undecodable end of stream from the tracer");
    return;
  }
  end_ = *end;
  FinishPlugins(end_);
  analyzer_.OnEnd(end_);
}

void Stage::FinishPlugins(const wire::End& end) {
  if (!plugins_) return;
  Flush();
  PluginOutput output;
  plugins_->Finish(end, options_.plugin_finish_ms, &output);
  Forward(output);
  analyzer_.SetPluginStatuses(plugins_->Statuses());
  plugins_ = nullptr;  // done: later batches (the summary) go to the outputs only
}

void Stage::Forward(PluginOutput& output) {
  for (const ExternalAlert& a : output.alerts) {
    analyzer_.AddExternalAlert(a.pid, a.rule, a.severity, a.subject, a.syscall);
    if (analyzer_.alert_notices()) {
      PrintAlertNotice(analyzer_.alert_notices(), a.rule, a.severity, a.message, a.pid);
    }
  }
  if (output.count == 0) return;
  SendToOutputs(output.events.data(), output.events.size(), output.count);
  output.events.clear();
  output.count = 0;
  output.alerts.clear();
}

void Stage::SendToOutputs(const char* data, size_t size, uint32_t count) {
  for (wire::Sender& output : outputs_) {
    Status sent = output.Send(wire::MessageType::kEventBatch, count, data, size);
    if (!sent) {
      Report("sending events: " + sent.error().message());
      output_failed_ = true;
    }
  }
}

void Stage::SendBatch(EventWriter& events) {
  const uint32_t count = events.count();
  const int uses = static_cast<int>(outputs_.size()) + 1;  // the outputs and the stage itself
  const wire::InPlaceBody batch =
      batch_memory_.Share(events.ReleaseBatch(batch_memory_.Take(kBatchCapacity)), uses);
  for (wire::Sender& output : outputs_) {
    Status sent = output.SendInPlace(wire::MessageType::kEventBatch, count, batch);
    if (!sent) {
      Report("sending events: " + sent.error().message());
      output_failed_ = true;
    }
  }
  if (plugins_) plugins_->Send(batch.data, batch.size, count);
  batch.release(const_cast<char*>(batch.data), batch.hint);
}

void Stage::Flush() {
  EventWriter& events = analyzer_.events();
  if (events.count() != 0) SendBatch(events);
  if (plugins_) {
    PluginOutput output;
    plugins_->Collect(0, &output);
    Forward(output);
  }
}

Status Stage::Finish() {
  msgpack::sbuffer body;
  wire::EncodeEnd(end_, &body);
  for (wire::Sender& output : outputs_) {
    Status sent = output.Send(wire::MessageType::kEnd, 1, body.data(), body.size());
    if (!sent) {
      Report("sending the end of stream: " + sent.error().message());
      output_failed_ = true;
    }
  }
  for (wire::Sender& output : outputs_) {
    Status closed = output.Close(options_.close_timeout_ms);
    if (!closed) {
      Report("closing an output: " + closed.error().message());
      output_failed_ = true;
    }
  }
  if (output_failed_) return PlainError("an output did not receive the whole event stream");
  return {};
}

}  // namespace sandtrace::analyzer
