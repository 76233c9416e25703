#include "analyzer/event_writer.h"

#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "analyzer/names.h"

namespace sandtrace::analyzer {
namespace {

constexpr size_t kInitialBufferSize = 64 * 1024;
constexpr size_t kSecondLength = 19;  // "YYYY-MM-DDTHH:MM:SS"
constexpr uint64_t kNanosPerSecond = 1000000000;

// The last `width` decimal digits of `value`, zero-padded.
void WriteDigits(char* out, int width, uint32_t value) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

bool HasPort(const SocketAddress& addr) {
  return addr.family == AF_INET || addr.family == AF_INET6;
}

}  // namespace

std::string_view TimestampFormatter::Format(uint64_t ns) {
  const int64_t second = static_cast<int64_t>(ns / kNanosPerSecond);
  if (second != cached_second_) {
    const time_t t = static_cast<time_t>(second);
    tm parts{};
    gmtime_r(&t, &parts);
    WriteDigits(text_, 4, parts.tm_year + 1900);
    text_[4] = '-';
    WriteDigits(text_ + 5, 2, parts.tm_mon + 1);
    text_[7] = '-';
    WriteDigits(text_ + 8, 2, parts.tm_mday);
    text_[10] = 'T';
    WriteDigits(text_ + 11, 2, parts.tm_hour);
    text_[13] = ':';
    WriteDigits(text_ + 14, 2, parts.tm_min);
    text_[16] = ':';
    WriteDigits(text_ + 17, 2, parts.tm_sec);
    cached_second_ = second;
  }
  uint32_t micros = static_cast<uint32_t>((ns % kNanosPerSecond) / 1000);
  char* p = text_ + kSecondLength;
  p[0] = '.';
  WriteDigits(p + 1, 6, micros);
  p[7] = 'Z';
  return std::string_view(text_, kSecondLength + 8);
}

EventWriter::EventWriter() : buffer_(kInitialBufferSize), packer_(buffer_) {}

void EventWriter::Clear() {
  buffer_.clear();
  count_ = 0;
}

void EventWriter::Str(std::string_view s) {
  packer_.pack_str(static_cast<uint32_t>(s.size()));
  packer_.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void EventWriter::StringList(std::string_view joined) {
  if (joined.empty()) {
    packer_.pack_array(0);
    return;
  }
  uint32_t items = 1;
  for (char c : joined) items += c == '\0';
  packer_.pack_array(items);
  size_t start = 0;
  for (uint32_t i = 0; i < items; ++i) {
    const size_t end = std::min(joined.find('\0', start), joined.size());
    Str(joined.substr(start, end - start));
    start = end + 1;
  }
}

void EventWriter::Address(const SocketAddress& addr) {
  packer_.pack_map(1 + addr.has_address + HasPort(addr));
  Key("family");
  Str(FamilyName(addr.family));
  if (addr.has_address) {
    Key("address");
    Str(addr.address);
  }
  if (HasPort(addr)) {
    Key("port");
    packer_.pack_int(addr.port);
  }
}

void EventWriter::WriteSandbox(const wire::Hello& hello) {
  packer_.pack_map(9);
  Key("event_type");
  Str("sandbox");
  Key("timestamp");
  Timestamp(hello.start_ns);
  Key("run_id");
  Str(hello.run_id);
  Key("host");
  Str(hello.host);
  Key("command");
  packer_.pack_array(static_cast<uint32_t>(hello.argv.size()));
  for (const std::string& arg : hello.argv) Str(arg);
  Key("executable");
  Str(hello.executable);
  Key("trace_only");
  packer_.pack(hello.trace_only);
  Key("follow_forks");
  packer_.pack(hello.follow_forks);
  Key("layers");
  packer_.pack_array(static_cast<uint32_t>(hello.layers.size()));
  for (const wire::LayerState& layer : hello.layers) {
    packer_.pack_map(4);
    Key("layer");
    packer_.pack_uint8(layer.layer);
    Key("name");
    Str(layer.name);
    Key("state");
    Str(layer.applied ? "applied" : "skipped");
    Key("detail");
    Str(layer.detail);
  }
  ++count_;
}

void EventWriter::Decoded(const DecodedArgs& d) {
  packer_.pack_map(static_cast<uint32_t>(d.size()));
  if (d.fd) {
    Key("fd");
    packer_.pack_int32(*d.fd);
  }
  if (d.dirfd) {
    Key("dirfd");
    if (*d.dirfd == kAtFdCwd) {
      Str("AT_FDCWD");
    } else {
      packer_.pack_int32(*d.dirfd);
    }
  }
  if (d.path) {
    Key("path");
    Str(*d.path);
  }
  if (d.path2) {
    Key("path2");
    Str(*d.path2);
  }
  if (d.open_flags) {
    Key("flags");
    Str(OpenFlagsName(*d.open_flags));
  }
  if (d.mode) {
    Key("mode");
    Str(ModeName(*d.mode));
  }
  if (d.addr) {
    Key("addr");
    Address(*d.addr);
  }
  if (d.argv) {
    Key("argv");
    StringList(*d.argv);
  }
  if (d.signal) {
    Key("signal");
    Str(SignalName(*d.signal));
  }
  if (d.target_pid) {
    Key("target_pid");
    packer_.pack_int32(*d.target_pid);
  }
  if (d.count) {
    Key("count");
    packer_.pack_uint64(*d.count);
  }
  if (d.truncated) {
    Key("truncated");
    packer_.pack_true();
  }
}

void EventWriter::WriteSyscall(const wire::SyscallRecord& r, std::string_view name,
                               Category category, const DecodedArgs& decoded) {
  const int64_t ret = r.returned ? r.ret : 0;
  const bool success = !(ret >= -4095 && ret <= -1);
  packer_.pack_map(13 + !success);
  Key("event_type");
  Str("syscall");
  Key("timestamp");
  Timestamp(r.entry_ns);
  Key("pid");
  packer_.pack_int32(r.tid);
  Key("tgid");
  packer_.pack_int32(r.tgid);
  Key("syscall");
  Str(name);
  Key("syscall_nr");
  packer_.pack_int32(r.nr);
  Key("args");
  const int decoded_keys = decoded.size();
  packer_.pack_map(decoded_keys > 0 ? 2 : 1);
  Key("raw");
  packer_.pack_array(6);
  for (uint64_t arg : r.args) packer_.pack_uint64(arg);
  if (decoded_keys > 0) {
    Key("decoded");
    Decoded(decoded);
  }
  Key("return_value");
  packer_.pack_int64(ret);
  Key("success");
  packer_.pack(success);
  if (!success) {
    Key("error");
    Str(ErrnoName(-ret));
  }
  Key("duration_us");
  packer_.pack_uint64(r.duration_ns / 1000);
  Key("returned");
  packer_.pack(r.returned);
  Key("action");
  Str(wire::ActionName(r.action));
  Key("category");
  Str(CategoryName(category));
  ++count_;
}

void EventWriter::WriteSpawn(const wire::SpawnRecord& r) {
  packer_.pack_map(7);
  Key("event_type");
  Str("process");
  Key("action");
  Str("spawn");
  Key("timestamp");
  Timestamp(r.ts_ns);
  Key("pid");
  packer_.pack_int32(r.tid);
  Key("tgid");
  packer_.pack_int32(r.tgid);
  Key("ppid");
  packer_.pack_int32(r.parent_tid);
  Key("thread");
  packer_.pack(r.thread);
  ++count_;
}

void EventWriter::WriteExec(const wire::ExecRecord& r, std::string_view argv) {
  const bool moved = r.former_tid != r.tid;
  packer_.pack_map(7 + moved);
  Key("event_type");
  Str("process");
  Key("action");
  Str("exec");
  Key("timestamp");
  Timestamp(r.ts_ns);
  Key("pid");
  packer_.pack_int32(r.tid);
  Key("comm");
  Str(r.comm);
  Key("path");
  Str(r.path);
  Key("argv");
  StringList(argv);
  if (moved) {
    Key("former_pid");
    packer_.pack_int32(r.former_tid);
  }
  ++count_;
}

void EventWriter::WriteExit(const wire::ExitRecord& r) {
  packer_.pack_map(r.signaled ? 8 : 7);
  Key("event_type");
  Str("process");
  Key("action");
  Str(r.signaled ? "signaled" : "exited");
  Key("timestamp");
  Timestamp(r.ts_ns);
  Key("pid");
  packer_.pack_int32(r.tid);
  Key("tgid");
  packer_.pack_int32(r.tgid);
  if (r.signaled) {
    Key("signal");
    Str(SignalName(r.status));
    Key("core_dumped");
    packer_.pack(r.core_dumped);
  } else {
    Key("exit_code");
    packer_.pack_int32(r.status);
  }
  Key("thread");
  packer_.pack(r.tid != r.tgid);
  ++count_;
}

void EventWriter::WriteGap(uint64_t ts_ns, std::string_view stage, uint64_t lost_records,
                           uint64_t lost_messages) {
  packer_.pack_map(5);
  Key("event_type");
  Str("gap");
  Key("timestamp");
  Timestamp(ts_ns);
  Key("stage");
  Str(stage);
  Key("lost_records");
  packer_.pack_uint64(lost_records);
  Key("lost_messages");
  packer_.pack_uint64(lost_messages);
  ++count_;
}

void EventWriter::WriteSummary(const SummaryBuilder& summary, const SummaryContext& context,
                               const wire::End& end) {
  const uint64_t duration_ns = end.end_ns > context.start_ns ? end.end_ns - context.start_ns : 0;
  packer_.pack_map(19);
  Key("event_type");
  Str("summary");
  Key("timestamp");
  Timestamp(end.end_ns);
  Key("run_id");
  Str(context.run_id);
  Key("total_syscalls");
  packer_.pack_uint64(summary.total_syscalls());
  Key("unique_syscalls");
  packer_.pack_uint64(summary.unique_syscalls());
  Key("duration_ms");
  packer_.pack_uint64(duration_ns / 1000000);
  Key("exit_code");
  packer_.pack_int32(end.exit_code);
  Key("outcome");
  Str(wire::OutcomeName(end.outcome));
  Key("denied_count");
  packer_.pack_uint64(summary.denied_count());
  Key("process_count");
  packer_.pack_uint64(summary.process_count());
  Key("thread_count");
  packer_.pack_uint64(summary.thread_count());
  Key("timed_out");
  packer_.pack(end.outcome == wire::Outcome::kTimedOut);
  Key("interrupted");
  packer_.pack(end.outcome == wire::Outcome::kInterrupted);

  Key("files_accessed");
  packer_.pack_array(static_cast<uint32_t>(summary.files_accessed().size()));
  for (const std::string& path : summary.files_accessed()) Str(path);

  Key("network_attempts");
  packer_.pack_array(static_cast<uint32_t>(summary.network_attempts().size()));
  for (const NetworkAttempt& attempt : summary.network_attempts()) {
    packer_.pack_map(6);
    Key("pid");
    packer_.pack_int32(attempt.pid);
    Key("syscall");
    Str(attempt.syscall);
    Key("family");
    Str(FamilyName(attempt.addr.family));
    Key("address");
    Str(attempt.addr.address);
    Key("port");
    packer_.pack_int(attempt.addr.port);
    Key("success");
    packer_.pack(attempt.success);
  }

  Key("suspicious_activity");
  packer_.pack_array(static_cast<uint32_t>(summary.suspicious_activity().size()));
  for (const SuspiciousAccess& access : summary.suspicious_activity()) {
    packer_.pack_map(4);
    Key("pid");
    packer_.pack_int32(access.pid);
    Key("rule");
    Str(access.rule);
    Key("path");
    Str(access.path);
    Key("syscall");
    Str(access.syscall);
  }

  std::vector<SyscallCount> counts = summary.SyscallCounts();
  Key("syscall_counts");
  packer_.pack_map(static_cast<uint32_t>(counts.size()));
  for (const SyscallCount& count : counts) {
    Str(count.name);
    packer_.pack_uint64(count.calls);
  }
  std::erase_if(counts, [](const SyscallCount& c) { return c.failures == 0; });
  std::stable_sort(counts.begin(), counts.end(), [](const SyscallCount& a, const SyscallCount& b) {
    return a.failures > b.failures;
  });
  Key("error_counts");
  packer_.pack_map(static_cast<uint32_t>(counts.size()));
  for (const SyscallCount& count : counts) {
    Str(count.name);
    packer_.pack_uint64(count.failures);
  }
  Key("gaps");
  packer_.pack_uint64(summary.gaps());
  ++count_;
}

}  // namespace sandtrace::analyzer
