#include "common/wire/codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <random>

namespace sandtrace::wire {
namespace {

TEST(CodecTest, HeaderRoundTrips) {
  Header h{MessageType::kRawBatch, 7, 1000, 42};
  const std::string bytes = EncodeHeader(h);
  Result<Header> back = DecodeHeader(bytes.data(), bytes.size());
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->type, MessageType::kRawBatch);
  EXPECT_EQ(back->seq, 7u);
  EXPECT_EQ(back->first_index, 1000u);
  EXPECT_EQ(back->count, 42u);
}

TEST(CodecTest, HeaderRejectsOtherVersionAndGarbage) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> p(buf);
  p.pack_array(6);
  p.pack(std::string("sandtrace"));
  p.pack(kVersion + 1);
  p.pack(1);
  p.pack(0);
  p.pack(0);
  p.pack(0);
  Result<Header> r = DecodeHeader(buf.data(), buf.size());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().context.find("version"), std::string::npos);
  EXPECT_FALSE(DecodeHeader("\xc1\x00", 2).ok());
  EXPECT_FALSE(DecodeHeader("", 0).ok());
}

TEST(CodecTest, RemoteHeaderAndAckRoundTrip) {
  RemoteHeader h;
  h.type = MessageType::kEventBatch;
  h.run_id = "0123456789abcdef";
  h.host = "build-7";
  h.seq = 41;
  h.first_index = 123456;
  h.count = 512;
  h.oldest_seq = 40;
  h.lost_records = 3;
  h.lost_messages = 1;
  const std::string bytes = EncodeRemoteHeader(h);
  Result<RemoteHeader> back = DecodeRemoteHeader(bytes.data(), bytes.size());
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->type, h.type);
  EXPECT_EQ(back->run_id, h.run_id);
  EXPECT_EQ(back->host, h.host);
  EXPECT_EQ(back->seq, h.seq);
  EXPECT_EQ(back->first_index, h.first_index);
  EXPECT_EQ(back->count, h.count);
  EXPECT_EQ(back->oldest_seq, h.oldest_seq);
  EXPECT_EQ(back->lost_records, h.lost_records);
  EXPECT_EQ(back->lost_messages, h.lost_messages);

  const std::string ack = EncodeRemoteAck({"0123456789abcdef", 40, 42, true});
  Result<RemoteAck> a = DecodeRemoteAck(ack.data(), ack.size());
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->run_id, "0123456789abcdef");
  EXPECT_EQ(a->durable_seq, 40u);
  EXPECT_EQ(a->wanted_seq, 42u);
  EXPECT_TRUE(a->resend);
}

TEST(CodecTest, RemoteHeaderRejectsWhatCannotBeRight) {
  RemoteHeader h;
  h.run_id = "r";
  h.seq = 3;
  h.oldest_seq = 4;  // the publisher cannot hold less than the message it sends
  std::string bytes = EncodeRemoteHeader(h);
  EXPECT_FALSE(DecodeRemoteHeader(bytes.data(), bytes.size()).ok());
  h.oldest_seq = 3;
  h.run_id.clear();
  bytes = EncodeRemoteHeader(h);
  EXPECT_FALSE(DecodeRemoteHeader(bytes.data(), bytes.size()).ok());
  // A local header is not a remote one, and neither is an ack.
  const std::string local = EncodeHeader(Header{MessageType::kEventBatch, 0, 0, 0});
  EXPECT_FALSE(DecodeRemoteHeader(local.data(), local.size()).ok());
  const std::string ack = EncodeRemoteAck({"r", 1, 1, false});
  EXPECT_FALSE(DecodeRemoteHeader(ack.data(), ack.size()).ok());
  h.run_id = "r";
  bytes = EncodeRemoteHeader(h);
  EXPECT_FALSE(DecodeRemoteAck(bytes.data(), bytes.size()).ok());
  const char garbage[] = "\xc1\xc1";
  EXPECT_FALSE(DecodeRemoteHeader(garbage, 2).ok());
}

TEST(CodecTest, RecordsRoundTrip) {
  SyscallRecord s;
  s.tid = 11;
  s.tgid = 10;
  s.nr = 257;
  for (int i = 0; i < 6; ++i) s.args[i] = 0xffffffff00000000ull + i;
  s.ret = -2;
  s.entry_ns = 1'700'000'000'123'456'789ull;
  s.duration_ns = 4242;
  s.returned = false;
  s.action = Action::kDeny;
  s.captures.push_back({1, CaptureKind::kString, true, std::string("/etc/\0x", 7)});
  ExecRecord e{12, 13, 99, "/usr/bin/ls", "ls"};
  ExitRecord x{12, 12, 100, true, 9, true};
  SpawnRecord sp{14, 10, 11, true, 5};

  msgpack::sbuffer body;
  EncodeRecord(s, &body);
  EncodeRecord(e, &body);
  EncodeRecord(x, &body);
  EncodeRecord(sp, &body);
  std::vector<RawRecord> out;
  Status st = DecodeRecords(body.data(), body.size(), 4, &out);
  ASSERT_TRUE(st.ok()) << st.error().message();
  ASSERT_EQ(out.size(), 4u);
  const auto& s2 = std::get<SyscallRecord>(out[0]);
  EXPECT_EQ(s2.tid, 11);
  EXPECT_EQ(s2.nr, 257);
  EXPECT_EQ(s2.args[5], 0xffffffff00000005ull);
  EXPECT_EQ(s2.ret, -2);
  EXPECT_EQ(s2.entry_ns, s.entry_ns);
  EXPECT_FALSE(s2.returned);
  EXPECT_EQ(s2.action, Action::kDeny);
  ASSERT_EQ(s2.captures.size(), 1u);
  EXPECT_EQ(s2.captures[0].bytes, std::string("/etc/\0x", 7));
  EXPECT_TRUE(s2.captures[0].truncated);
  EXPECT_EQ(std::get<ExecRecord>(out[1]).former_tid, 13);
  EXPECT_EQ(std::get<ExecRecord>(out[1]).comm, "ls");
  EXPECT_TRUE(std::get<ExitRecord>(out[2]).core_dumped);
  EXPECT_EQ(std::get<ExitRecord>(out[2]).status, 9);
  EXPECT_TRUE(std::get<SpawnRecord>(out[3]).thread);
}

// The fixed part of a syscall record is packed through a buffer on the stack sized for its
// widest encoding: every field at its widest must come back whole, captures after it.
TEST(CodecTest, SyscallRecordWithWidestFieldsRoundTrips) {
  SyscallRecord s;
  s.tid = std::numeric_limits<int32_t>::min();
  s.tgid = std::numeric_limits<int32_t>::max();
  s.nr = std::numeric_limits<int32_t>::min();
  for (uint64_t& a : s.args) a = std::numeric_limits<uint64_t>::max();
  s.ret = std::numeric_limits<int64_t>::min();
  s.entry_ns = std::numeric_limits<uint64_t>::max();
  s.duration_ns = std::numeric_limits<uint64_t>::max() - 1;
  s.action = static_cast<Action>(255);
  for (uint8_t i = 0; i < 20; ++i) s.captures.push_back({i, CaptureKind::kString, false, "x"});

  msgpack::sbuffer body;
  EncodeRecord(s, &body);
  EncodeRecord(SpawnRecord{7, 7, 1, false, 3}, &body);
  std::vector<RawRecord> out;
  Status st = DecodeRecords(body.data(), body.size(), 2, &out);
  ASSERT_TRUE(st.ok()) << st.error().message();
  const auto& s2 = std::get<SyscallRecord>(out[0]);
  EXPECT_EQ(s2.tid, s.tid);
  EXPECT_EQ(s2.tgid, s.tgid);
  EXPECT_EQ(s2.nr, s.nr);
  for (uint64_t a : s2.args) EXPECT_EQ(a, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(s2.ret, s.ret);
  EXPECT_EQ(s2.entry_ns, s.entry_ns);
  EXPECT_EQ(s2.duration_ns, s.duration_ns);
  EXPECT_EQ(static_cast<int>(s2.action), 255);
  ASSERT_EQ(s2.captures.size(), 20u);
  EXPECT_EQ(s2.captures[19].arg, 19);
  EXPECT_EQ(std::get<SpawnRecord>(out[1]).tid, 7);
}

TEST(CodecTest, DecodeRecordsRejectsCountMismatchAndTruncation) {
  msgpack::sbuffer body;
  EncodeRecord(SpawnRecord{1, 1, 0, false, 0}, &body);
  std::vector<RawRecord> out;
  EXPECT_FALSE(DecodeRecords(body.data(), body.size(), 2, &out).ok());
  out.clear();
  EXPECT_FALSE(DecodeRecords(body.data(), body.size() - 1, 1, &out).ok());
  out.clear();
  msgpack::sbuffer two;
  EncodeRecord(SpawnRecord{1, 1, 0, false, 0}, &two);
  EncodeRecord(SpawnRecord{2, 2, 1, false, 0}, &two);
  EXPECT_FALSE(DecodeRecords(two.data(), two.size(), 1, &out).ok());
}

TEST(CodecTest, HelloAndEndRoundTrip) {
  Hello h;
  h.run_id = "abc";
  h.host = "box";
  h.argv = {"/bin/ls", "-l"};
  h.executable = "/usr/bin/ls";
  h.start_ns = 5;
  h.tracer_pid = 6;
  h.root_pid = 7;
  h.follow_forks = false;
  h.trace_only = true;
  h.layers.push_back({8, "ptrace", true, "PTRACE_TRACEME + SIGSTOP"});
  msgpack::sbuffer buf;
  EncodeHello(h, &buf);
  Result<Hello> back = DecodeHello(buf.data(), buf.size());
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->argv, h.argv);
  EXPECT_EQ(back->root_pid, 7);
  EXPECT_FALSE(back->follow_forks);
  ASSERT_EQ(back->layers.size(), 1u);
  EXPECT_EQ(back->layers[0].name, "ptrace");

  End e{Outcome::kTimedOut, 124, 9, 77, "timeout after 1 s"};
  msgpack::sbuffer ebuf;
  EncodeEnd(e, &ebuf);
  Result<End> eb = DecodeEnd(ebuf.data(), ebuf.size());
  ASSERT_TRUE(eb.ok());
  EXPECT_EQ(eb->outcome, Outcome::kTimedOut);
  EXPECT_EQ(eb->exit_code, 124);
  EXPECT_EQ(eb->detail, "timeout after 1 s");
}

// Found by tests/fuzz/wire_fuzzer.cc: a header count far above what the body can hold sized the
// object vector from the count (64 GiB for 2^32 - 1), and std::bad_alloc escaped the decoder.
TEST(CodecTest, HugeCountIsAnErrorNotAnAllocation) {
  msgpack::sbuffer body;
  EncodeRecord(SpawnRecord{1, 1, 0, false, 0}, &body);
  std::vector<RawRecord> records;
  EXPECT_FALSE(DecodeRecords(body.data(), body.size(), 0xffffffffu, &records).ok());
  msgpack::zone zone;
  std::vector<msgpack::object> objects;
  EXPECT_FALSE(UnpackObjectsInto(body.data(), body.size(), 0xffffffffu, &zone, &objects).ok());
  std::vector<msgpack::object_handle> handles;
  EXPECT_FALSE(UnpackObjects(body.data(), body.size(), 0xffffffffu, &handles).ok());
}

// Found by tests/fuzz/wire_fuzzer.cc: msgpack allocates a container's elements when it reads the
// length, so 5 bytes claiming an array (or map) of 2^32 - 1 elements asked for 64 GiB. Lengths
// are now bounded by the bytes left in the frame and rejected before any allocation.
TEST(CodecTest, ContainerLongerThanTheFrameIsRejectedBeforeAllocating) {
  for (const std::string& frame :
       {std::string("\xdd\xff\xff\xff\xff", 5), std::string("\xdf\xff\xff\xff\xff", 5),
        std::string("\x92\x01\xdd\x00\x00\x00\x10", 7)}) {
    std::vector<msgpack::object_handle> handles;
    Status s = UnpackObjects(frame.data(), frame.size(), 1, &handles);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().context.find("size overflow"), std::string::npos) << s.error().context;
    msgpack::zone zone;
    std::vector<msgpack::object> objects;
    s = UnpackObjectsInto(frame.data(), frame.size(), 1, &zone, &objects);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().context.find("size overflow"), std::string::npos) << s.error().context;
    EXPECT_FALSE(DecodeHeader(frame.data(), frame.size()).ok());
    EXPECT_FALSE(DecodeHello(frame.data(), frame.size()).ok());
    EXPECT_FALSE(DecodeEnd(frame.data(), frame.size()).ok());
  }
}

}  // namespace
}  // namespace sandtrace::wire

namespace sandtrace::wire {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

// A syscall record packed by hand, with `mutate` given the chance to change one field.
msgpack::sbuffer SyscallBody(int field, const std::function<void(Packer&)>& replacement,
                             int extra_fields = 0) {
  msgpack::sbuffer body;
  Packer p(body);
  p.pack_array(11 + extra_fields);
  const std::function<void(Packer&)> fields[] = {
      [](Packer& q) { q.pack_uint8(1); },
      [](Packer& q) { q.pack_int32(5); },
      [](Packer& q) { q.pack_int32(5); },
      [](Packer& q) { q.pack_int32(257); },
      [](Packer& q) {
        q.pack_array(6);
        for (int i = 0; i < 6; ++i) q.pack_uint64(i);
      },
      [](Packer& q) { q.pack_int64(-2); },
      [](Packer& q) { q.pack_uint64(100); },
      [](Packer& q) { q.pack_uint64(7); },
      [](Packer& q) { q.pack_true(); },
      [](Packer& q) { q.pack_uint8(0); },
      [](Packer& q) {
        q.pack_array(1);
        q.pack_array(4);
        q.pack_uint8(1);
        q.pack_uint8(1);
        q.pack_false();
        q.pack_bin(4);
        q.pack_bin_body("/tmp", 4);
      },
  };
  for (int i = 0; i < 11; ++i) (i == field && replacement ? replacement : fields[i])(p);
  for (int i = 0; i < extra_fields; ++i) p.pack_map(1), p.pack("future"), p.pack_array(0);
  return body;
}

Status DecodeOne(const msgpack::sbuffer& body, std::vector<RawRecord>* out) {
  return DecodeRecords(body.data(), body.size(), 1, out);
}

TEST(CodecTest, DecodeRecordsReadsFieldsAndSkipsNewerOnes) {
  std::vector<RawRecord> out;
  ASSERT_TRUE(DecodeOne(SyscallBody(-1, nullptr, 2), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  const auto& s = std::get<SyscallRecord>(out[0]);
  EXPECT_EQ(s.nr, 257);
  EXPECT_EQ(s.ret, -2);
  EXPECT_EQ(s.args[5], 5u);
  ASSERT_EQ(s.captures.size(), 1u);
  EXPECT_EQ(s.captures[0].bytes, "/tmp");
}

TEST(CodecTest, DecodeRecordsConvertsLikeMsgpack) {
  struct Case {
    int field;
    std::function<void(Packer&)> value;
    bool ok;
  };
  const Case cases[] = {
      {1, [](Packer& p) { p.pack_uint64(2147483647); }, true},
      {1, [](Packer& p) { p.pack_uint64(2147483648u); }, false},  // tid past int32
      {1, [](Packer& p) { p.pack_int64(-2147483648ll); }, true},
      {1, [](Packer& p) { p.pack_int64(-2147483649ll); }, false},
      {1, [](Packer& p) { p.pack_double(5.5); }, false},
      {1, [](Packer& p) { p.pack_true(); }, false},
      {4, [](Packer& p) { p.pack_array(5); for (int i = 0; i < 5; ++i) p.pack_int(i); }, false},
      {4, [](Packer& p) { p.pack_array(6); for (int i = 0; i < 6; ++i) p.pack_int(i - 1); }, false},
      {5, [](Packer& p) { p.pack_uint64(9223372036854775807ull); }, true},
      {5, [](Packer& p) { p.pack_uint64(9223372036854775808ull); }, false},  // ret past int64
      {6, [](Packer& p) { p.pack_int64(-1); }, false},                         // negative time
      {8, [](Packer& p) { p.pack_uint8(1); }, false},                          // bool as int
      {9, [](Packer& p) { p.pack_uint64(256); }, false},                       // action past uint8
      {10, [](Packer& p) { p.pack_map(0); }, false},
      {10, [](Packer& p) { p.pack_array(1); p.pack_array(3); p.pack_int(1); p.pack_int(1); p.pack_false(); }, false},
      {10, [](Packer& p) { p.pack_array(1); p.pack_array(4); p.pack_int(1); p.pack_int(1); p.pack_false(); p.pack_int(3); }, false},
      {10, [](Packer& p) { p.pack_array(1); p.pack_array(4); p.pack_int(1); p.pack_int(1); p.pack_false(); p.pack("str"); }, true},
      {0, [](Packer& p) { p.pack_uint8(9); }, false},  // unknown tag
      {0, [](Packer& p) { p.pack_int(-1); }, false},
  };
  for (const Case& c : cases) {
    std::vector<RawRecord> out;
    const msgpack::sbuffer body = SyscallBody(c.field, c.value);
    EXPECT_EQ(DecodeOne(body, &out).ok(), c.ok) << "field " << c.field << ": "
                                                 << msgpack::unpack(body.data(), body.size()).get();
    if (!c.ok) {
      EXPECT_TRUE(out.empty());
    }
  }
}

// Integers in fixed-width formats, a 16-bit array header and a str capture: not what
// EncodeRecord writes, but values msgpack-c reads all the same.
TEST(CodecTest, DecodeRecordsReadsEveryIntegerFormat) {
  msgpack::sbuffer body;
  Packer p(body);
  p.pack_array(11);
  p.pack_fix_uint64(1);
  p.pack_fix_int64(70000);
  p.pack_fix_int8(-5);
  p.pack_fix_int32(257);
  body.write("\xdc\x00\x06", 3);
  p.pack_fix_uint8(200);
  p.pack_fix_uint16(60000);
  p.pack_fix_uint32(4000000000u);
  p.pack_fix_int16(7);
  p.pack_fix_int32(8);
  p.pack_uint64(~uint64_t{0});
  p.pack_fix_int16(-300);
  p.pack_fix_int32(100);
  p.pack_fix_uint8(9);
  p.pack_false();
  p.pack_fix_int64(1);
  p.pack_array(1);
  p.pack_array(4);
  p.pack_fix_uint16(1);
  p.pack_fix_int8(1);
  p.pack_true();
  p.pack(std::string("/etc"));
  std::vector<RawRecord> out;
  ASSERT_TRUE(DecodeOne(body, &out).ok());
  const auto& s = std::get<SyscallRecord>(out.at(0));
  EXPECT_EQ(s.tid, 70000);
  EXPECT_EQ(s.tgid, -5);
  EXPECT_EQ(s.nr, 257);
  const uint64_t args[6] = {200, 60000, 4000000000u, 7, 8, ~uint64_t{0}};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(s.args[i], args[i]) << i;
  EXPECT_EQ(s.ret, -300);
  EXPECT_EQ(s.entry_ns, 100u);
  EXPECT_EQ(s.duration_ns, 9u);
  EXPECT_FALSE(s.returned);
  EXPECT_EQ(s.action, Action::kDeny);
  ASSERT_EQ(s.captures.size(), 1u);
  EXPECT_EQ(s.captures[0].arg, 1);
  EXPECT_EQ(s.captures[0].kind, CaptureKind::kString);
  EXPECT_TRUE(s.captures[0].truncated);
  EXPECT_EQ(s.captures[0].bytes, "/etc");
}

// Records decoded into reused slots equal freshly decoded ones, whatever the slots held:
// compared by their encoding.
TEST(CodecTest, DecodeRecordsReusingForgetsWhatTheSlotsHeld) {
  SyscallRecord with_captures;
  with_captures.nr = 257;
  with_captures.captures = {{1, CaptureKind::kString, false, "/a/rather/long/path/name"},
                            {2, CaptureKind::kSockaddr, true, "xy"}};
  SyscallRecord without_captures;
  without_captures.nr = 3;
  const std::vector<std::vector<RawRecord>> batches = {
      {with_captures, with_captures, SpawnRecord{5, 5, 1, false, 7}, with_captures},
      {without_captures, SpawnRecord{6, 6, 1, true, 8}, with_captures},
      {ExitRecord{6, 6, 9, false, 0, false}, without_captures, without_captures,
       ExecRecord{7, 7, 10, "/bin/x", "x"}, with_captures},
  };
  auto encoded = [](const RawRecord& r) {
    msgpack::sbuffer b;
    EncodeRecord(r, &b);
    return std::string(b.data(), b.size());
  };
  std::vector<RawRecord> reused;
  for (const std::vector<RawRecord>& batch : batches) {
    msgpack::sbuffer body;
    for (const RawRecord& r : batch) EncodeRecord(r, &body);
    const uint32_t count = static_cast<uint32_t>(batch.size());
    ASSERT_TRUE(DecodeRecordsReusing(body.data(), body.size(), count, &reused).ok());
    ASSERT_GE(reused.size(), batch.size());
    for (size_t i = 0; i < batch.size(); ++i) EXPECT_EQ(encoded(reused[i]), encoded(batch[i])) << i;
  }
  msgpack::sbuffer cut;
  EncodeRecord(with_captures, &cut);
  EXPECT_FALSE(DecodeRecordsReusing(cut.data(), cut.size() - 1, 1, &reused).ok());
  EXPECT_FALSE(DecodeRecordsReusing(cut.data(), cut.size(), 2, &reused).ok());
  EXPECT_FALSE(DecodeRecordsReusing(cut.data(), cut.size(), 1000000, &reused).ok());
}

TEST(CodecTest, DecodeRecordsFailsOnEveryTruncationAndSurvivesGarbage) {
  msgpack::sbuffer body = SyscallBody(-1, nullptr, 1);
  EncodeRecord(ExecRecord{12, 13, 99, "/usr/bin/ls", "ls"}, &body);
  EncodeRecord(ExitRecord{12, 12, 100, true, 9, true}, &body);
  EncodeRecord(SpawnRecord{14, 10, 11, true, 5}, &body);
  std::vector<RawRecord> out;
  ASSERT_TRUE(DecodeRecords(body.data(), body.size(), 4, &out).ok());
  for (size_t cut = 0; cut < body.size(); ++cut) {
    std::unique_ptr<char[]> copy(new char[cut + 1]);
    std::memcpy(copy.get(), body.data(), cut);
    out.clear();
    EXPECT_FALSE(DecodeRecords(copy.get(), cut, 4, &out).ok()) << "cut at " << cut;
    EXPECT_TRUE(out.empty());
  }
  std::mt19937 rng(11);
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(body.data(), body.size());
    for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
      bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    std::unique_ptr<char[]> copy(new char[bytes.size()]);
    std::memcpy(copy.get(), bytes.data(), bytes.size());
    out.clear();
    if (DecodeRecords(copy.get(), bytes.size(), 4, &out).ok()) {
      EXPECT_EQ(out.size(), 4u);
    } else {
      EXPECT_TRUE(out.empty());
    }
  }
}

}  // namespace
}  // namespace sandtrace::wire
