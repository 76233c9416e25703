#include "analyzer/plugin_host.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string_view>
#include <thread>

#include "analyzer/analyzer.h"
#include "analyzer/event_writer.h"
#include "common/wire/codec.h"

namespace sandtrace::analyzer {
namespace {

// Event types only the analyser writes: a plug-in may not forge trace events.
constexpr std::string_view kReservedTypes[] = {"sandbox", "syscall", "process", "gap", "summary"};
constexpr std::string_view kSeverities[] = {"low", "medium", "high", "critical"};
constexpr int kReapGraceMs = 2000;
// A plug-in whose queue stays full this long while its process lives is dropped: it must not
// hold the trace (and the tracee) hostage.
constexpr int kStallMs = 10000;

void Report(const std::string& what) {
  std::fprintf(stderr, "sandtrace-analyzer: %s\n", what.c_str());
}

std::string_view Str(const msgpack::object& o) {
  if (o.type != msgpack::type::STR) return {};
  return {o.via.str.ptr, o.via.str.size};
}

const msgpack::object* Field(const msgpack::object& map, std::string_view key) {
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object_kv& kv = map.via.map.ptr[i];
    if (Str(kv.key) == key) return &kv.val;
  }
  return nullptr;
}

bool OneOf(std::string_view value, const std::string_view* list, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (list[i] == value) return true;
  }
  return false;
}

std::string Describe(int status) {
  if (WIFSIGNALED(status)) return std::string("killed by ") + sigabbrev_np(WTERMSIG(status));
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  }
  return "exited";
}

// The child side: /bin/sh -c COMMAND with the endpoints in its environment; it dies with the
// analyser.
[[noreturn]] void ExecPlugin(const std::string& command, const std::string& events,
                             const std::string& alerts) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  setpgid(0, 0);  // its own group: the shell's children (the real plug-in) are stopped with it
  signal(SIGINT, SIG_IGN);  // Ctrl-C ends the run through the tracer, not the plug-ins
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0) dup2(null, STDIN_FILENO);
  setenv("SANDTRACE_EVENTS", events.c_str(), 1);
  setenv("SANDTRACE_ALERTS", alerts.c_str(), 1);
  execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
  _exit(127);
}

}  // namespace

PluginHost::~PluginHost() {
  for (Plugin& p : plugins_) {
    if (p.pid <= 0 || p.exited) continue;  // reaped: its group id may belong to others now
    kill(-p.pid, SIGKILL);
    waitpid(p.pid, nullptr, 0);
  }
}

Status PluginHost::Start(const std::vector<std::string>& commands, const std::string& dir) {
  for (size_t i = 0; i < commands.size(); ++i) {
    Plugin p;
    p.command = commands[i];
    const std::string base = "ipc://" + dir + "/plugin-" + std::to_string(i);
    Result<wire::Sender> events = wire::Sender::Bind(base + "-events");
    if (!events) return events.error();
    Result<wire::Receiver> alerts = wire::Receiver::Bind(base + "-alerts");
    if (!alerts) return alerts.error();
    p.events.emplace(std::move(*events));
    p.alerts.emplace(std::move(*alerts));
    p.pid = fork();
    if (p.pid < 0) return ErrnoError("fork for analyser plug-in " + p.command);
    if (p.pid == 0) ExecPlugin(p.command, base + "-events", base + "-alerts");
    setpgid(p.pid, p.pid);  // also here: no race with a kill of the group right after fork
    plugins_.push_back(std::move(p));
  }
  return {};
}

bool PluginHost::Gone(Plugin& p) {
  if (p.exited) return true;
  if (waitpid(p.pid, &p.wait_status, WNOHANG) == p.pid) p.exited = true;
  return p.exited;
}

void PluginHost::Drop(Plugin& p, const std::string& why) {
  if (p.failed) return;
  p.failed = true;
  p.problem = why;
  Report("analyser plug-in '" + p.command + "' " + why +
         "; the trace goes on without it (no event is lost for the outputs)");
}

void PluginHost::Send(const char* data, size_t size, uint32_t count) {
  for (Plugin& p : plugins_) {
    if (p.failed || p.ended) continue;
    const auto start = std::chrono::steady_clock::now();
    bool stalled = false;
    Status sent = p.events->Send(wire::MessageType::kEventBatch, count, data, size, [&] {
      stalled = std::chrono::steady_clock::now() - start > std::chrono::milliseconds(kStallMs);
      return Gone(p) || stalled;
    });
    if (!sent) {
      Drop(p, Gone(p) ? Describe(p.wait_status)
           : stalled  ? "stopped reading (its queue was full for " +
                           std::to_string(kStallMs / 1000) + " s)"
                      : "broke its channel: " + sent.error().message());
    }
  }
}

void PluginHost::AcceptObject(Plugin& p, const msgpack::object& o, PluginOutput* out) {
  const msgpack::object* type = o.type == msgpack::type::MAP ? Field(o, "event_type") : nullptr;
  const std::string_view type_name = type ? Str(*type) : std::string_view();
  if (type_name.empty() || OneOf(type_name, kReservedTypes, std::size(kReservedTypes))) {
    ++p.rejected;
    return;
  }
  const bool alert = type_name == "alert";
  const msgpack::object* rule = alert ? Field(o, "rule") : nullptr;
  const msgpack::object* severity = alert ? Field(o, "severity") : nullptr;
  if (alert && (!rule || Str(*rule).empty() || !severity ||
                !OneOf(Str(*severity), kSeverities, std::size(kSeverities)))) {
    ++p.rejected;
    return;
  }
  const msgpack::object* timestamp = Field(o, "timestamp");
  const bool add_timestamp = !timestamp || timestamp->type != msgpack::type::STR;
  msgpack::packer<msgpack::sbuffer> packer(out->events);
  uint32_t size = o.via.map.size + 1 + (add_timestamp ? 1 : 0);
  for (uint32_t i = 0; i < o.via.map.size; ++i) {
    const std::string_view key = Str(o.via.map.ptr[i].key);
    if (key == "analyzer" || (add_timestamp && key == "timestamp")) --size;
  }
  packer.pack_map(size);
  for (uint32_t i = 0; i < o.via.map.size; ++i) {
    const msgpack::object_kv& kv = o.via.map.ptr[i];
    const std::string_view key = Str(kv.key);
    if (key == "analyzer" || (add_timestamp && key == "timestamp")) continue;
    packer.pack(kv.key);
    packer.pack(kv.val);
  }
  if (add_timestamp) {
    TimestampFormatter formatter;
    packer.pack("timestamp");
    packer.pack(formatter.Format(NowNs()));
  }
  packer.pack("analyzer");
  packer.pack(p.command);
  ++out->count;
  ++p.forwarded;
  if (!alert) return;
  ExternalAlert a;
  a.rule = std::string(Str(*rule));
  a.severity = std::string(Str(*severity));
  if (const msgpack::object* pid = Field(o, "pid");
      pid && (pid->type == msgpack::type::POSITIVE_INTEGER)) {
    a.pid = static_cast<int32_t>(pid->via.u64);
  }
  for (std::string_view key : {"path", "address", "subject"}) {
    if (const msgpack::object* v = Field(o, key); v && v->type == msgpack::type::STR) {
      a.subject = std::string(Str(*v));
      break;
    }
  }
  if (const msgpack::object* v = Field(o, "syscall"); v) a.syscall = std::string(Str(*v));
  if (const msgpack::object* v = Field(o, "message"); v) a.message = std::string(Str(*v));
  out->alerts.push_back(std::move(a));
}

void PluginHost::Accept(Plugin& p, const wire::Message& message, PluginOutput* out) {
  if (message.lost_messages != 0) {
    Report("analyser plug-in '" + p.command + "': " + std::to_string(message.lost_messages) +
           " of its messages were lost");
  }
  if (message.header.type == wire::MessageType::kEnd) {
    p.ended = true;
    return;
  }
  if (message.header.type != wire::MessageType::kEventBatch) {
    ++p.rejected;
    return;
  }
  msgpack::zone zone;
  std::vector<msgpack::object> objects;
  Status unpacked = wire::UnpackObjectsInto(message.body.data(), message.body.size(),
                                            message.header.count, &zone, &objects);
  if (!unpacked) {
    Report("analyser plug-in '" + p.command + "' sent an undecodable batch: " +
           unpacked.error().message());
    p.rejected += message.header.count;
    return;
  }
  for (const msgpack::object& o : objects) AcceptObject(p, o, out);
}

void PluginHost::Collect(int wait_ms, PluginOutput* out) {
  for (Plugin& p : plugins_) {
    if (p.ended || !p.alerts) continue;
    for (int timeout = wait_ms;; timeout = 0) {
      wire::Message message;
      Result<bool> got = p.alerts->Receive(&message, timeout);
      if (!got) {
        Report("analyser plug-in '" + p.command + "': " + got.error().message());
        ++p.rejected;
        if (got.error().code != 0) {
          Drop(p, "broke its channel");
          break;
        }
        continue;
      }
      if (!*got) break;
      Accept(p, message, out);
      if (p.ended) break;
    }
  }
}

void PluginHost::Finish(const wire::End& end, int timeout_ms, PluginOutput* out) {
  msgpack::sbuffer body;
  wire::EncodeEnd(end, &body);
  for (Plugin& p : plugins_) {
    if (p.failed || p.ended) continue;
    Status sent = p.events->Send(wire::MessageType::kEnd, 1, body.data(), body.size(),
                                 [&] { return Gone(p); });
    if (!sent) Drop(p, Gone(p) ? Describe(p.wait_status) : "stopped reading");
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    bool waiting = false;
    for (Plugin& p : plugins_) waiting = waiting || (!p.ended && !p.failed && !Gone(p));
    if (!waiting || std::chrono::steady_clock::now() >= deadline) break;
    Collect(100, out);
  }
  Collect(0, out);  // what a plug-in sent just before it exited
  for (Plugin& p : plugins_) {
    if (!p.ended && !p.failed) {
      Drop(p, Gone(p) ? Describe(p.wait_status) + " before its end of stream"
                      : "did not finish within " + std::to_string(timeout_ms / 1000) + " s");
    }
    (void)p.events->Close(p.failed ? 0 : 1000);  // its end arrived, or it is dropped anyway
    // A plug-in may still be tidying up after its end message; then it must go.
    for (int waited = 0; !Gone(p) && waited < kReapGraceMs; waited += 20) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // Whatever the plug-in left behind in its process group goes too (e.g. the program a
    // `sh -c` started, which holds sandtrace's stderr open).
    kill(-p.pid, SIGKILL);
    if (!Gone(p)) {
      if (waitpid(p.pid, &p.wait_status, 0) == p.pid) p.exited = true;
      p.wait_status = p.exited ? p.wait_status : 0;
    } else if (!p.failed && (WIFSIGNALED(p.wait_status) || WEXITSTATUS(p.wait_status) != 0)) {
      Drop(p, Describe(p.wait_status));
    }
  }
}

std::vector<PluginStatus> PluginHost::Statuses() const {
  std::vector<PluginStatus> out;
  for (const Plugin& p : plugins_) {
    out.push_back({p.command, p.failed ? p.problem : "ok", p.forwarded, p.rejected});
  }
  return out;
}

}  // namespace sandtrace::analyzer
