// sandtrace-sink-jsonl --in ENDPOINT --ready-fd N (--fd N [--empty] | --path FILE)
// --empty: the descriptor is a file to be emptied once the run starts (Sink::Begin).
#include "common/flags.h"
#include "sinks/jsonl_sink.h"
#include "sinks/sink_loop.h"

namespace {

using sandtrace::PlainError;
using sandtrace::Result;
using sandtrace::StageFlags;
using sandtrace::sinks::JsonlSink;
using sandtrace::sinks::Sink;

Result<std::unique_ptr<Sink>> OpenOutput(const StageFlags& flags) {
  if (flags.Has("fd") == flags.Has("path")) {
    return PlainError("exactly one of --fd N and --path FILE is required");
  }
  if (flags.Has("path")) {
    Result<std::unique_ptr<JsonlSink>> sink = JsonlSink::OpenPath(flags.Get("path"));
    if (!sink) return sink.error();
    return std::unique_ptr<Sink>(std::move(*sink));
  }
  Result<long long> fd = flags.GetInt("fd", -1);
  if (!fd) return fd.error();
  Result<std::unique_ptr<JsonlSink>> sink =
      JsonlSink::AdoptFd(static_cast<int>(*fd), flags.Has("empty"));
  if (!sink) return sink.error();
  return std::unique_ptr<Sink>(std::move(*sink));
}

}  // namespace

int main(int argc, char** argv) {
  return sandtrace::sinks::RunSinkStage({"sandtrace-sink-jsonl", {"empty"}}, argc, argv,
                                        OpenOutput);
}
