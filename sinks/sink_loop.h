// The process around every sink (sandtrace-sink-jsonl, -sqlite, -term): parse the common flags
// (--in ENDPOINT, --ready-fd N), open the output, bind the receiver, answer the start-up
// handshake (common/ready_pipe.h) only once both are usable, then pump messages into an
// EventStream until the end message. SIGINT is ignored (the wrapper decides what Ctrl-C means);
// on SIGTERM the loop drains what is still queued until kDrainQuietMs of silence and finishes
// the output, so it always ends with a summary. A failing output does not stall the pipeline:
// the loop keeps receiving (and discarding) until the end and then exits 1.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/flags.h"
#include "common/result.h"
#include "common/wire/channel.h"
#include "sinks/event_stream.h"
#include "sinks/sink.h"

namespace sandtrace::sinks {

inline constexpr int kDrainQuietMs = 200;

struct SinkStage {
  const char* name;                        // executable name, prefixes every message
  std::vector<std::string> boolean_flags;  // this sink's flags that take no value
};

// Opens the sink's output from its own flags; an error names the output.
using SinkOpener = std::function<Result<std::unique_ptr<Sink>>(const StageFlags& flags)>;

// The whole life of a sink process; returns its exit status: 0 when the output was finished,
// 1 when it could not be opened or failed, 2 on a usage error.
int RunSinkStage(const SinkStage& stage, int argc, char** argv, const SinkOpener& open);

// Installs the signal dispositions described above (also: SIGPIPE ignored, so a closed
// stdout is a write error). RunSinkStage calls it; tests may too.
void InstallSinkSignalHandlers();

// True once SIGTERM arrived (after InstallSinkSignalHandlers), for a sink process with a loop of
// its own (the publisher).
bool SinkTerminateRequested();

// Receives into `stream` until the end message (or, after SIGTERM, until kDrainQuietMs of
// silence), then finishes it. Returns a transport failure or the sink's first error.
// `first_error`: the sink failed already (Sink::Begin); nothing is delivered, but the stream is
// still received to its end, so that upstream is never blocked.
Status PumpEvents(wire::Receiver* receiver, EventStream* stream, Status first_error = {});

}  // namespace sandtrace::sinks
