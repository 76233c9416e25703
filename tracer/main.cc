// sandtrace-tracer: the launcher-tracer process. Started by `sandtrace run`; see
// docs/wire-format.md for its flags. Forks the command through the launcher, traces it and
// publishes raw records. Its exit status is sandtrace's (SPEC section 2).
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>

#include "common/flags.h"
#include "tracer/tracer.h"

int main(int argc, char** argv) {
  using sandtrace::Result;
  Result<sandtrace::StageFlags> flags =
      sandtrace::StageFlags::Parse(argc, argv, {"trace-only"});
  if (!flags) {
    fprintf(stderr, "sandtrace-tracer: %s\n", flags.error().message().c_str());
    return 2;
  }
  Result<sandtrace::tracer::TracerConfig> config = sandtrace::tracer::ConfigFromFlags(*flags);
  if (!config) {
    fprintf(stderr, "sandtrace-tracer: %s\n", config.error().message().c_str());
    return 2;
  }
  return sandtrace::tracer::RunTracer(*config);
}
