#include "sinks/sink_loop.h"

#include <signal.h>

#include <csignal>
#include <cstdio>

#include "common/malloc_tuning.h"
#include "common/ready_pipe.h"

namespace sandtrace::sinks {
namespace {

volatile std::sig_atomic_t g_terminate = 0;

void OnTerminate(int) { g_terminate = 1; }

// Upper bound on the time between a SIGTERM and the loop noticing it.
constexpr int kPollMs = 100;

int FailStartup(const SinkStage& stage, int ready_fd, const Error& error, int status) {
  if (ready_fd < 0) std::fprintf(stderr, "%s: %s\n", stage.name, error.message().c_str());
  ReportFailure(ready_fd, error.message());
  return status;
}

}  // namespace

bool SinkTerminateRequested() { return g_terminate != 0; }

void InstallSinkSignalHandlers() {
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  struct sigaction action {};
  action.sa_handler = OnTerminate;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
}

Status PumpEvents(wire::Receiver* receiver, EventStream* stream, Status first_error) {
  bool draining = false;
  std::string reason = "the event stream ended without a summary";
  wire::Message message;  // one for every batch: it holds the last received frame
  for (;;) {
    if (g_terminate) draining = true;
    Result<bool> got = receiver->Receive(&message, draining ? kDrainQuietMs : kPollMs);
    if (!got) {
      if (got.error().code != 0) {
        first_error = got.error();
        reason = "the event stream failed: " + got.error().message();
        break;
      }
      // An undecodable header: the next message's sequence number reports the loss.
      stream->Warn(got.error().message());
      continue;
    }
    if (!*got) {
      if (!draining) {
        if (first_error.ok()) first_error = stream->Idle();
        continue;
      }
      reason = "terminated before the end of the event stream";
      break;
    }
    if (first_error.ok()) {
      Status delivered = stream->Deliver(message);
      if (!delivered) first_error = delivered;  // keep receiving so upstream is never blocked
    }
    if (message.header.type == wire::MessageType::kEnd) break;
  }
  Status finished = stream->Finish(reason);
  if (!first_error) return first_error;
  return finished;
}

int RunSinkStage(const SinkStage& stage, int argc, char** argv, const SinkOpener& open) {
  InstallSinkSignalHandlers();
  TuneMallocForBatches();
  Result<StageFlags> flags = StageFlags::Parse(argc, argv, stage.boolean_flags);
  if (!flags) return FailStartup(stage, -1, flags.error(), 2);
  Result<long long> ready_fd = flags->GetInt("ready-fd", -1);
  if (!ready_fd) return FailStartup(stage, -1, ready_fd.error(), 2);
  const int fd = static_cast<int>(*ready_fd);
  const std::string endpoint = flags->Get("in");
  if (endpoint.empty()) return FailStartup(stage, fd, PlainError("--in ENDPOINT is required"), 2);

  Result<std::unique_ptr<Sink>> sink = open(*flags);
  if (!sink) return FailStartup(stage, fd, sink.error(), 1);
  Result<wire::Receiver> receiver = wire::Receiver::Bind(endpoint);
  if (!receiver) return FailStartup(stage, fd, receiver.error(), 1);
  ReportReady(fd);

  const std::string prefix = std::string(stage.name) + ": ";
  Status begun = (*sink)->Begin();
  EventStream stream(sink->get(), [&prefix](const std::string& message) {
    std::fprintf(stderr, "%s%s\n", prefix.c_str(), message.c_str());
  });
  Status done = PumpEvents(&*receiver, &stream, std::move(begun));
  if (!done) {
    std::fprintf(stderr, "%s%s\n", prefix.c_str(), done.error().message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace sandtrace::sinks
