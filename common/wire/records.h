// The record and message types that travel between sandtrace's processes. This header, with
// codec.h and channel.h, is the only code the producers (tracer, analyser) and consumers
// (analyser, sinks, plug-ins) share. The byte layout is documented in docs/wire-format.md;
// any change to it bumps kVersion.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace sandtrace::wire {

inline constexpr char kMagic[] = "sandtrace";
inline constexpr uint32_t kVersion = 1;

enum class MessageType : uint8_t {
  kHello = 1,       // tracer -> analyser: run metadata, sandbox layer states
  kRawBatch = 2,    // tracer -> analyser: raw records
  kEventBatch = 3,  // analyser -> sinks: event maps (the JSONL schema, as MessagePack maps)
  kEnd = 4,         // end of stream: the run's outcome
};

// What the sandbox did with a syscall.
enum class Action : uint8_t { kAllow = 0, kDeny = 1, kLogOnly = 2, kKill = 3 };

// Bytes the tracer copied out of tracee memory for one argument.
enum class CaptureKind : uint8_t {
  kString = 1,      // NUL-terminated string (a path), without the NUL
  kSockaddr = 2,    // struct sockaddr of the length given by the next argument
  kStringList = 3,  // NULL-terminated char*[] (execve argv), items separated by '\0'
};

struct Capture {
  uint8_t arg = 0;  // argument index 0..5
  CaptureKind kind = CaptureKind::kString;
  bool truncated = false;  // the copy hit the size limit or unreadable memory
  std::string bytes;
};

// One syscall of one thread: entry and (unless it never returned) exit.
struct SyscallRecord {
  int32_t tid = 0;
  int32_t tgid = 0;
  int32_t nr = 0;
  uint64_t args[6] = {};
  int64_t ret = 0;          // raw kernel return value (-errno on failure)
  uint64_t entry_ns = 0;    // CLOCK_REALTIME at syscall entry
  uint64_t duration_ns = 0; // entry stop to exit stop (to death or exec when it never returned)
  bool returned = true;     // false: exit_group, a thread killed in the syscall, ...
  Action action = Action::kAllow;
  std::vector<Capture> captures;
};

// A new process or thread that the tracer now traces.
struct SpawnRecord {
  int32_t tid = 0;
  int32_t tgid = 0;
  int32_t parent_tid = 0;
  bool thread = false;
  uint64_t ts_ns = 0;
};

// A successful execve. former_tid differs from tid when a non-leader thread exec'd.
struct ExecRecord {
  int32_t tid = 0;
  int32_t former_tid = 0;
  uint64_t ts_ns = 0;
  std::string path;  // /proc/PID/exe after the exec
  std::string comm;  // its name after the exec (/proc/PID/comm), from the exec call when it tells
};

// A traced thread that is gone.
struct ExitRecord {
  int32_t tid = 0;
  int32_t tgid = 0;
  uint64_t ts_ns = 0;
  bool signaled = false;
  int32_t status = 0;  // exit code, or the signal number when signaled
  bool core_dumped = false;
};

using RawRecord = std::variant<SyscallRecord, SpawnRecord, ExecRecord, ExitRecord>;

// State of one sandbox layer as the launcher left it.
struct LayerState {
  uint8_t layer = 0;
  std::string name;
  bool applied = false;
  std::string detail;  // how it was applied, or why it was skipped
};

// First message of a run.
struct Hello {
  std::string run_id;
  std::string host;
  std::vector<std::string> argv;  // the command as given
  std::string executable;         // resolved path that is exec'd
  uint64_t start_ns = 0;
  int32_t tracer_pid = 0;
  int32_t root_pid = 0;
  bool follow_forks = true;
  bool trace_only = true;
  std::vector<LayerState> layers;
};

enum class Outcome : uint8_t {
  kExited = 0,       // root exited normally
  kSignaled = 1,     // root died of a signal
  kTimedOut = 2,     // --timeout fired; the tree was killed
  kInterrupted = 3,  // sandtrace got SIGINT/SIGTERM/SIGHUP; the tree was killed
  kSetupFailed = 4,  // a sandbox layer could not be applied (exit 125)
  kExecFailed = 5,   // the command could not be executed (126/127)
  kAborted = 6,      // a pipeline stage failed; the tree was killed
};

// Last message of a run.
struct End {
  Outcome outcome = Outcome::kExited;
  int32_t exit_code = 0;  // sandtrace's exit status (SPEC section 2)
  int32_t signal = 0;     // the signal for kSignaled / kInterrupted
  uint64_t end_ns = 0;
  std::string detail;     // human-readable reason (e.g. the failed layer and errno)
};

// Envelope header of every message (first ZeroMQ frame). The body (second frame) holds
// `count` MessagePack objects back to back.
struct Header {
  MessageType type = MessageType::kRawBatch;
  uint64_t seq = 0;          // per-stream message number, from 0
  uint64_t first_index = 0;  // per-stream index of the first record in this message
  uint32_t count = 0;        // objects in the body
};

// Remote collection (`sandtrace run --publish` -> `sandtrace collect`): the envelope header of a
// message between a run's publisher and a collector. It wraps one message of the analyser's
// event stream and names the run it belongs to, so that many runs from many hosts can share one
// collector. `seq` numbers the run's messages from 0 (0 is the publisher's open message); the
// publisher keeps every message until the collector acknowledges it and can resend any message
// from `oldest_seq` on. `lost_records` / `lost_messages` carry a loss the publisher itself saw
// between the analyser and itself, just before this message.
struct RemoteHeader {
  MessageType type = MessageType::kEventBatch;
  std::string run_id;
  std::string host;
  uint64_t seq = 0;
  uint64_t first_index = 0;  // index of the first event of this message in the run's stream
  uint32_t count = 0;
  uint64_t oldest_seq = 0;
  uint64_t lost_records = 0;
  uint64_t lost_messages = 0;
};

// A collector's answer to a publisher. Every message of the run before `durable_seq` is
// committed to the collector's outputs (the publisher may forget it). `resend` asks the
// publisher to send again from `wanted_seq` on: the collector saw a later message first.
struct RemoteAck {
  std::string run_id;
  uint64_t durable_seq = 0;
  uint64_t wanted_seq = 0;
  bool resend = false;
};

}  // namespace sandtrace::wire
