// sandtrace-sink-term --in ENDPOINT --ready-fd N --verbosity 0..3 [--color]
#include <unistd.h>

#include "common/flags.h"
#include "sinks/sink_loop.h"
#include "sinks/terminal_view.h"

namespace {

using sandtrace::PlainError;
using sandtrace::Result;
using sandtrace::StageFlags;
using sandtrace::sinks::Sink;
using sandtrace::sinks::TerminalOptions;
using sandtrace::sinks::TerminalView;

Result<std::unique_ptr<Sink>> OpenOutput(const StageFlags& flags) {
  Result<long long> verbosity = flags.GetInt("verbosity", 1);
  if (!verbosity) return verbosity.error();
  if (*verbosity < 0 || *verbosity > 3) return PlainError("--verbosity must be 0..3");
  TerminalOptions options;
  options.verbosity = static_cast<int>(*verbosity);
  options.color = flags.Get("color", "false") == "true";
  return std::unique_ptr<Sink>(new TerminalView(STDERR_FILENO, options));
}

}  // namespace

int main(int argc, char** argv) {
  return sandtrace::sinks::RunSinkStage({"sandtrace-sink-term", {"color"}}, argc, argv, OpenOutput);
}
