#include "common/wire/msgpack_reader.h"

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>

namespace sandtrace::wire {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

// Every item msgpack-c's unpacker gives, compared with what the reader reads.
void ExpectSameAsMsgpack(const msgpack::object& o, MsgpackReader* in) {
  MsgpackItem item;
  ASSERT_TRUE(in->Next(&item));
  switch (o.type) {
    case msgpack::type::NIL: EXPECT_EQ(item.kind, MsgpackKind::kNil); break;
    case msgpack::type::BOOLEAN:
      ASSERT_EQ(item.kind, MsgpackKind::kBool);
      EXPECT_EQ(item.boolean, o.via.boolean);
      break;
    case msgpack::type::POSITIVE_INTEGER:
      ASSERT_EQ(item.kind, MsgpackKind::kUint);
      EXPECT_EQ(item.u64, o.via.u64);
      break;
    case msgpack::type::NEGATIVE_INTEGER:
      ASSERT_EQ(item.kind, MsgpackKind::kInt);
      EXPECT_EQ(item.i64, o.via.i64);
      break;
    case msgpack::type::FLOAT32:
      ASSERT_EQ(item.kind, MsgpackKind::kFloat32);
      EXPECT_EQ(item.f64, o.via.f64);
      break;
    case msgpack::type::FLOAT64:
      ASSERT_EQ(item.kind, MsgpackKind::kFloat64);
      EXPECT_EQ(item.f64, o.via.f64);
      break;
    case msgpack::type::STR:
      ASSERT_EQ(item.kind, MsgpackKind::kStr);
      EXPECT_EQ(item.text(), std::string_view(o.via.str.ptr, o.via.str.size));
      break;
    case msgpack::type::BIN:
      ASSERT_EQ(item.kind, MsgpackKind::kBin);
      EXPECT_EQ(item.text(), std::string_view(o.via.bin.ptr, o.via.bin.size));
      break;
    case msgpack::type::EXT:
      ASSERT_EQ(item.kind, MsgpackKind::kExt);
      EXPECT_EQ(item.size, o.via.ext.size);
      EXPECT_EQ(item.data[0], o.via.ext.ptr[0]);
      EXPECT_EQ(std::string_view(item.data, item.size + 1),
                std::string_view(o.via.ext.ptr, o.via.ext.size + 1));
      break;
    case msgpack::type::ARRAY:
      ASSERT_EQ(item.kind, MsgpackKind::kArray);
      ASSERT_EQ(item.size, o.via.array.size);
      for (uint32_t i = 0; i < o.via.array.size; ++i) ExpectSameAsMsgpack(o.via.array.ptr[i], in);
      break;
    case msgpack::type::MAP:
      ASSERT_EQ(item.kind, MsgpackKind::kMap);
      ASSERT_EQ(item.size, o.via.map.size);
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        ExpectSameAsMsgpack(o.via.map.ptr[i].key, in);
        ExpectSameAsMsgpack(o.via.map.ptr[i].val, in);
      }
      break;
  }
}

msgpack::sbuffer EveryFormat() {
  msgpack::sbuffer b;
  Packer p(b);
  p.pack_array(40);
  p.pack_nil();
  p.pack_true();
  p.pack_false();
  for (uint64_t u : std::initializer_list<uint64_t>{0ull, 127ull, 128ull, 255ull, 256ull, 65535ull, 65536ull, 4294967295ull,
                     4294967296ull, 18446744073709551615ull}) {
    p.pack_uint64(u);
  }
  for (int64_t i : std::initializer_list<int64_t>{-1ll, -32ll, -33ll, -128ll, -129ll, -32768ll, -32769ll, -2147483648ll,
                    -2147483649ll, std::numeric_limits<int64_t>::min()}) {
    p.pack_int64(i);
  }
  p.pack_fix_int8(5);    // signed formats holding non-negative values read as unsigned
  p.pack_fix_int64(7);
  p.pack_float(1.5f);
  p.pack_double(-2.25);
  for (size_t n : std::initializer_list<size_t>{0, 31, 32, 255, 256, 65536}) {
    const std::string s(n, 'x');
    p.pack_str(static_cast<uint32_t>(n));
    p.pack_str_body(s.data(), static_cast<uint32_t>(n));
  }
  p.pack_bin(3);
  p.pack_bin_body("a\0b", 3);
  p.pack_ext(1, 7);
  p.pack_ext_body("z", 1);
  p.pack_ext(3, -2);
  p.pack_ext_body("abc", 3);
  p.pack_array(16);
  for (int i = 0; i < 16; ++i) p.pack_int(i);
  p.pack_map(2);
  p.pack(std::string("k"));
  p.pack_array(0);
  p.pack_int(1);
  p.pack_map(0);
  p.pack_map(16);
  for (int i = 0; i < 16; ++i) {
    p.pack_int(i);
    p.pack_nil();
  }
  p.pack_nil();
  return b;
}

TEST(MsgpackReaderTest, ReadsWhatMsgpackUnpacks) {
  const msgpack::sbuffer b = EveryFormat();
  const msgpack::object_handle h = msgpack::unpack(b.data(), b.size());
  MsgpackReader in(b.data(), b.size());
  ExpectSameAsMsgpack(h.get(), &in);
  EXPECT_TRUE(in.at_end());

  MsgpackReader skip(b.data(), b.size());
  ASSERT_TRUE(skip.Skip());
  EXPECT_TRUE(skip.at_end());
}

TEST(MsgpackReaderTest, EveryTruncationFails) {
  const msgpack::sbuffer b = EveryFormat();
  for (size_t cut = 0; cut < b.size(); ++cut) {
    MsgpackReader in(b.data(), cut);
    EXPECT_FALSE(in.Skip()) << "cut at " << cut;
  }
}

TEST(MsgpackReaderTest, RejectsReservedByteAndImpossibleLengths) {
  const char reserved[] = {'\xc1'};
  MsgpackReader a(reserved, 1);
  MsgpackItem item;
  EXPECT_FALSE(a.Next(&item));
  // array32 and map32 claiming 2^32-1 entries in a 5-byte frame; str32 claiming 4 GiB.
  for (const char* bytes : {"\xdd\xff\xff\xff\xff", "\xdf\xff\xff\xff\xff", "\xdb\xff\xff\xff\xff"}) {
    MsgpackReader in(bytes, 5);
    EXPECT_FALSE(in.Next(&item));
  }
  // A map of one entry needs two more bytes.
  MsgpackReader map("\x81\x01", 2);
  EXPECT_FALSE(map.Next(&item));
}

TEST(MsgpackReaderTest, RandomBytesNeverReadOutside) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(rng() % 24, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    // A heap copy of exactly that size, so that AddressSanitizer sees any overread.
    std::unique_ptr<char[]> copy(new char[bytes.size() + 1]);
    std::memcpy(copy.get(), bytes.data(), bytes.size());
    MsgpackReader in(copy.get(), bytes.size());
    bool reference = true;
    try {
      size_t offset = 0;
      const size_t n = bytes.size();  // msgpack-c sizes containers before reading them
      msgpack::unpack(copy.get(), n, offset, nullptr, nullptr,
                      msgpack::unpack_limit(n, n / 2, n, n, n));
      reference = true;
    } catch (...) {
      reference = false;
    }
    const bool ours = !bytes.empty() && in.Skip();
    if (!bytes.empty()) {
      EXPECT_EQ(ours, reference) << "round " << round;
    }
  }
}

}  // namespace
}  // namespace sandtrace::wire
