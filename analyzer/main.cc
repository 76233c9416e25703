// sandtrace-analyzer --in ENDPOINT [--out ENDPOINT...] [--config FILE]
//                    [--plugin-dir DIR --plugin COMMAND...] [--alert-notices] [--ready-fd N]
// Binds the tracer's channel, connects to every sink, loads the run's analysis configuration
// (common/analysis_config.h), starts the plug-in analysers, reports readiness and runs the stage.
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "analyzer/plugin_host.h"
#include "analyzer/stage.h"
#include "common/analysis_config.h"
#include "common/flags.h"
#include "common/malloc_tuning.h"
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
  sandtrace::TuneMallocForBatches();
  Result<StageFlags> flags = StageFlags::Parse(argc, argv, {"alert-notices"});
  if (!flags) return Fail(-1, flags.error().message(), 2);
  Result<long long> ready_fd = flags->GetInt("ready-fd", -1);
  if (!ready_fd) return Fail(-1, ready_fd.error().message(), 2);
  const int ready = static_cast<int>(*ready_fd);
  const std::string in = flags->Get("in");
  const std::vector<std::string> outs = flags->GetAll("out");
  // No --out is valid: a run without outputs still needs its stream consumed and acknowledged.
  if (in.empty()) {
    return Fail(ready,
                "usage: sandtrace-analyzer --in ENDPOINT [--out ENDPOINT...] [--config FILE] "
                "[--plugin-dir DIR --plugin COMMAND...] [--ready-fd N]",
                2);
  }
  const std::vector<std::string> plugin_commands = flags->GetAll("plugin");
  const std::string plugin_dir = flags->Get("plugin-dir");
  if (!plugin_commands.empty() && plugin_dir.empty()) {
    return Fail(ready, "--plugin needs --plugin-dir", 2);
  }
  AnalysisConfig config;
  if (flags->Has("config")) {
    Result<AnalysisConfig> loaded = LoadAnalysisConfig(flags->Get("config"));
    if (!loaded) return Fail(ready, loaded.error().message(), 2);
    config = std::move(*loaded);
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
  analyzer::PluginHost plugins;
  if (Status s = plugins.Start(plugin_commands, plugin_dir); !s) {
    return Fail(ready, s.error().message(), 1);
  }
  ReportReady(ready);

  analyzer::Stage stage(std::move(*input), std::move(outputs), &plugins);
  if (flags->Has("config")) stage.analyzer().Configure(config);
  // Without a terminal view (no -v) the severe alerts are still shown.
  if (flags->Has("alert-notices")) stage.analyzer().SetAlertNotices(stderr);
  Status status = stage.Run(&g_stop);
  if (!status) {
    std::fprintf(stderr, "sandtrace-analyzer: %s\n", status.error().message().c_str());
    return 1;
  }
  return 0;
}
