#include "common/wire/msgpack_writer.h"

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace sandtrace::wire {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

std::string Bytes(const MsgpackWriter& w) { return std::string(w.data(), w.size()); }
std::string Bytes(const msgpack::sbuffer& b) { return std::string(b.data(), b.size()); }

// Values at and around every boundary between two formats.
std::vector<int64_t> SignedEdges() {
  std::vector<int64_t> out = {std::numeric_limits<int64_t>::min(),
                              std::numeric_limits<int64_t>::max()};
  for (int64_t edge : {int64_t{0}, int64_t{32}, int64_t{128}, int64_t{256}, int64_t{1} << 15,
                       int64_t{1} << 16, int64_t{1} << 31, int64_t{1} << 32}) {
    for (int64_t d = -2; d <= 2; ++d) {
      out.push_back(edge + d);
      out.push_back(-edge + d);
    }
  }
  return out;
}

TEST(MsgpackWriter, IntegersAsMsgpackCPacksThem) {
  for (int64_t v : SignedEdges()) {
    MsgpackWriter w(1);
    msgpack::sbuffer expected;
    Packer p(expected);
    w.Int(v);
    p.pack_int64(v);
    if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
      w.Int(static_cast<int32_t>(v));
      p.pack_int32(static_cast<int32_t>(v));
    }
    const uint64_t u = static_cast<uint64_t>(v);
    w.Uint(u);
    p.pack_uint64(u);
    EXPECT_EQ(Bytes(w), Bytes(expected)) << v;
  }
}

TEST(MsgpackWriter, StringsContainersAndBoolsAsMsgpackCPacksThem) {
  MsgpackWriter w(1);
  msgpack::sbuffer expected;
  Packer p(expected);
  for (size_t n : {0, 1, 31, 32, 255, 256, 65535, 65536, 70000}) {
    const std::string s(n, 'x');
    w.Str(s);
    p.pack_str(static_cast<uint32_t>(n));
    p.pack_str_body(s.data(), static_cast<uint32_t>(n));
    w.Map(static_cast<uint32_t>(n));
    p.pack_map(static_cast<uint32_t>(n));
    w.Array(static_cast<uint32_t>(n));
    p.pack_array(static_cast<uint32_t>(n));
  }
  for (uint32_t n : {15u, 16u}) {
    w.Map(n);
    p.pack_map(n);
    w.Array(n);
    p.pack_array(n);
  }
  w.Bool(true);
  p.pack_true();
  w.Bool(false);
  p.pack_false();
  EXPECT_EQ(Bytes(w), Bytes(expected));
}

TEST(MsgpackWriter, PackedStrIsAFixstr) {
  MsgpackWriter w(1);
  w.Str(PackedStr("file_read"));
  w.Str(PackedStr(""));
  msgpack::sbuffer expected;
  Packer p(expected);
  p.pack(std::string("file_read"));
  p.pack(std::string());
  EXPECT_EQ(Bytes(w), Bytes(expected));
  EXPECT_TRUE(PackedStr::fits(std::string(31, 'a')));
  EXPECT_FALSE(PackedStr::fits(std::string(32, 'a')));
}

TEST(MsgpackWriter, CopyWithinAndClearKeepTheBytesRight) {
  MsgpackWriter w(2);
  w.Str("abc");
  const size_t end = w.size();
  w.Uint(7);
  for (int i = 0; i < 100; ++i) w.CopyWithin(0, end);  // grows while copying from itself
  EXPECT_EQ(w.size(), end + 1 + 100 * end);
  EXPECT_EQ(Bytes(w).substr(w.size() - end), Bytes(w).substr(0, end));
  w.clear();
  EXPECT_EQ(w.size(), 0u);
  w.Raw("\x01\x02", 2);
  EXPECT_EQ(Bytes(w), std::string("\x01\x02", 2));
}

TEST(MsgpackWriter, CursorsWriteWhatTheWriterWrites) {
  MsgpackWriter plain(1);
  MsgpackWriter cursors(1);
  const std::string long_text(300, 'y');
  plain.Map(2);
  plain.Str(long_text);
  plain.Int(-70000);
  plain.Str(PackedStr("deny"));
  plain.Uint(1ull << 40);

  MsgpackWriter::Cursor checked = cursors.Open();
  checked.Map(2);
  checked.Str(long_text);
  cursors.Commit(checked);
  MsgpackWriter::Room room = cursors.OpenRoom(9 + 32 + 9);
  room.Int(-70000);
  room.Str(PackedStr("deny"));
  room.Uint(1ull << 40);
  cursors.Commit(room);
  EXPECT_EQ(Bytes(cursors), Bytes(plain));
}

}  // namespace
}  // namespace sandtrace::wire
