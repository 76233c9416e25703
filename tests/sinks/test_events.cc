#include "tests/sinks/test_events.h"

#include <stdlib.h>

#include <fstream>
#include <sstream>

#include "common/wire/codec.h"
#include "sinks/text_escape.h"

namespace sandtrace::sinks::testing {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

void PackText(Packer& p, const std::string& s) {
  p.pack_str(static_cast<uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

// Recursive-descent checker for RFC 8259.
class JsonChecker {
 public:
  explicit JsonChecker(std::string_view text) : s_(text) {}
  bool Check() {
    SkipSpace();
    if (!ParseValue(0)) return false;
    SkipSpace();
    return pos_ == s_.size();
  }

 private:
  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool Digits() {
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }
  bool ParseNumber() {
    Eat('-');
    if (Eat('0')) {
      if (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') return false;
    } else if (!Digits()) {
      return false;
    }
    if (Eat('.') && !Digits()) return false;
    if (Eat('e') || Eat('E')) {
      if (!Eat('+')) Eat('-');
      if (!Digits()) return false;
    }
    return true;
  }
  bool ParseString() {
    if (!Eat('"')) return false;
    while (pos_ < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        ++pos_;
        if (pos_ >= s_.size()) return false;
        const char e = s_[pos_++];
        if (e == 'u') {
          for (int i = 0; i < 4; ++i, ++pos_) {
            if (pos_ >= s_.size() || !isxdigit(static_cast<unsigned char>(s_[pos_]))) return false;
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
        continue;
      }
      const size_t n = Utf8SequenceLength(s_.substr(pos_));
      if (n == 0) return false;
      pos_ += n;
    }
    return false;
  }
  bool ParseValue(int depth) {
    if (depth > 200 || pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      SkipSpace();
      if (Eat(close)) return true;
      for (;;) {
        SkipSpace();
        if (c == '{') {
          if (!ParseString()) return false;
          SkipSpace();
          if (!Eat(':')) return false;
          SkipSpace();
        }
        if (!ParseValue(depth + 1)) return false;
        SkipSpace();
        if (Eat(close)) return true;
        if (!Eat(',')) return false;
      }
    }
    if (c == '"') return ParseString();
    if (c == 't') return Literal("true");
    if (c == 'f') return Literal("false");
    if (c == 'n') return Literal("null");
    return ParseNumber();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

void Value::Pack(Packer& p) const {
  std::visit(
      [&p](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          p.pack_nil();
        } else if constexpr (std::is_same_v<T, bool>) {
          p.pack(v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          p.pack_int64(v);
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          p.pack_uint64(v);
        } else if constexpr (std::is_same_v<T, double>) {
          p.pack_double(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          PackText(p, v);
        } else if constexpr (std::is_same_v<T, Bin>) {
          p.pack_bin(static_cast<uint32_t>(v.bytes.size()));
          p.pack_bin_body(v.bytes.data(), static_cast<uint32_t>(v.bytes.size()));
        } else if constexpr (std::is_same_v<T, Array>) {
          p.pack_array(static_cast<uint32_t>(v.size()));
          for (const Value& item : v) item.Pack(p);
        } else {
          p.pack_map(static_cast<uint32_t>(v.size()));
          for (const auto& [key, item] : v) {
            PackText(p, key);
            item.Pack(p);
          }
        }
      },
      v_);
}

msgpack::object_handle ToObject(const Value& value) {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  value.Pack(p);
  return msgpack::unpack(buffer.data(), buffer.size());
}

Value SandboxEvent(const std::string& run_id, const std::string& timestamp) {
  Array layers;
  const char* names[] = {"user_namespace", "mount_namespace", "pid_namespace", "network_namespace",
                         "no_new_privs",   "landlock",        "seccomp",       "ptrace"};
  for (int i = 0; i < 8; ++i) {
    layers.push_back(
        Map{{"layer", i + 1}, {"name", names[i]}, {"state", "applied"}, {"detail", ""}});
  }
  return Map{{"event_type", "sandbox"},
             {"timestamp", timestamp},
             {"run_id", run_id},
             {"host", "testhost"},
             {"command", Array{"/bin/true", "--flag"}},
             {"executable", "/usr/bin/true"},
             {"trace_only", false},
             {"follow_forks", true},
             {"layers", layers}};
}

Value SyscallEvent(int pid, const std::string& name, const std::string& category, long long ret,
                   const std::string& action, Map decoded, const std::string& error) {
  Map args{{"raw", Array{0ULL, 140234567ULL, 0ULL, 0ULL, 0ULL, 18446744073709551615ULL}}};
  if (!decoded.empty()) args.emplace_back("decoded", std::move(decoded));
  const bool success = ret < -4095 || ret > -1;
  Map event{{"event_type", "syscall"},
            {"timestamp", "2026-11-28T22:40:39.123456Z"},
            {"pid", pid},
            {"tgid", pid},
            {"syscall", name},
            {"syscall_nr", 257},
            {"args", args},
            {"return_value", ret},
            {"success", success}};
  if (!success) event.emplace_back("error", error.empty() ? "ENOENT" : error);
  event.emplace_back("duration_us", 42);
  event.emplace_back("returned", true);
  event.emplace_back("action", action);
  event.emplace_back("category", category);
  return event;
}

Value OpenatEvent(int pid, const std::string& path, const std::string& flags, long long ret,
                  const std::string& category) {
  return SyscallEvent(pid, "openat", category, ret, "allow",
                      Map{{"dirfd", "AT_FDCWD"}, {"path", path}, {"flags", flags}});
}

Value ConnectEvent(int pid, const std::string& address, int port, long long ret) {
  return SyscallEvent(
      pid, "connect", "network", ret, "allow",
      Map{{"fd", 3}, {"addr", Map{{"family", "AF_INET"}, {"address", address}, {"port", port}}}},
      "ECONNREFUSED");
}

Value SpawnEvent(int pid, int ppid, bool thread) {
  return Map{{"event_type", "process"},
             {"action", "spawn"},
             {"timestamp", "2026-11-28T22:40:39.200000Z"},
             {"pid", pid},
             {"tgid", thread ? ppid : pid},
             {"ppid", ppid},
             {"thread", thread}};
}

Value ExecEvent(int pid, const std::string& path, Array argv) {
  const std::string comm = path.substr(path.rfind('/') + 1);
  return Map{{"event_type", "process"},
             {"action", "exec"},
             {"timestamp", "2026-11-28T22:40:39.300000Z"},
             {"pid", pid},
             {"comm", comm},
             {"path", path},
             {"argv", std::move(argv)}};
}

Value ExitedEvent(int pid, int code) {
  return Map{{"event_type", "process"},
             {"action", "exited"},
             {"timestamp", "2026-11-28T22:40:40.000000Z"},
             {"pid", pid},
             {"tgid", pid},
             {"exit_code", code},
             {"thread", false}};
}

Value SignaledEvent(int pid, const std::string& signal) {
  return Map{{"event_type", "process"},
             {"action", "signaled"},
             {"timestamp", "2026-11-28T22:40:40.000000Z"},
             {"pid", pid},
             {"tgid", pid},
             {"signal", signal},
             {"core_dumped", false},
             {"thread", false}};
}

Value AlertEvent(int pid, const std::string& rule, const std::string& severity) {
  return Map{{"event_type", "alert"},
             {"timestamp", "2026-11-28T22:40:39.500000Z"},
             {"rule", rule},
             {"severity", severity},
             {"message", "read of " + rule},
             {"pid", pid},
             {"event", OpenatEvent(pid, "/home/u/.ssh/id_rsa", "O_RDONLY", 3, "file_read")}};
}

Value GapEvent(const std::string& stage, int lost_records, int lost_messages) {
  return Map{{"event_type", "gap"},
             {"timestamp", "2026-11-28T22:40:39.600000Z"},
             {"stage", stage},
             {"lost_records", lost_records},
             {"lost_messages", lost_messages}};
}

Value SummaryEvent(const std::string& run_id, int total_syscalls, int exit_code, int gaps) {
  return Map{{"event_type", "summary"},
             {"timestamp", "2026-11-28T22:40:41.000000Z"},
             {"run_id", run_id},
             {"total_syscalls", total_syscalls},
             {"unique_syscalls", 2},
             {"duration_ms", 2000},
             {"exit_code", exit_code},
             {"outcome", "exited"},
             {"denied_count", 1},
             {"process_count", 2},
             {"thread_count", 2},
             {"timed_out", false},
             {"interrupted", false},
             {"files_accessed", Array{"/etc/passwd", "/home/u/.ssh/id_rsa"}},
             {"network_attempts", Array{Map{{"pid", 100},
                                            {"syscall", "connect"},
                                            {"family", "AF_INET"},
                                            {"address", "10.0.0.1"},
                                            {"port", 443},
                                            {"success", false}}}},
             {"suspicious_activity", Array{Map{{"pid", 100},
                                               {"rule", "ssh_keys"},
                                               {"path", "/home/u/.ssh/id_rsa"},
                                               {"syscall", "openat"}}}},
             {"syscall_counts", Map{{"openat", 2}, {"connect", 1}}},
             {"error_counts", Map{{"connect", 1}}},
             {"gaps", gaps}};
}

std::string PackBody(const std::vector<Value>& events) {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  for (const Value& event : events) event.Pack(p);
  return std::string(buffer.data(), buffer.size());
}

wire::Message BatchMessage(const std::vector<Value>& events, uint64_t seq, uint64_t first_index) {
  wire::Message m;
  m.header = wire::Header{wire::MessageType::kEventBatch, seq, first_index,
                          static_cast<uint32_t>(events.size())};
  m.body = PackBody(events);
  return m;
}

wire::Message EndMessage(uint64_t seq, uint64_t first_index) {
  wire::Message m;
  m.header = wire::Header{wire::MessageType::kEnd, seq, first_index, 1};
  msgpack::sbuffer buffer;
  wire::EncodeEnd(wire::End{}, &buffer);
  m.body = std::string(buffer.data(), buffer.size());
  return m;
}

bool IsValidJson(std::string_view text) { return JsonChecker(text).Check(); }

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace sandtrace::sinks::testing
