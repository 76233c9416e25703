// sandtrace-analyzer --in ENDPOINT [--out ENDPOINT...] [--ready-fd N]
// Binds the tracer's channel, connects to every sink, reports readiness and runs the stage.
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "analyzer/stage.h"
#include "common/flags.h"
#include "common/ready_pipe.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;

void OnTerminate(int) { g_stop = 1; }

// SIGINT belongs to the wrapper, which ends the run through the tracer; SIGTERM asks this
// stage to finish its outputs. No SA_RESTART: the signal must interrupt a blocking receive.
void InstallSignalHandlers() {
  signal(SIGINT, SIG_IGN);
  struct sigaction action {};
  action.sa_handler = OnTerminate;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
}

int Fail(int ready_fd, const std::string& message, int status) {
  std::fprintf(stderr, "sandtrace-analyzer: %s\n", message.c_str());
  sandtrace::ReportFailure(ready_fd, message);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sandtrace;
  Result<StageFlags> flags = StageFlags::Parse(argc, argv, {});
  if (!flags) return Fail(-1, flags.error().message(), 2);
  Result<long long> ready_fd = flags->GetInt("ready-fd", -1);
  if (!ready_fd) return Fail(-1, ready_fd.error().message(), 2);
  const int ready = static_cast<int>(*ready_fd);
  const std::string in = flags->Get("in");
  const std::vector<std::string> outs = flags->GetAll("out");
  // No --out is valid: a run without outputs still needs its stream consumed and acknowledged.
  if (in.empty()) {
    return Fail(ready, "usage: sandtrace-analyzer --in ENDPOINT [--out ENDPOINT...] [--ready-fd N]",
                2);
  }
  InstallSignalHandlers();

  Result<wire::Receiver> input = wire::Receiver::Bind(in);
  if (!input) return Fail(ready, input.error().message(), 1);
  std::vector<wire::Sender> outputs;
  for (const std::string& out : outs) {
    Result<wire::Sender> output = wire::Sender::Connect(out);
    if (!output) return Fail(ready, output.error().message(), 1);
    outputs.push_back(std::move(*output));
  }
  ReportReady(ready);

  analyzer::Stage stage(std::move(*input), std::move(outputs));
  Status status = stage.Run(&g_stop);
  if (!status) {
    std::fprintf(stderr, "sandtrace-analyzer: %s\n", status.error().message().c_str());
    return 1;
  }
  return 0;
}
