// sandtrace-collector: `sandtrace collect ARGS...` runs this with the same arguments; see
// collector.h.
#include <cstdio>
#include <string>
#include <vector>

#include "sinks/collector.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  bool help = false;
  sandtrace::Result<sandtrace::sinks::CollectorOptions> options =
      sandtrace::sinks::ParseCollectorOptions(args, &help);
  if (help) {
    std::fputs(sandtrace::sinks::CollectorUsage(), stdout);
    return 0;
  }
  if (!options) {
    std::fprintf(stderr, "sandtrace: %s\n", options.error().message().c_str());
    return 2;
  }
  return sandtrace::sinks::RunCollector(*options);
}
