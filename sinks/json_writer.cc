#include "sinks/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "common/wire/msgpack_reader.h"
#include "sinks/decimal.h"
#include "sinks/text_escape.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sandtrace::sinks {
namespace {

constexpr size_t kMaxScalarBytes = 32;  // "-9223372036854775808", a double plus ".0"

// Writes JSON through a raw pointer into a TextBuffer, checking for room once per value
// rather than once per byte.
class JsonEmitter {
 public:
  // `in_key`: the text is that of a map key that is not a string (see Key()).
  explicit JsonEmitter(TextBuffer* buffer, bool in_key = false)
      : buffer_(buffer),
        out_(buffer->Reserve(kMaxScalarBytes)),
        limit_(buffer->limit()),
        in_key_(in_key) {}
  ~JsonEmitter() { buffer_->Commit(out_); }

  void Value(const msgpack::object& o, int depth) {
    switch (o.type) {
      case msgpack::type::NIL:
        return Literal("null", 4);
      case msgpack::type::BOOLEAN:
        return o.via.boolean ? Literal("true", 4) : Literal("false", 5);
      case msgpack::type::POSITIVE_INTEGER:
        return Integer(o.via.u64);
      case msgpack::type::NEGATIVE_INTEGER:
        return Integer(o.via.i64);
      case msgpack::type::FLOAT32:
        return Float(static_cast<float>(o.via.f64));
      case msgpack::type::FLOAT64:
        return Float(o.via.f64);
      case msgpack::type::STR:
        return String({o.via.str.ptr, o.via.str.size});
      case msgpack::type::BIN:
        return String({o.via.bin.ptr, o.via.bin.size});
      case msgpack::type::EXT:
        return String({o.via.ext.ptr, o.via.ext.size});
      case msgpack::type::ARRAY:
        if (depth >= kMaxJsonDepth) break;
        return Array(o, depth);
      case msgpack::type::MAP:
        if (depth >= kMaxJsonDepth) break;
        return Map(o, depth);
    }
    Literal("null", 4);
  }

  void String(std::string_view bytes) {
    Ensure(2 + kMaxEscapedBytesPerByte * bytes.size());
    *out_++ = '"';
    out_ = WriteEscaped(bytes, EscapeMode::kJson, out_);
    *out_++ = '"';
  }

 private:
  void Ensure(size_t bytes) {
    if (static_cast<size_t>(limit_ - out_) >= bytes) return;
    buffer_->Commit(out_);
    out_ = buffer_->Reserve(bytes);
    limit_ = buffer_->limit();
  }

  void Literal(const char* text, size_t size) {
    Ensure(size);
    std::memcpy(out_, text, size);
    out_ += size;
  }

  void Char(char c) {
    Ensure(1);
    *out_++ = c;
  }

  template <typename Int>
  void Integer(Int value) {
    Ensure(kMaxScalarBytes);
    out_ = WriteDecimal(value, out_);
  }

  // Shortest text that reads back as the same value; keeps a ".0" so readers see a float.
  template <typename FloatType>
  void Float(FloatType value) {
    if (!std::isfinite(value)) return Literal("null", 4);
    Ensure(kMaxScalarBytes);
    char* start = out_;
    out_ = std::to_chars(out_, out_ + kMaxScalarBytes - 2, value).ptr;
    if (std::string_view(start, static_cast<size_t>(out_ - start)).find_first_of(".e") ==
        std::string_view::npos) {
      *out_++ = '.';
      *out_++ = '0';
    }
  }

  void Array(const msgpack::object& o, int depth) {
    Char('[');
    for (uint32_t i = 0; i < o.via.array.size; ++i) {
      if (i > 0) Char(',');
      Value(o.via.array.ptr[i], depth + 1);
    }
    Char(']');
  }

  void Map(const msgpack::object& o, int depth) {
    Char('{');
    for (uint32_t i = 0; i < o.via.map.size; ++i) {
      const msgpack::object_kv& kv = o.via.map.ptr[i];
      if (kv.key.type == msgpack::type::STR) {
        StringKey({kv.key.via.str.ptr, kv.key.via.str.size}, i > 0);
      } else {
        if (i > 0) Char(',');
        Key(kv.key, depth + 1);
        Char(':');
      }
      Value(kv.val, depth + 1);
    }
    Char('}');
  }

  // The common key, a string: `,"key":` (without the comma for the first) with one check for
  // room, the same bytes as Char(','), String(key), Char(':').
  void StringKey(std::string_view key, bool comma) {
    Ensure(4 + kMaxEscapedBytesPerByte * key.size());
    *out_ = ',';
    out_ += comma;
    *out_++ = '"';
    out_ = WriteEscaped(key, EscapeMode::kJson, out_);
    *out_++ = '"';
    *out_++ = ':';
  }

  // A map key must be a JSON string: other keys are written as the string of their JSON. Such
  // a key inside the text of another is written as "null": escaped once more per level, the
  // text of keys nested in keys would double in length at each.
  void Key(const msgpack::object& key, int depth) {
    if (key.type == msgpack::type::STR || key.type == msgpack::type::BIN) {
      return Value(key, depth);
    }
    if (in_key_) return Literal("\"null\"", 6);
    TextBuffer text;
    {
      JsonEmitter nested(&text, true);
      nested.Value(key, depth);
    }
    String(text.view());
  }

  TextBuffer* buffer_;
  char* out_;
  char* limit_;
  bool in_key_;
};

// The JSON text of one MessagePack value straight from its bytes: the JSONL sink's hot path,
// one call per event. It writes exactly JsonEmitter's text, but reserves room for the worst
// case once (kMaxOutputPerByte bytes per input byte, plus kSlack) and then writes through a raw
// pointer without checking for room per value. What it leaves to JsonEmitter of the unpacked
// object (a map key that is neither a string nor bin, whose JSON text would have to be escaped
// again) it reports as kUnsupported.
class BytesToJson {
 public:
  enum Result { kDone, kMalformed, kUnsupported };

  // Every input byte becomes at most 6 output bytes: an escaped string byte ("\u00XX"), or a
  // one-byte value with its separator ("false,"); longer items need less per byte.
  static constexpr size_t kMaxOutputPerByte = 6;
  // Room for over-long stores: a string is copied in whole 16-byte blocks, a cached key's
  // text as 32 bytes.
  static constexpr size_t kSlack = 64;
  // The longest string copied in blocks; longer ones (rare: long paths) go through
  // WriteEscaped, which need not start over when it meets a byte to escape.
  static constexpr size_t kMaxBlockCopy = 64;

  // `visitor` (may be null) is told the entries of the outermost map; `keys` (may be null)
  // holds the text of keys seen before.
  BytesToJson(const char* begin, const char* end, char* out, MapEntryVisitor* visitor,
              JsonKeyCache* keys)
      : p_(reinterpret_cast<const uint8_t*>(begin)),
        end_(reinterpret_cast<const uint8_t*>(end)),
        out_(out),
        visitor_(visitor),
        keys_(keys) {}

  Result Value(int depth) {
    if (p_ >= end_) return kMalformed;
    const uint8_t b = *p_++;
    if (b <= 0x7f) return Unsigned(b);
    if (b >= 0xe0) return Signed(static_cast<int8_t>(b));
    if (b >= 0xa0 && b <= 0xbf) return Text(b & 0x1f);
    if (b <= 0x8f) return Map(b & 0x0f, depth);
    if (b <= 0x9f) return Array(b & 0x0f, depth);
    switch (b) {
      case 0xc0: return Literal("null", 4);
      case 0xc2: return Literal("false", 5);
      case 0xc3: return Literal("true", 4);
      case 0xc4: return SizedText<uint8_t>();
      case 0xc5: return SizedText<uint16_t>();
      case 0xc6: return SizedText<uint32_t>();
      case 0xc7: return SizedExt<uint8_t>();
      case 0xc8: return SizedExt<uint16_t>();
      case 0xc9: return SizedExt<uint32_t>();
      case 0xca: {
        uint32_t bits;
        if (!Fixed(&bits)) return kMalformed;
        float f;
        std::memcpy(&f, &bits, sizeof f);
        return Float(f);
      }
      case 0xcb: {
        uint64_t bits;
        if (!Fixed(&bits)) return kMalformed;
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return Float(d);
      }
      case 0xcc: { uint8_t v; return Fixed(&v) ? Unsigned(v) : kMalformed; }
      case 0xcd: { uint16_t v; return Fixed(&v) ? Unsigned(v) : kMalformed; }
      case 0xce: { uint32_t v; return Fixed(&v) ? Unsigned(v) : kMalformed; }
      case 0xcf: { uint64_t v; return Fixed(&v) ? Unsigned(v) : kMalformed; }
      case 0xd0: { uint8_t v; return Fixed(&v) ? Signed(static_cast<int8_t>(v)) : kMalformed; }
      case 0xd1: { uint16_t v; return Fixed(&v) ? Signed(static_cast<int16_t>(v)) : kMalformed; }
      case 0xd2: { uint32_t v; return Fixed(&v) ? Signed(static_cast<int32_t>(v)) : kMalformed; }
      case 0xd3: { uint64_t v; return Fixed(&v) ? Signed(static_cast<int64_t>(v)) : kMalformed; }
      case 0xd4: return Ext(1);
      case 0xd5: return Ext(2);
      case 0xd6: return Ext(4);
      case 0xd7: return Ext(8);
      case 0xd8: return Ext(16);
      case 0xd9: return SizedText<uint8_t>();
      case 0xda: return SizedText<uint16_t>();
      case 0xdb: return SizedText<uint32_t>();
      case 0xdc: { uint16_t n; return Fixed(&n) ? Array(n, depth) : kMalformed; }
      case 0xdd: { uint32_t n; return Fixed(&n) ? Array(n, depth) : kMalformed; }
      case 0xde: { uint16_t n; return Fixed(&n) ? Map(n, depth) : kMalformed; }
      case 0xdf: { uint32_t n; return Fixed(&n) ? Map(n, depth) : kMalformed; }
      default: return kMalformed;  // 0xc1, never used
    }
  }

  const char* pos() const { return reinterpret_cast<const char*>(p_); }
  char* out() const { return out_; }

 private:
  Result Literal(const char* text, size_t size) {
    std::memcpy(out_, text, size);
    out_ += size;
    return kDone;
  }

  template <typename Int>
  Result Unsigned(Int v) {
    out_ = WriteDecimal(static_cast<uint64_t>(v), out_);
    return kDone;
  }
  Result Signed(int64_t v) {
    out_ = WriteDecimal(v, out_);
    return kDone;
  }

  template <typename FloatType>
  Result Float(FloatType value) {
    if (!std::isfinite(value)) return Literal("null", 4);
    char* start = out_;
    out_ = std::to_chars(out_, out_ + kMaxScalarBytes - 2, value).ptr;
    if (std::string_view(start, static_cast<size_t>(out_ - start)).find_first_of(".e") ==
        std::string_view::npos) {
      *out_++ = '.';
      *out_++ = '0';
    }
    return kDone;
  }

  template <typename T>
  bool Fixed(T* value) {
    if (static_cast<size_t>(end_ - p_) < sizeof(T)) return false;
    *value = wire::LoadBigEndian<T>(p_);
    p_ += sizeof(T);
    return true;
  }

  // A string (str or bin) of `size` bytes at p_, quoted and escaped.
  Result Text(size_t size) {
    if (static_cast<size_t>(end_ - p_) < size) return kMalformed;
    last_text_ = {reinterpret_cast<const char*>(p_), size};
    out_ = WriteString(p_, size);
    p_ += size;
    return kDone;
  }
  template <typename T>
  Result SizedText() {
    T size;
    return Fixed(&size) ? Text(size) : kMalformed;
  }
  // EXT as JsonEmitter writes it: the type byte and the data but its last byte (msgpack-c's
  // view of an ext: ptr at the type byte, size of the data).
  Result Ext(size_t size) {
    if (static_cast<size_t>(end_ - p_) < size + 1) return kMalformed;
    out_ = WriteString(p_, size);
    p_ += size + 1;
    return kDone;
  }
  template <typename T>
  Result SizedExt() {
    T size;
    return Fixed(&size) ? Ext(size) : kMalformed;
  }

  // `"text"` at out_. A string of at most kMaxBlockCopy bytes whose 16-byte blocks are readable
  // (true of every key and most values inside a batch) and hold no byte to escape is copied
  // block by block; a string of one block without a call.
  char* WriteString(const uint8_t* text, size_t size) {
    char* out = out_;
    *out++ = '"';
#if defined(__SSE2__)
    const size_t readable = static_cast<size_t>(end_ - text);
    if (size <= 16 && readable >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text));
      if ((ToEscape(v) & ((1u << size) - 1)) == 0) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out), v);
        out += size;
        *out++ = '"';
        return out;
      }
    } else if (size <= kMaxBlockCopy && readable >= (size + 15) / 16 * 16) {
      if (char* copied = CopyPlainBlocks(text, size, out)) {
        *copied++ = '"';
        return copied;
      }
    }
#endif
    out = WriteEscaped({reinterpret_cast<const char*>(text), size}, EscapeMode::kJson, out);
    *out++ = '"';
    return out;
  }

#if defined(__SSE2__)
  // A bit for each byte of `v` that JSON text must not hold as it is (control bytes, '"', '\\',
  // DEL and every byte >= 0x80, which WriteEscaped checks as UTF-8).
  static unsigned ToEscape(__m128i v) {
    __m128i special = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));  // also every byte >= 0x80
    special = _mm_or_si128(special, _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
    special = _mm_or_si128(special, _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    special = _mm_or_si128(special, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
    return static_cast<unsigned>(_mm_movemask_epi8(special));
  }

  // Copies `size` bytes, in whole 16-byte blocks (all readable), to `out` and returns the end of
  // the copy; null when a byte needs escaping.
  [[gnu::noinline]] static char* CopyPlainBlocks(const uint8_t* text, size_t size, char* out) {
    for (size_t done = 0; done < size; done += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text + done));
      unsigned found = ToEscape(v);
      if (size - done < 16) found &= (1u << (size - done)) - 1;
      if (found != 0) return nullptr;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + done), v);
    }
    return out + size;
  }
#endif

  // Containers stay out of line: inlined into Value, they would give every scalar's Value
  // call their larger frame.
  [[gnu::noinline]] Result Array(uint32_t size, int depth) {
    if (depth >= kMaxJsonDepth) return SkipNested(wire::MsgpackKind::kArray, size);
    *out_++ = '[';
    for (uint32_t i = 0; i < size; ++i) {
      if (i > 0) *out_++ = ',';
      if (Result r = Element(depth + 1); r != kDone) return r;
    }
    *out_++ = ']';
    return kDone;
  }

  [[gnu::noinline]] Result Map(uint32_t size, int depth) {
    if (depth >= kMaxJsonDepth) return SkipNested(wire::MsgpackKind::kMap, size);
    *out_++ = '{';
    MapEntryVisitor* visitor = depth == 0 ? visitor_ : nullptr;
    for (uint32_t i = 0; i < size; ++i) {
      if (i > 0) *out_++ = ',';
      const size_t position = depth == 0 ? JsonKeyCache::OuterPosition(i)
                                         : JsonKeyCache::NestedPosition(nested_keys_++);
      if (Result r = KeyAndColon(position, visitor); r != kDone) return r;
      if (Result r = Element(depth + 1); r != kDone) return r;
    }
    *out_++ = '}';
    return kDone;
  }

  // A value inside a container: the common scalars (small integers, uint64, short strings,
  // booleans) here, the rest through Value, whose larger frame they would pay on every call.
  Result Element(int depth) {
    if (end_ - p_ >= 9) {
      const uint8_t b = *p_;
      if (b <= 0x7f) {
        ++p_;
        return Unsigned(b);
      }
      if (b >= 0xa0 && b <= 0xbf) {
        ++p_;
        return Text(b & 0x1f);
      }
      if (b == 0xcf) {
        const uint64_t v = wire::LoadBigEndian<uint64_t>(p_ + 1);
        p_ += 9;
        return Unsigned(v);
      }
      if (b == 0xc2 || b == 0xc3) {
        ++p_;
        return b == 0xc3 ? Literal("true", 4) : Literal("false", 5);
      }
    }
    return Value(depth);
  }

  // A map key and its ':', from the key cache when the key's position there (a JsonKeyCache
  // position) holds it, and into it otherwise. `visitor` (may be null) is told the entry when
  // the key is a str.
  Result KeyAndColon(size_t position, MapEntryVisitor* visitor) {
    if (p_ >= end_) return kMalformed;
    const uint8_t header = *p_;
    const bool cacheable = keys_ != nullptr && position != JsonKeyCache::kNoPosition &&
                           JsonKeyCache::Cacheable(header) && end_ - p_ >= 16;
    if (cacheable) {
      if (JsonKeyCache::Entry* hit = keys_->Find(position, p_)) {
        std::memcpy(out_, hit->text, sizeof hit->text);
        out_ += hit->text_size;
        const std::string_view key(reinterpret_cast<const char*>(p_) + 1, header & 0x0f);
        p_ += 1 + key.size();
        if (visitor != nullptr) Visit(visitor, key, &hit->interest);
        return kDone;
      }
    }
    const uint8_t* key_start = p_;
    char* text_start = out_;
    if (Result r = Key(); r != kDone) return r;
    *out_++ = ':';
    JsonKeyCache::Entry* added = nullptr;
    if (cacheable) {
      added = keys_->Replace(position);
      if (!JsonKeyCache::Remember(added, key_start,
                                  {text_start, static_cast<size_t>(out_ - text_start)})) {
        added = nullptr;
      }
    }
    // A str key (not a bin one), as MsgpackReader reads keys: its text is the last one read.
    if (visitor != nullptr &&
        ((header >= 0xa0 && header <= 0xbf) || (header >= 0xd9 && header <= 0xdb))) {
      int16_t not_kept = JsonKeyCache::kNotAsked;
      Visit(visitor, last_text_, added != nullptr ? &added->interest : &not_kept);
    }
    return kDone;
  }

  // Tells `visitor` the entry whose value starts at p_, if it wants that key; `interest` is
  // the remembered answer of Interest(key), asked now if it was not yet.
  void Visit(MapEntryVisitor* visitor, std::string_view key, int16_t* interest) {
    if (*interest == JsonKeyCache::kNotAsked) *interest = visitor->Interest(key);
    if (*interest > 0) {
      visitor->Entry(static_cast<uint8_t>(*interest), key, pos(),
                     reinterpret_cast<const char*>(end_));
    }
  }

  // A str or bin key is written as its string; other keys are left to JsonEmitter.
  Result Key() {
    if (p_ >= end_) return kMalformed;
    const uint8_t b = *p_;
    if (b >= 0xa0 && b <= 0xbf) {
      ++p_;
      return Text(b & 0x1f);
    }
    switch (b) {
      case 0xc4: case 0xd9: ++p_; return SizedText<uint8_t>();
      case 0xc5: case 0xda: ++p_; return SizedText<uint16_t>();
      case 0xc6: case 0xdb: ++p_; return SizedText<uint32_t>();
      default: return kUnsupported;
    }
  }

  // A container nested too deep: null, its contents checked and skipped.
  Result SkipNested(wire::MsgpackKind kind, uint32_t size) {
    wire::MsgpackReader in(pos(), reinterpret_cast<const char*>(end_));
    wire::MsgpackItem item;
    item.kind = kind;
    item.size = size;
    if (!in.SkipElements(item)) return kMalformed;
    p_ = reinterpret_cast<const uint8_t*>(in.pos());
    return Literal("null", 4);
  }

  const uint8_t* p_;
  const uint8_t* end_;
  char* out_;
  MapEntryVisitor* visitor_;
  JsonKeyCache* keys_;
  size_t nested_keys_ = 0;      // keys of nested maps so far, for their JsonKeyCache positions
  std::string_view last_text_;  // the last str or bin Text() wrote
};

// Tells `visitor` the entries of the map that `value` starts with, as BytesToJson does (for a
// value that went through the object path). `value` is known to be well-formed.
void VisitMapEntries(std::string_view value, MapEntryVisitor* visitor) {
  wire::MsgpackReader in(value.data(), value.data() + value.size());
  wire::MsgpackItem map;
  if (!in.Next(&map) || map.kind != wire::MsgpackKind::kMap) return;
  for (uint32_t i = 0; i < map.size; ++i) {
    wire::MsgpackItem key;
    if (!in.Next(&key) || !in.SkipElements(key)) return;
    if (key.kind == wire::MsgpackKind::kStr) {
      if (const uint8_t interest = visitor->Interest(key.text()); interest > 0) {
        visitor->Entry(interest, key.text(), in.pos(), in.end());
      }
    }
    wire::MsgpackItem item;
    if (!in.Next(&item) || !in.SkipElements(item)) return;
  }
}

}  // namespace

void AppendJson(const msgpack::object& object, TextBuffer* out) {
  JsonEmitter emitter(out);
  emitter.Value(object, 0);
}

size_t AppendFirstJsonFromMsgpack(std::string_view msgpack, TextBuffer* out,
                                  MapEntryVisitor* visitor, JsonKeyCache* keys) {
  char* room = out->Reserve(BytesToJson::kMaxOutputPerByte * msgpack.size() + BytesToJson::kSlack);
  BytesToJson fast(msgpack.data(), msgpack.data() + msgpack.size(), room, visitor, keys);
  switch (fast.Value(0)) {
    case BytesToJson::kDone:
      out->Commit(fast.out());
      return static_cast<size_t>(fast.pos() - msgpack.data());
    case BytesToJson::kMalformed:
      out->Commit(fast.out());
      return 0;
    case BytesToJson::kUnsupported:
      break;
  }
  // A map key that is neither str nor bin (never in the analyser's events): the object path,
  // whose text BytesToJson gives for everything else. The entries the visitor was told before
  // the key are told again: a visitor keeps the first of each.
  out->Commit(room);
  // Checked first, so that msgpack-c never allocates for a container longer than the bytes.
  wire::MsgpackReader in(msgpack.data(), msgpack.data() + msgpack.size());
  wire::MsgpackItem item;
  if (!in.Next(&item) || !in.SkipElements(item)) return 0;  // malformed or cut
  const size_t used = static_cast<size_t>(in.pos() - msgpack.data());
  msgpack::object_handle object;
  try {
    object = msgpack::unpack(msgpack.data(), used);
  } catch (const std::exception&) {
    return 0;
  }
  AppendJson(object.get(), out);
  if (visitor != nullptr) VisitMapEntries(msgpack.substr(0, used), visitor);
  return used;
}

void AppendJson(const msgpack::object& object, std::string* out) {
  TextBuffer text;
  AppendJson(object, &text);
  out->append(text.view());
}

void AppendJsonString(std::string_view bytes, TextBuffer* out) {
  JsonEmitter emitter(out);
  emitter.String(bytes);
}

void AppendJsonString(std::string_view bytes, std::string* out) {
  TextBuffer text;
  AppendJsonString(bytes, &text);
  out->append(text.view());
}

std::string ToJson(const msgpack::object& object) {
  std::string out;
  AppendJson(object, &out);
  return out;
}

}  // namespace sandtrace::sinks
