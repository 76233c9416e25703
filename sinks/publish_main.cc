// sandtrace-sink-publish --in ENDPOINT --to COLLECTOR --run-id ID --host NAME [--ready-fd N]
// Started by `sandtrace run --publish COLLECTOR`; see publisher.h.
#include <cstdio>

#include "common/flags.h"
#include "common/ready_pipe.h"
#include "sinks/publisher.h"

int main(int argc, char** argv) {
  sandtrace::Result<sandtrace::StageFlags> flags = sandtrace::StageFlags::Parse(argc, argv, {});
  if (!flags) {
    std::fprintf(stderr, "sandtrace-sink-publish: %s\n", flags.error().message().c_str());
    return 2;
  }
  sandtrace::Result<long long> ready_fd = flags->GetInt("ready-fd", -1);
  const int fd = ready_fd ? static_cast<int>(*ready_fd) : -1;
  sandtrace::sinks::PublisherOptions options;
  options.in = flags->Get("in");
  options.to = flags->Get("to");
  options.run_id = flags->Get("run-id");
  options.host = flags->Get("host");
  if (!ready_fd || options.in.empty() || options.to.empty() || options.run_id.empty()) {
    const char* usage = "usage: sandtrace-sink-publish --in ENDPOINT --to COLLECTOR --run-id ID "
                        "[--host NAME] [--ready-fd N]";
    std::fprintf(stderr, "sandtrace-sink-publish: %s\n", usage);
    sandtrace::ReportFailure(fd, usage);
    return 2;
  }
  return sandtrace::sinks::RunPublisher(options, fd);
}
