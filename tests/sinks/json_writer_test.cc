#include "sinks/json_writer.h"

#include <gtest/gtest.h>
#include <stdio.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <random>

#include "sinks/decimal.h"
#include "sinks/text_escape.h"
#include "tests/sinks/test_events.h"

namespace sandtrace::sinks {
namespace {

using testing::Array;
using testing::Bin;
using testing::IsValidJson;
using testing::Map;
using testing::ToObject;
using testing::Value;

std::string Json(const Value& value) { return ToJson(ToObject(value).get()); }

TEST(JsonWriterTest, ScalarsAndExactIntegers) {
  EXPECT_EQ(Json(nullptr), "null");
  EXPECT_EQ(Json(true), "true");
  EXPECT_EQ(Json(false), "false");
  EXPECT_EQ(Json(0), "0");
  EXPECT_EQ(Json(-1), "-1");
  EXPECT_EQ(Json(std::numeric_limits<int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(Json(std::numeric_limits<uint64_t>::max()), "18446744073709551615");
  EXPECT_EQ(Json(9223372036854775808ULL), "9223372036854775808");
}

TEST(JsonWriterTest, FloatsStayFloatsAndNonFiniteBecomesNull) {
  EXPECT_EQ(Json(1.5), "1.5");
  // msgpack-c packs integral doubles as integers, so build the float64 2.0 by hand.
  const char float64_two[] = {'\xcb', '\x40', 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(ToJson(msgpack::unpack(float64_two, sizeof float64_two).get()), "2.0");
  EXPECT_EQ(Json(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(Json(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_TRUE(IsValidJson(Json(1e300)));
  EXPECT_TRUE(IsValidJson(Json(-4.5e-300)));
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Json("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Json("line\nnext\ttab\rcr"), R"("line\nnext\ttab\rcr")");
  EXPECT_EQ(Json(std::string("\x01\x1b[31m\x7f", 7)), "\"\\u0001\\u001b[31m\x7f\"");
  EXPECT_EQ(Json(std::string("nul\0byte", 8)), R"("nul\u0000byte")");
  EXPECT_EQ(Json("/"), R"("/")");
}

TEST(JsonWriterTest, ValidUtf8PassesThrough) {
  const std::string text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
  EXPECT_EQ(Json(text), "\"" + text + "\"");
}

TEST(JsonWriterTest, InvalidBytesBecomeEscapedHexText) {
  EXPECT_EQ(Json(std::string("/tmp/\xff\xfe", 7)), R"("/tmp/\\xff\\xfe")");
  // Truncated sequence, overlong encoding, UTF-16 surrogate, beyond U+10FFFF, lone continuation.
  EXPECT_EQ(Json("\xc3"), R"("\\xc3")");
  EXPECT_EQ(Json("\xc0\xaf"), R"("\\xc0\\xaf")");
  EXPECT_EQ(Json("\xed\xa0\x80"), R"("\\xed\\xa0\\x80")");
  EXPECT_EQ(Json("\xf4\x90\x80\x80"), R"("\\xf4\\x90\\x80\\x80")");
  EXPECT_EQ(Json("a\x80z"), R"("a\\x80z")");
  EXPECT_EQ(Json("\xe2\x82"), R"("\\xe2\\x82")");
}

TEST(JsonWriterTest, BinValuesAreStringsWithTheSameRules) {
  EXPECT_EQ(Json(Bin{std::string("ok\xff\n", 4)}), R"("ok\\xff\n")");
}

TEST(JsonWriterTest, NestingKeepsKeyOrder) {
  const Value event = Map{{"z", 1},
                          {"a", Map{{"raw", Array{1, 2, 18446744073709551615ULL}},
                                    {"decoded", Map{{"path", "/x"}, {"argv", Array{}}}}}},
                          {"m", Map{}}};
  EXPECT_EQ(Json(event), R"({"z":1,"a":{"raw":[1,2,18446744073709551615],)"
                         R"("decoded":{"path":"/x","argv":[]}},"m":{}})");
}

TEST(JsonWriterTest, NonStringKeysBecomeStrings) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> p(buffer);
  p.pack_map(2);
  p.pack_int(7);
  p.pack_true();
  p.pack_nil();
  p.pack_int(-1);
  const msgpack::object_handle h = msgpack::unpack(buffer.data(), buffer.size());
  EXPECT_EQ(ToJson(h.get()), R"({"7":true,"null":-1})");
}

TEST(JsonWriterTest, DeepNestingIsCutOffWithNull) {
  Value v = 1;
  for (int i = 0; i < kMaxJsonDepth + 10; ++i) v = Array{v};
  const std::string json = Json(v);
  EXPECT_TRUE(IsValidJson(json));
  EXPECT_NE(json.find("null"), std::string::npos);
}

TEST(JsonWriterTest, EverySyntheticEventIsValidJson) {
  const std::vector<Value> events = {
      testing::SandboxEvent("0123456789abcdef0123456789abcdef"),
      testing::OpenatEvent(7, std::string("/tmp/\x80\xff\x01\"x\\", 11), "O_RDONLY", -2,
                           "file_read"),
      testing::ConnectEvent(7, "::1", 8080, -111),
      testing::ExecEvent(7, "/bin/\xc3\xa9", Array{"a\tb", Bin{"\xfe"}}),
      testing::AlertEvent(7, "ssh_keys", "high"),
      testing::SummaryEvent("0123456789abcdef0123456789abcdef", 3),
  };
  for (const Value& event : events) {
    const std::string json = Json(event);
    EXPECT_TRUE(IsValidJson(json)) << json;
  }
}

// An independent reader: Python's json module must read back the exact values.
TEST(JsonWriterTest, PythonReadsBackExactValues) {
  if (system("python3 -c '' 2>/dev/null") != 0) GTEST_SKIP() << "python3 not installed";
  const Value event = Map{{"big", 18446744073709551615ULL},
                          {"neg", std::numeric_limits<int64_t>::min()},
                          {"path", std::string("/a\xff\x01", 4)}};
  const std::string json = Json(event);
  const std::string script =
      "import json,sys; d=json.loads(sys.stdin.buffer.read().decode('utf-8', 'strict')); "
      "assert d['big']==2**64-1, d; assert d['neg']==-2**63, d; "
      "assert d['path']=='/a'+chr(92)+'xff'+chr(1), repr(d['path'])";
  FILE* pipe = popen(("python3 -c \"" + script + "\"").c_str(), "w");
  ASSERT_NE(pipe, nullptr);
  fwrite(json.data(), 1, json.size(), pipe);
  EXPECT_EQ(pclose(pipe), 0) << json;
}

// Arbitrary bytes (biased towards the interesting ones) always give valid JSON, and terminal
// text without a single control byte.
TEST(DecimalTest, SameDigitsAsToChars) {
  std::vector<uint64_t> values = {0, std::numeric_limits<uint64_t>::max()};
  for (uint64_t p = 1; p <= 10000000000000000000ULL; p *= 10) {
    values.insert(values.end(), {p - 1, p, p + 1});
    if (p > std::numeric_limits<uint64_t>::max() / 10) break;
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) values.push_back(rng() >> (rng() % 64));
  for (uint64_t v : values) {
    char want[24], got[24];
    const std::string_view a(want, static_cast<size_t>(std::to_chars(want, want + 24, v).ptr - want));
    EXPECT_EQ(std::string_view(got, static_cast<size_t>(WriteDecimal(v, got) - got)), a) << v;
    const int64_t s = static_cast<int64_t>(v);
    const std::string_view b(want, static_cast<size_t>(std::to_chars(want, want + 24, s).ptr - want));
    EXPECT_EQ(std::string_view(got, static_cast<size_t>(WriteDecimal(s, got) - got)), b) << s;
  }
}

TEST(TextEscapeTest, RandomBytesAlwaysComeOutSafe) {
  std::mt19937 rng(20261128);
  const unsigned char interesting[] = {0x00, 0x1b, 0x7f, 0x80, 0x9b, 0xbf, 0xc0, 0xc2, 0xe0, 0xed,
                                       0xef, 0xf0, 0xf4, 0xf5, 0xff, '"',  '\\', 'a',  '\n'};
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(rng() % 24, '\0');
    for (char& c : bytes) {
      c = static_cast<char>(rng() % 2 ? interesting[rng() % sizeof interesting] : rng() % 256);
    }
    std::string json;
    AppendJsonString(bytes, &json);
    ASSERT_TRUE(IsValidJson(json)) << json;
    std::string text;
    AppendEscaped(bytes, EscapeMode::kTerminal, &text);
    for (size_t i = 0; i < text.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(text[i]);
      ASSERT_FALSE(c < 0x20 || c == 0x7f) << text;
      ASSERT_FALSE(c == 0xc2 && i + 1 < text.size() &&
                   static_cast<unsigned char>(text[i + 1]) < 0xa0)
          << text;
    }
    for (size_t i = 0; i < text.size();) {
      const size_t n = Utf8SequenceLength(std::string_view(text).substr(i));
      ASSERT_GT(n, 0u) << "invalid UTF-8 in " << text;
      i += n;
    }
  }
}

TEST(TextEscapeTest, TerminalModeEscapesControlsAndC1) {
  std::string out;
  AppendEscaped("a\x1b[2J\xc2\x9b\x7f\xc3\xa9", EscapeMode::kTerminal, &out);
  EXPECT_EQ(out, "a\\x1b[2J\\xc2\\x9b\\x7f\xc3\xa9");
}

TEST(TextEscapeTest, Utf8SequenceLength) {
  EXPECT_EQ(Utf8SequenceLength("a"), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xc3\xa9"), 2u);
  EXPECT_EQ(Utf8SequenceLength("\xe2\x82\xac"), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x98\x80"), 4u);
  EXPECT_EQ(Utf8SequenceLength("\xc1\xbf"), 0u);
  EXPECT_EQ(Utf8SequenceLength("\xf5\x80\x80\x80"), 0u);
  EXPECT_EQ(Utf8SequenceLength(""), 0u);
}

}  // namespace
}  // namespace sandtrace::sinks

namespace sandtrace::sinks {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

// AppendFirstJsonFromMsgpack must give exactly AppendJson's text of the unpacked object.
void ExpectSameTranscoding(const msgpack::sbuffer& bytes) {
  const msgpack::object_handle object = msgpack::unpack(bytes.data(), bytes.size());
  TextBuffer from_bytes;
  from_bytes.Append("prefix");
  ASSERT_EQ(AppendFirstJsonFromMsgpack({bytes.data(), bytes.size()}, &from_bytes, nullptr),
            bytes.size());
  EXPECT_EQ(from_bytes.view(), "prefix" + ToJson(object.get()));
}

// A random MessagePack value of every kind, keys of every kind included.
void PackRandom(std::mt19937& rng, Packer& p, int depth) {
  const unsigned kind = rng() % (depth > 3 ? 9 : 11);
  const std::string text = [&] {
    std::string s(rng() % 20, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 3 == 0 ? rng() : 'a' + rng() % 26);
    return s;
  }();
  switch (kind) {
    case 0: p.pack_nil(); return;
    case 1: p.pack(rng() % 2 == 0); return;
    case 2: p.pack_uint64((static_cast<uint64_t>(rng()) << 32) | rng()); return;
    case 3: p.pack_int64(-static_cast<int64_t>(rng() % 100000)); return;
    case 4: p.pack_float(static_cast<float>(rng()) / 7.0f); return;
    case 5: p.pack_double(rng() % 2 ? static_cast<double>(rng()) : 1.0 / 0.0); return;
    case 6: p.pack(text); return;
    case 7:
      p.pack_bin(static_cast<uint32_t>(text.size()));
      p.pack_bin_body(text.data(), static_cast<uint32_t>(text.size()));
      return;
    case 8:
      p.pack_ext(text.size(), 5);
      p.pack_ext_body(text.data(), static_cast<uint32_t>(text.size()));
      return;
    case 9: {
      const uint32_t n = rng() % 5;
      p.pack_array(n);
      for (uint32_t i = 0; i < n; ++i) PackRandom(rng, p, depth + 1);
      return;
    }
    default: {
      const uint32_t n = rng() % 5;
      p.pack_map(n);
      for (uint32_t i = 0; i < n; ++i) {
        if (rng() % 3 == 0) {
          PackRandom(rng, p, depth + 1);  // a key that is not a string
        } else {
          p.pack(text + std::to_string(i));
        }
        PackRandom(rng, p, depth + 1);
      }
      return;
    }
  }
}

TEST(JsonFromMsgpackTest, SameTextAsTheObjectPath) {
  for (const Value& event :
       {testing::SandboxEvent("0123456789abcdef0123456789abcdef"),
        testing::OpenatEvent(7, "/etc/\xff\x01passwd\"", "O_RDONLY", -2, "file_read"),
        testing::ConnectEvent(8, "10.0.0.1", 443, 0), testing::ExecEvent(9, "/bin/ls", {"ls"}),
        testing::AlertEvent(7, "ssh_key", "high"), testing::SummaryEvent("x", 3)}) {
    msgpack::sbuffer bytes;
    Packer p(bytes);
    event.Pack(p);
    ExpectSameTranscoding(bytes);
  }
  std::mt19937 rng(3);
  for (int round = 0; round < 5000; ++round) {
    msgpack::sbuffer bytes;
    Packer p(bytes);
    PackRandom(rng, p, 0);
    ExpectSameTranscoding(bytes);
  }
}

TEST(JsonFromMsgpackTest, DeepNestingBecomesNullLikeTheObjectPath) {
  for (int depth : {kMaxJsonDepth - 1, kMaxJsonDepth, kMaxJsonDepth + 5}) {
    msgpack::sbuffer bytes;
    Packer p(bytes);
    for (int i = 0; i < depth; ++i) {
      p.pack_map(1);
      p.pack_array(1);  // a key nested as deep as the values
      p.pack_int(i);
    }
    p.pack_int(1);
    ExpectSameTranscoding(bytes);
  }
}

TEST(JsonFromMsgpackTest, MalformedInputIsAnError) {
  msgpack::sbuffer bytes;
  Packer p(bytes);
  testing::OpenatEvent(7, "/etc/passwd", "O_RDONLY", -2, "file_read").Pack(p);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    std::unique_ptr<char[]> copy(new char[cut + 1]);
    std::memcpy(copy.get(), bytes.data(), cut);
    TextBuffer out;
    EXPECT_EQ(AppendFirstJsonFromMsgpack({copy.get(), cut}, &out, nullptr), 0u) << "cut at " << cut;
  }
  TextBuffer out;
  EXPECT_EQ(AppendFirstJsonFromMsgpack(std::string_view("\xc1", 1), &out, nullptr), 0u);
  // Of two values, only the first is taken.
  EXPECT_EQ(AppendFirstJsonFromMsgpack(std::string_view("\x01\x02", 2), &out, nullptr), 1u);
}

// A key that is a map whose key is a map, and so on: each level's text would be escaped once
// more inside the next, doubling it. Keys inside keys are "null" instead.
TEST(JsonFromMsgpackTest, KeysNestedInKeysStayShort) {
  msgpack::sbuffer bytes;
  Packer p(bytes);
  constexpr int kLevels = 40;
  for (int i = 0; i < kLevels; ++i) p.pack_map(1);  // each map's key is the next map
  p.pack("k");
  p.pack("v");
  for (int i = 1; i < kLevels; ++i) p.pack(i);  // the values, innermost first
  const msgpack::object_handle object = msgpack::unpack(bytes.data(), bytes.size());
  const std::string json = ToJson(object.get());
  EXPECT_EQ(json, R"({"{\"null\":38}":39})");
  ExpectSameTranscoding(bytes);
  // One level is still written in full.
  msgpack::sbuffer one;
  Packer q(one);
  q.pack_map(1);
  q.pack_map(1);
  q.pack("k");
  q.pack(1);
  q.pack(2);
  EXPECT_EQ(ToJson(msgpack::unpack(one.data(), one.size()).get()), R"({"{\"k\":1}":2})");
}

// Keeps the first value each key was told with, as its JSON.
class FirstEntries : public MapEntryVisitor {
 public:
  uint8_t Interest(std::string_view) const override { return 1; }
  void Entry(uint8_t, std::string_view key, const char* value, const char* end) override {
    ++told;
    size_t used = 0;
    const msgpack::object_handle object = msgpack::unpack(value, end - value, used);
    entries.emplace(std::string(key), ToJson(object.get()));  // keeps an existing key's value
  }
  std::map<std::string, std::string> entries;
  int told = 0;
};

// The outermost map's str keys, in one pass with the text, on the fast path and on the object
// path (a key that is neither str nor bin) alike; a second value follows the first.
TEST(JsonFromMsgpackTest, VisitorIsToldTheOutermostStrEntries) {
  for (bool int_key : {false, true}) {
    msgpack::sbuffer bytes;
    Packer p(bytes);
    p.pack_map(int_key ? 6 : 5);
    p.pack("a");
    p.pack(1);
    p.pack("nested");
    p.pack_map(1);
    p.pack("inner");
    p.pack(2);
    if (int_key) {
      p.pack(5);
      p.pack("int key");
    }
    p.pack_bin(1);
    p.pack_bin_body("c", 1);
    p.pack(3);
    p.pack(std::string(40, 'k'));  // a str8 key
    p.pack("long");
    p.pack("a");  // a second "a": the first is the one a reader sees
    p.pack(4);
    const size_t first = bytes.size();
    p.pack(7);

    FirstEntries visitor;
    TextBuffer out;
    EXPECT_EQ(AppendFirstJsonFromMsgpack({bytes.data(), bytes.size()}, &out, &visitor), first);
    const std::map<std::string, std::string> expected = {
        {"a", "1"}, {"nested", R"({"inner":2})"}, {std::string(40, 'k'), R"("long")"}};
    EXPECT_EQ(visitor.entries, expected) << "int_key " << int_key;
    EXPECT_GE(visitor.told, 4);
    const msgpack::object_handle object = msgpack::unpack(bytes.data(), first);
    EXPECT_EQ(out.view(), ToJson(object.get()));
  }
}

// Through one JsonKeyCache, a stream of events of changing shapes (keys that come and go, keys
// of the same prefix and other lengths, keys that need escaping, 15- and 16-byte keys, keys in
// the last 16 bytes of the input) gives exactly the text without the cache.
TEST(JsonKeyCacheTest, CachedKeysGiveTheSameText) {
  std::mt19937 rng(11);
  const std::vector<std::string> keys = {"pid",
                                         "pidx",
                                         "pi",
                                         "a\"b",
                                         "tab\tkey",
                                         std::string(15, 'k'),
                                         std::string(16, 'k'),
                                         std::string(14, 'k') + "\x01",
                                         "event_type",
                                         "event_typf",
                                         "",
                                         "caf\xc3\xa9",
                                         "\xff"};
  JsonKeyCache cache;
  for (int round = 0; round < 3000; ++round) {
    msgpack::sbuffer bytes;
    Packer p(bytes);
    const uint32_t n = rng() % 6;
    p.pack_map(n);
    for (uint32_t i = 0; i < n; ++i) {
      p.pack(keys[rng() % keys.size()]);
      if (rng() % 4 == 0) {
        p.pack_map(2);
        p.pack(keys[rng() % keys.size()]);
        p.pack(static_cast<int>(rng() % 100));
        p.pack(keys[rng() % keys.size()]);
        p.pack("v");
      } else {
        p.pack(static_cast<int>(i));
      }
    }
    const msgpack::object_handle object = msgpack::unpack(bytes.data(), bytes.size());
    TextBuffer cached;
    ASSERT_EQ(AppendFirstJsonFromMsgpack({bytes.data(), bytes.size()}, &cached, nullptr, &cache),
              bytes.size());
    ASSERT_EQ(cached.view(), ToJson(object.get())) << "round " << round;
  }
  // Random values of every kind, keys of every kind included, through the same cache.
  for (int round = 0; round < 3000; ++round) {
    msgpack::sbuffer bytes;
    Packer p(bytes);
    PackRandom(rng, p, 0);
    const msgpack::object_handle object = msgpack::unpack(bytes.data(), bytes.size());
    TextBuffer cached;
    ASSERT_EQ(AppendFirstJsonFromMsgpack({bytes.data(), bytes.size()}, &cached, nullptr, &cache),
              bytes.size());
    ASSERT_EQ(cached.view(), ToJson(object.get())) << "random round " << round;
  }
}

// Counts what it is asked and told; wants the keys that start with 'w'.
class CountingVisitor : public MapEntryVisitor {
 public:
  uint8_t Interest(std::string_view key) const override {
    ++asked;
    return !key.empty() && key[0] == 'w' ? 7 : 0;
  }
  void Entry(uint8_t interest, std::string_view key, const char*, const char*) override {
    EXPECT_EQ(interest, 7);
    told.emplace_back(key);
  }
  mutable int asked = 0;
  std::vector<std::string> told;
};

// With a cache, the visitor's Interest in a key is asked once per key position, and Entry is
// still told every wanted entry of every event, in order.
TEST(JsonKeyCacheTest, InterestIsAskedOnceAndEntriesAreAllTold) {
  JsonKeyCache cache;
  CountingVisitor visitor;
  for (int event = 0; event < 50; ++event) {
    msgpack::sbuffer bytes;
    Packer p(bytes);
    p.pack_map(4);
    p.pack("want");
    p.pack(event);
    p.pack("skip");
    p.pack(true);
    p.pack("nested");
    p.pack_map(1);
    p.pack("wanted_inside");  // a nested map's key: never told
    p.pack(1);
    p.pack(event % 2 == 0 ? "wide" : "narrow");  // two keys taking turns at one position
    p.pack("x");
    p.pack(std::string(16, ' '));  // the next value: 16 readable bytes after the last key
    TextBuffer out;
    AppendFirstJsonFromMsgpack({bytes.data(), bytes.size()}, &out, &visitor, &cache);
  }
  // want, skip, nested, wide and narrow: each asked once.
  EXPECT_EQ(visitor.asked, 5);
  std::vector<std::string> expected;
  for (int event = 0; event < 50; ++event) {
    expected.push_back("want");
    if (event % 2 == 0) expected.push_back("wide");
  }
  EXPECT_EQ(visitor.told, expected);
}

}  // namespace
}  // namespace sandtrace::sinks
