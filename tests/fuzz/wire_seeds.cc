// Writes the seed corpus of the wire fuzzer into a directory: one small valid input per
// message kind, encoded by the real encoders so the seeds follow the wire format when it
// changes. Each file is laid out as wire_fuzzer.cc reads it: a 4-byte little-endian object
// count, then the frame.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "common/wire/codec.h"

namespace sandtrace::wire {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

// Writes `count` and `frame` to DIR/NAME; false when the file cannot be written.
bool WriteSeed(const std::string& dir, const char* name, uint32_t count, const std::string& frame) {
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  const char prefix[4] = {char(count), char(count >> 8), char(count >> 16), char(count >> 24)};
  out.write(prefix, sizeof(prefix));
  out.write(frame.data(), static_cast<std::streamsize>(frame.size()));
  return static_cast<bool>(out);
}

std::string Bytes(const msgpack::sbuffer& buffer) {
  return std::string(buffer.data(), buffer.size());
}

SyscallRecord OpenatRecord() {
  SyscallRecord r;
  r.tid = 101;
  r.tgid = 100;
  r.nr = 257;
  r.args[0] = static_cast<uint64_t>(-100);
  r.args[1] = 0x7ffd0000;
  r.ret = -2;
  r.entry_ns = 1'700'000'000'000'000'000ull;
  r.duration_ns = 1500;
  r.action = Action::kDeny;
  r.captures.push_back({1, CaptureKind::kString, false, "/etc/shadow"});
  return r;
}

// One event map of the analyser's output, as the sinks receive it.
void PackEvent(Packer& p, const char* type, int64_t seq) {
  p.pack_map(4);
  p.pack("type");
  p.pack(type);
  p.pack("seq");
  p.pack(seq);
  p.pack("args");
  p.pack_array(2);
  p.pack("/tmp/x");
  p.pack(0x241);
  p.pack("bytes");
  p.pack_bin(3);
  p.pack_bin_body("\0\1\2", 3);
}

}  // namespace

int WriteSeeds(const std::string& dir) {
  bool ok = true;
  ok &= WriteSeed(dir, "header_hello", 0, EncodeHeader({MessageType::kHello, 0, 0, 1}));
  ok &= WriteSeed(dir, "header_raw_batch", 0, EncodeHeader({MessageType::kRawBatch, 7, 40, 3}));
  ok &= WriteSeed(dir, "header_end", 0, EncodeHeader({MessageType::kEnd, 9, 0, 1}));

  Hello hello;
  hello.run_id = "run-1";
  hello.host = "box";
  hello.argv = {"/bin/ls", "-l"};
  hello.executable = "/usr/bin/ls";
  hello.start_ns = 1'700'000'000'000'000'000ull;
  hello.tracer_pid = 99;
  hello.root_pid = 100;
  hello.layers.push_back({1, "seccomp", true, "filter of 20 rules"});
  msgpack::sbuffer hello_frame;
  EncodeHello(hello, &hello_frame);
  ok &= WriteSeed(dir, "hello", 1, Bytes(hello_frame));

  msgpack::sbuffer end_frame;
  EncodeEnd({Outcome::kSignaled, 137, 9, 1'700'000'001'000'000'000ull, "killed"}, &end_frame);
  ok &= WriteSeed(dir, "end", 1, Bytes(end_frame));

  msgpack::sbuffer syscall_frame;
  EncodeRecord(OpenatRecord(), &syscall_frame);
  ok &= WriteSeed(dir, "records_syscall", 1, Bytes(syscall_frame));

  msgpack::sbuffer mixed;
  EncodeRecord(SpawnRecord{102, 100, 101, true, 5}, &mixed);
  EncodeRecord(ExecRecord{102, 101, 6, "/usr/bin/true", "true"}, &mixed);
  EncodeRecord(OpenatRecord(), &mixed);
  EncodeRecord(ExitRecord{102, 100, 7, true, 9, false}, &mixed);
  ok &= WriteSeed(dir, "records_mixed", 4, Bytes(mixed));

  msgpack::sbuffer events;
  Packer p(events);
  PackEvent(p, "syscall", 1);
  PackEvent(p, "exec", 2);
  ok &= WriteSeed(dir, "event_batch", 2, Bytes(events));

  ok &= WriteSeed(dir, "empty_batch", 0, "");
  if (!ok) std::fprintf(stderr, "wire_seeds: cannot write seeds into %s\n", dir.c_str());
  return ok ? 0 : 1;
}

}  // namespace sandtrace::wire

// Usage: sandtrace-fuzz-wire-seeds DIR (DIR must exist).
int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  return sandtrace::wire::WriteSeeds(argv[1]);
}
