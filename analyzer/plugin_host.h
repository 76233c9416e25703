// External analysers ("plug-ins", docs/plugins.md): programs in any language that receive the
// run's events and may send alerts and derived events back. The analyser stage starts each one
// (`/bin/sh -c COMMAND`, outside the sandbox, with the user's environment) and talks to it over
// two ZeroMQ PAIR channels whose endpoints it passes in the environment:
//   SANDTRACE_EVENTS  the plug-in connects and receives event batches, then an end message,
//                     which it acknowledges with one frame "ack" (as every receiver does);
//   SANDTRACE_ALERTS  the plug-in connects and sends event batches (alerts, derived events),
//                     then an end message.
// A plug-in can never cost trace data: the sinks get every event from the analyser directly,
// a plug-in that dies or stops reading is dropped (reported, never waited for), and whatever
// it sends back is checked: only maps with an `event_type` that is not one of the trace's own
// types are forwarded, each with `analyzer` (the plug-in's command) added.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/wire/channel.h"
#include "common/wire/records.h"
#include "analyzer/summary.h"

namespace sandtrace::analyzer {

// An alert a plug-in sent, as the summary needs it.
struct ExternalAlert {
  int32_t pid = 0;
  std::string rule;
  std::string severity;
  std::string subject;  // its `path`, `address` or `subject`, if any
  std::string syscall;
  std::string message;
};

// What plug-ins sent back since the last call: `count` events packed back to back in `events`.
struct PluginOutput {
  msgpack::sbuffer events;
  uint32_t count = 0;
  std::vector<ExternalAlert> alerts;
};

class PluginHost {
 public:
  PluginHost() = default;
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;
  ~PluginHost();

  // Binds both channels of each command under `dir` (an ipc directory) and starts it.
  Status Start(const std::vector<std::string>& commands, const std::string& dir);

  bool empty() const { return plugins_.empty(); }

  // Sends one event batch to every plug-in that is still running.
  void Send(const char* data, size_t size, uint32_t count);

  // Takes what the plug-ins sent back, waiting at most `wait_ms` for the first message.
  void Collect(int wait_ms, PluginOutput* out);

  // The trace has ended: sends `end` to every plug-in, collects what they send until each sent
  // its own end or exited (at most `timeout_ms`), then reaps them (SIGKILL after the timeout).
  void Finish(const wire::End& end, int timeout_ms, PluginOutput* out);

  std::vector<PluginStatus> Statuses() const;

 private:
  struct Plugin {
    std::string command;
    pid_t pid = -1;
    std::optional<wire::Sender> events;
    std::optional<wire::Receiver> alerts;
    bool failed = false;      // dropped: it died, or a channel broke
    bool ended = false;       // its end message arrived
    bool exited = false;      // reaped
    int wait_status = 0;
    std::string problem;
    uint64_t forwarded = 0;
    uint64_t rejected = 0;
  };

  // Reaps `p` if it exited; true when it is gone.
  bool Gone(Plugin& p);
  void Drop(Plugin& p, const std::string& why);
  void Accept(Plugin& p, const wire::Message& message, PluginOutput* out);
  void AcceptObject(Plugin& p, const msgpack::object& object, PluginOutput* out);

  std::vector<Plugin> plugins_;
};

}  // namespace sandtrace::analyzer
