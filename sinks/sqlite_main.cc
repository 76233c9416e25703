// sandtrace-sink-sqlite --in ENDPOINT --ready-fd N --path FILE
#include "common/flags.h"
#include "sinks/sink_loop.h"
#include "sinks/sqlite_sink.h"

namespace {

using sandtrace::PlainError;
using sandtrace::Result;
using sandtrace::StageFlags;
using sandtrace::sinks::Sink;
using sandtrace::sinks::SqliteSink;

Result<std::unique_ptr<Sink>> OpenOutput(const StageFlags& flags) {
  if (!flags.Has("path")) return PlainError("--path FILE is required");
  Result<std::unique_ptr<SqliteSink>> sink = SqliteSink::Open(flags.Get("path"));
  if (!sink) return sink.error();
  return std::unique_ptr<Sink>(std::move(*sink));
}

}  // namespace

int main(int argc, char** argv) {
  return sandtrace::sinks::RunSinkStage({"sandtrace-sink-sqlite", {}}, argc, argv, OpenOutput);
}
