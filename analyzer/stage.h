// The analyser stage as a process runs it: receives the tracer's messages on one channel,
// feeds them to an Analyzer, sends each resulting batch of events to every output channel
// (sinks), and finishes every output with an end message. External analysers (plug-ins,
// plugin_host.h) get the same batches; their alerts and derived events go to the outputs. A message it cannot
// decode is reported on stderr and counted as lost in a `gap` event; it never stops the
// stage. When asked to stop (SIGTERM) before the tracer's end arrived, it drains what is
// queued, then writes the summary with outcome `aborted` and ends the outputs with it.
#pragma once

#include <csignal>
#include <vector>

#include "analyzer/analyzer.h"
#include "analyzer/batch_memory.h"
#include "analyzer/plugin_host.h"
#include "common/result.h"
#include "common/wire/channel.h"

namespace sandtrace::analyzer {

struct StageOptions {
  int poll_ms = 200;             // receive timeout between checks of the stop flag
  int drain_silence_ms = 200;    // after a stop request: quiet time that ends the drain
  int drain_limit_ms = 10000;    // after a stop request: longest drain
  int close_timeout_ms = 30000;  // per output: wait for the receiver's end acknowledgement
  int plugin_finish_ms = 10000;  // after the end of the trace: wait for the plug-ins' ends
};

class Stage {
 public:
  // `plugins` (may be null) are already started; they get every event batch the outputs get,
  // and what they send back goes to the outputs, before the summary.
  Stage(wire::Receiver input, std::vector<wire::Sender> outputs, PluginHost* plugins = nullptr,
        StageOptions options = {});

  Analyzer& analyzer() { return analyzer_; }

  // Runs until the end of the stream, or until *stop becomes non-zero and the queue is
  // drained. Ok when every output received every event and its end message.
  Status Run(const volatile std::sig_atomic_t* stop);

 private:
  void Handle(const wire::Message& message);
  void HandleRawBatch(const wire::Message& message);
  void HandleEnd(const wire::Message& message);
  // Sends the pending events as one batch to every output (and plug-in), then forwards what
  // the plug-ins sent back.
  void Flush();
  // Before the summary: ends the plug-ins' streams and forwards their last events.
  void FinishPlugins(const wire::End& end);
  void Forward(PluginOutput& output);
  void SendToOutputs(const char* data, size_t size, uint32_t count);
  // Sends the analyser's pending events in place to every output and to the plug-ins.
  void SendBatch(EventWriter& events);
  Status Finish();

  BatchMemory batch_memory_;  // first: it outlives the outputs, which send from its memory
  wire::Receiver input_;
  std::vector<wire::Sender> outputs_;
  PluginHost* plugins_;
  StageOptions options_;
  Analyzer analyzer_;
  wire::End end_;
  // HandleRawBatch's decoded records: the first header.count of the last batch (reused).
  std::vector<wire::RawRecord> records_;
  bool output_failed_ = false;
};

}  // namespace sandtrace::analyzer
