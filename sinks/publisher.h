// `sandtrace run --publish ENDPOINT`: the sink process (sandtrace-sink-publish) that sends a
// run's event stream to a collector (`sandtrace collect`, collector.h) instead of writing it.
//
// It receives the analyser's messages like any sink and forwards each one, unchanged, inside a
// remote envelope (wire::RemoteHeader: run id, host, sequence number) over a ZeroMQ DEALER
// socket. Every message stays in memory until the collector acknowledges that it is committed
// (wire::RemoteAck); the publisher sends again from the first unacknowledged message when the
// collector asks (it saw a later message first, e.g. after it restarted) or when nothing was
// acknowledged for a while. So a collector that dies and comes back loses nothing the run still
// holds. Past kPublishBufferBytes of unacknowledged data it stops reading from the analyser,
// which slows the traced program down rather than dropping anything.
//
// Start-up: the publisher is ready (ready pipe) only once the collector has acknowledged the
// run's open message, so an unreachable collector stops `sandtrace run` before the command
// runs. End: after the analyser's end message it waits up to kPublishLingerMs for the last
// acknowledgements; what is still unacknowledged then is reported on stderr and the exit
// status is 1 (the collector shows such a run as incomplete).
#pragma once

#include <cstddef>
#include <string>

namespace sandtrace::sinks {

inline constexpr int kPublishConnectTimeoutMs = 5000;
inline constexpr int kPublishLingerMs = 30000;
inline constexpr int kPublishLingerAfterTermMs = 3000;  // the wrapper kills a sink 5 s after TERM
inline constexpr size_t kPublishBufferBytes = size_t{256} << 20;

struct PublisherOptions {
  std::string in;      // the analyser's endpoint, bound here
  std::string to;      // the collector's endpoint, e.g. tcp://10.0.0.5:7300
  std::string run_id;  // the run's id (the same the analyser puts in its events)
  std::string host;    // this machine's name
  int connect_timeout_ms = kPublishConnectTimeoutMs;
  int linger_ms = kPublishLingerMs;
  size_t buffer_bytes = kPublishBufferBytes;
};

// The whole life of the publisher process; returns its exit status (0: every message
// acknowledged, 1: the collector was unreachable or lost messages, 2: usage).
int RunPublisher(const PublisherOptions& options, int ready_fd);

}  // namespace sandtrace::sinks
