#include "analyzer/event_writer.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "analyzer/names.h"
#include "common/utc_time.h"

namespace sandtrace::analyzer {
namespace {

constexpr size_t kInitialBufferSize = 64 * 1024;
constexpr size_t kSecondLength = 19;     // "YYYY-MM-DDTHH:MM:SS"
constexpr size_t kTimestampLength = 27;  // "YYYY-MM-DDTHH:MM:SS.uuuuuuZ"
static_assert(1 + kTimestampLength == TimestampFormatter::kPackedSize);
constexpr uint64_t kNanosPerSecond = 1000000000;
// Room for either half of a syscall event (before and after the decoded map), besides its one
// string of any length (the syscall name, the error name): about 200 bytes each, counting the
// room every value reserves (9 bytes for any integer, 32 for a PackedStr).
constexpr size_t kSyscallPartRoom = 256;
constexpr unsigned kFixStrTag = 0xa0;  // MessagePack fixstr header: 0xa0 | length (< 32)

// The last `width` decimal digits of `value`, zero-padded.
void WriteDigits(char* out, int width, uint32_t value) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// "00" to "99", two characters each.
constexpr std::array<char, 200> kTwoDigits = [] {
  std::array<char, 200> digits{};
  for (int i = 0; i < 100; ++i) {
    digits[2 * i] = static_cast<char>('0' + i / 10);
    digits[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return digits;
}();

// `value` (< 1000000) as six zero-padded digits.
void WriteSixDigits(char* out, uint32_t value) {
  for (int i = 4; i >= 0; i -= 2) {
    std::memcpy(out + i, &kTwoDigits[2 * (value % 100)], 2);
    value /= 100;
  }
}

// The name of every value of a one-byte enum, packed ahead of time.
using PackedNames = std::array<wire::PackedStr, 256>;
template <typename Enum, typename NameOf>
PackedNames PackNames(NameOf name_of) {
  PackedNames packed;
  for (size_t i = 0; i < packed.size(); ++i) {
    const std::string_view name = name_of(static_cast<Enum>(i));
    packed[i] = wire::PackedStr(wire::PackedStr::fits(name) ? name : "?");
  }
  return packed;
}
const PackedNames kPackedActionNames = PackNames<wire::Action>(wire::ActionName);
const PackedNames kPackedCategoryNames = PackNames<Category>(CategoryName);

bool HasPort(const SocketAddress& addr) {
  return addr.family == AF_INET || addr.family == AF_INET6;
}

}  // namespace

std::string_view TimestampFormatter::Packed(uint64_t ns) {
  const int64_t second = static_cast<int64_t>(ns / kNanosPerSecond);
  if (second != cached_second_) {
    const UtcTime parts = UtcFromUnixSeconds(second);
    char* t = text_ + 1;
    text_[0] = static_cast<char>(kFixStrTag | kTimestampLength);
    WriteDigits(t, 4, static_cast<int>(parts.year));
    t[4] = '-';
    WriteDigits(t + 5, 2, static_cast<int>(parts.month));
    t[7] = '-';
    WriteDigits(t + 8, 2, static_cast<int>(parts.day));
    t[10] = 'T';
    WriteDigits(t + 11, 2, static_cast<int>(parts.hour));
    t[13] = ':';
    WriteDigits(t + 14, 2, static_cast<int>(parts.minute));
    t[16] = ':';
    WriteDigits(t + 17, 2, static_cast<int>(parts.second));
    cached_second_ = second;
  }
  uint32_t micros = static_cast<uint32_t>((ns % kNanosPerSecond) / 1000);
  char* p = text_ + 1 + kSecondLength;
  p[0] = '.';
  WriteSixDigits(p + 1, micros);
  p[7] = 'Z';
  return std::string_view(text_, 1 + kTimestampLength);
}

EventWriter::EventWriter() : buffer_(kInitialBufferSize) {}

void EventWriter::Clear() {
  buffer_.clear();
  count_ = 0;
  last_event_begin_ = last_event_end_ = 0;
}

wire::MsgpackWriter::Memory EventWriter::ReleaseBatch(wire::MsgpackWriter::Memory next) {
  const wire::MsgpackWriter::Memory batch = buffer_.Release();
  buffer_.Adopt(next);
  Clear();
  return batch;
}

void EventWriter::StringList(std::string_view joined) {
  if (joined.empty()) {
    buffer_.Array(0);
    return;
  }
  uint32_t items = 1;
  for (char c : joined) items += c == '\0';
  buffer_.Array(items);
  size_t start = 0;
  for (uint32_t i = 0; i < items; ++i) {
    const size_t end = std::min(joined.find('\0', start), joined.size());
    Str(joined.substr(start, end - start));
    start = end + 1;
  }
}

void EventWriter::Address(const SocketAddress& addr) {
  buffer_.Map(1 + addr.has_address + HasPort(addr));
  Fixed<"family">(buffer_);
  Str(FamilyName(addr.family));
  if (addr.has_address) {
    Fixed<"address">(buffer_);
    Str(addr.address);
  }
  if (HasPort(addr)) {
    Fixed<"port">(buffer_);
    buffer_.Int(addr.port);
  }
}

void EventWriter::WriteSandbox(const wire::Hello& hello, std::string_view policy) {
  buffer_.Map(10);
  Fixed<"event_type">(buffer_);
  Fixed<"sandbox">(buffer_);
  Fixed<"timestamp">(buffer_);
  Timestamp(hello.start_ns);
  Fixed<"run_id">(buffer_);
  Str(hello.run_id);
  Fixed<"host">(buffer_);
  Str(hello.host);
  Fixed<"policy">(buffer_);
  Str(policy);
  Fixed<"command">(buffer_);
  buffer_.Array(static_cast<uint32_t>(hello.argv.size()));
  for (const std::string& arg : hello.argv) Str(arg);
  Fixed<"executable">(buffer_);
  Str(hello.executable);
  Fixed<"trace_only">(buffer_);
  buffer_.Bool(hello.trace_only);
  Fixed<"follow_forks">(buffer_);
  buffer_.Bool(hello.follow_forks);
  Fixed<"layers">(buffer_);
  buffer_.Array(static_cast<uint32_t>(hello.layers.size()));
  for (const wire::LayerState& layer : hello.layers) {
    buffer_.Map(4);
    Fixed<"layer">(buffer_);
    buffer_.Uint(layer.layer);
    Fixed<"name">(buffer_);
    Str(layer.name);
    Fixed<"state">(buffer_);
    Str(layer.applied ? "applied" : "skipped");
    Fixed<"detail">(buffer_);
    Str(layer.detail);
  }
  ++count_;
}

void EventWriter::Decoded(const DecodedArgs& d, int keys) {
  buffer_.Map(static_cast<uint32_t>(keys));
  if (d.fd) {
    Fixed<"fd">(buffer_);
    buffer_.Int(*d.fd);
  }
  if (d.dirfd) {
    Fixed<"dirfd">(buffer_);
    if (*d.dirfd == kAtFdCwd) {
      Fixed<"AT_FDCWD">(buffer_);
    } else {
      buffer_.Int(*d.dirfd);
    }
  }
  if (d.path) {
    Fixed<"path">(buffer_);
    Str(*d.path);
  }
  if (d.path2) {
    Fixed<"path2">(buffer_);
    Str(*d.path2);
  }
  if (d.open_flags) {
    Fixed<"flags">(buffer_);
    if (!open_flags_name_ || open_flags_name_->first != *d.open_flags) {
      open_flags_name_.emplace(*d.open_flags, OpenFlagsName(*d.open_flags));
    }
    Str(open_flags_name_->second);
  }
  if (d.mode) {
    Fixed<"mode">(buffer_);
    Str(ModeName(*d.mode));
  }
  if (d.addr) {
    Fixed<"addr">(buffer_);
    Address(*d.addr);
  }
  if (d.argv) {
    Fixed<"argv">(buffer_);
    StringList(*d.argv);
  }
  if (d.signal) {
    Fixed<"signal">(buffer_);
    Str(SignalName(*d.signal));
  }
  if (d.target_pid) {
    Fixed<"target_pid">(buffer_);
    buffer_.Int(*d.target_pid);
  }
  if (d.count) {
    Fixed<"count">(buffer_);
    buffer_.Uint(*d.count);
  }
  if (d.truncated) {
    Fixed<"truncated">(buffer_);
    buffer_.Bool(true);
  }
}

void EventWriter::WriteSyscall(const wire::SyscallRecord& r, std::string_view name,
                               Category category, const DecodedArgs& decoded) {
  const int64_t ret = r.returned ? r.ret : 0;
  const bool success = !(ret >= -4095 && ret <= -1);
  const int decoded_keys = decoded.size();
  last_event_begin_ = buffer_.size();
  wire::MsgpackWriter::Room out = buffer_.OpenRoom(kSyscallPartRoom + name.size());
  out.Map(13 + !success);
  Fixed<"event_type">(out);
  Fixed<"syscall">(out);
  Fixed<"timestamp">(out);
  Timestamp(out, r.entry_ns);
  Fixed<"pid">(out);
  out.Int(r.tid);
  Fixed<"tgid">(out);
  out.Int(r.tgid);
  Fixed<"syscall">(out);
  out.Str(name);
  Fixed<"syscall_nr">(out);
  out.Int(r.nr);
  Fixed<"args">(out);
  out.Map(decoded_keys > 0 ? 2 : 1);
  Fixed<"raw">(out);
  out.Array(6);
  for (uint64_t arg : r.args) out.Uint(arg);
  if (decoded_keys > 0) Fixed<"decoded">(out);
  buffer_.Commit(out);
  if (decoded_keys > 0) Decoded(decoded, decoded_keys);
  const std::string error = success ? std::string() : ErrnoName(-ret);
  out = buffer_.OpenRoom(kSyscallPartRoom + error.size());
  Fixed<"return_value">(out);
  out.Int(ret);
  Fixed<"success">(out);
  out.Bool(success);
  if (!success) {
    Fixed<"error">(out);
    out.Str(error);
  }
  Fixed<"duration_us">(out);
  out.Uint(r.duration_ns / 1000);
  Fixed<"returned">(out);
  out.Bool(r.returned);
  Fixed<"action">(out);
  out.Str(kPackedActionNames[static_cast<uint8_t>(r.action)]);
  Fixed<"category">(out);
  out.Str(kPackedCategoryNames[static_cast<uint8_t>(category)]);
  buffer_.Commit(out);
  last_event_end_ = buffer_.size();
  ++count_;
}

void EventWriter::WriteSpawn(const wire::SpawnRecord& r) {
  buffer_.Map(7);
  Fixed<"event_type">(buffer_);
  Fixed<"process">(buffer_);
  Fixed<"action">(buffer_);
  Fixed<"spawn">(buffer_);
  Fixed<"timestamp">(buffer_);
  Timestamp(r.ts_ns);
  Fixed<"pid">(buffer_);
  buffer_.Int(r.tid);
  Fixed<"tgid">(buffer_);
  buffer_.Int(r.tgid);
  Fixed<"ppid">(buffer_);
  buffer_.Int(r.parent_tid);
  Fixed<"thread">(buffer_);
  buffer_.Bool(r.thread);
  ++count_;
}

void EventWriter::WriteExec(const wire::ExecRecord& r, std::string_view argv) {
  const bool moved = r.former_tid != r.tid;
  last_event_begin_ = buffer_.size();
  buffer_.Map(7 + moved);
  Fixed<"event_type">(buffer_);
  Fixed<"process">(buffer_);
  Fixed<"action">(buffer_);
  Fixed<"exec">(buffer_);
  Fixed<"timestamp">(buffer_);
  Timestamp(r.ts_ns);
  Fixed<"pid">(buffer_);
  buffer_.Int(r.tid);
  Fixed<"comm">(buffer_);
  Str(r.comm);
  Fixed<"path">(buffer_);
  Str(r.path);
  Fixed<"argv">(buffer_);
  StringList(argv);
  if (moved) {
    Fixed<"former_pid">(buffer_);
    buffer_.Int(r.former_tid);
  }
  last_event_end_ = buffer_.size();
  ++count_;
}

void EventWriter::WriteExit(const wire::ExitRecord& r) {
  buffer_.Map(r.signaled ? 8 : 7);
  Fixed<"event_type">(buffer_);
  Fixed<"process">(buffer_);
  Fixed<"action">(buffer_);
  Str(r.signaled ? "signaled" : "exited");
  Fixed<"timestamp">(buffer_);
  Timestamp(r.ts_ns);
  Fixed<"pid">(buffer_);
  buffer_.Int(r.tid);
  Fixed<"tgid">(buffer_);
  buffer_.Int(r.tgid);
  if (r.signaled) {
    Fixed<"signal">(buffer_);
    Str(SignalName(r.status));
    Fixed<"core_dumped">(buffer_);
    buffer_.Bool(r.core_dumped);
  } else {
    Fixed<"exit_code">(buffer_);
    buffer_.Int(r.status);
  }
  Fixed<"thread">(buffer_);
  buffer_.Bool(r.tid != r.tgid);
  ++count_;
}

void EventWriter::WriteGap(uint64_t ts_ns, std::string_view stage, uint64_t lost_records,
                           uint64_t lost_messages) {
  buffer_.Map(5);
  Fixed<"event_type">(buffer_);
  Fixed<"gap">(buffer_);
  Fixed<"timestamp">(buffer_);
  Timestamp(ts_ns);
  Fixed<"stage">(buffer_);
  Str(stage);
  Fixed<"lost_records">(buffer_);
  buffer_.Uint(lost_records);
  Fixed<"lost_messages">(buffer_);
  buffer_.Uint(lost_messages);
  ++count_;
}

void EventWriter::WriteAlert(uint64_t ts_ns, std::string_view rule, std::string_view severity,
                             std::string_view message, int32_t pid) {
  buffer_.Map(7);
  Fixed<"event_type">(buffer_);
  Fixed<"alert">(buffer_);
  Fixed<"timestamp">(buffer_);
  Timestamp(ts_ns);
  Fixed<"rule">(buffer_);
  Str(rule);
  Fixed<"severity">(buffer_);
  Str(severity);
  Fixed<"message">(buffer_);
  Str(message);
  Fixed<"pid">(buffer_);
  buffer_.Int(pid);
  Fixed<"event">(buffer_);
  if (last_event_end_ == 0) {
    buffer_.Map(0);
  } else {
    buffer_.CopyWithin(last_event_begin_, last_event_end_);
  }
  ++count_;
}

}  // namespace sandtrace::analyzer
