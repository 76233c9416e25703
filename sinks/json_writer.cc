#include "sinks/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "common/wire/msgpack_reader.h"
#include "sinks/text_escape.h"

namespace sandtrace::sinks {
namespace {

constexpr size_t kMaxScalarBytes = 32;  // "-9223372036854775808", a double plus ".0"

// Writes JSON through a raw pointer into a TextBuffer, checking for room once per value
// rather than once per byte.
class JsonEmitter {
 public:
  explicit JsonEmitter(TextBuffer* buffer)
      : buffer_(buffer), out_(buffer->Reserve(kMaxScalarBytes)), limit_(buffer->limit()) {}
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

  // The same text as Value() of the unpacked object, straight from the MessagePack bytes:
  // `item` was just read from `in`, its elements (if any) follow. False when they are cut or
  // malformed.
  bool Encoded(wire::MsgpackReader* in, const wire::MsgpackItem& item, int depth) {
    using wire::MsgpackKind;
    switch (item.kind) {
      case MsgpackKind::kNil:
        Literal("null", 4);
        return true;
      case MsgpackKind::kBool:
        item.boolean ? Literal("true", 4) : Literal("false", 5);
        return true;
      case MsgpackKind::kUint:
        Integer(item.u64);
        return true;
      case MsgpackKind::kInt:
        Integer(item.i64);
        return true;
      case MsgpackKind::kFloat32:
        Float(static_cast<float>(item.f64));
        return true;
      case MsgpackKind::kFloat64:
        Float(item.f64);
        return true;
      case MsgpackKind::kStr:
      case MsgpackKind::kBin:
      case MsgpackKind::kExt:
        String(item.text());
        return true;
      case MsgpackKind::kArray:
        if (depth >= kMaxJsonDepth) break;
        return EncodedArray(in, item.size, depth);
      case MsgpackKind::kMap:
        if (depth >= kMaxJsonDepth) break;
        return EncodedMap(in, item.size, depth);
    }
    Literal("null", 4);
    return in->SkipElements(item);
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
    out_ = std::to_chars(out_, out_ + kMaxScalarBytes, value).ptr;
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

  bool EncodedArray(wire::MsgpackReader* in, uint32_t size, int depth) {
    Char('[');
    wire::MsgpackItem item;
    for (uint32_t i = 0; i < size; ++i) {
      if (i > 0) Char(',');
      if (!in->Next(&item) || !Encoded(in, item, depth + 1)) return false;
    }
    Char(']');
    return true;
  }

  bool EncodedMap(wire::MsgpackReader* in, uint32_t size, int depth) {
    Char('{');
    wire::MsgpackItem item;
    for (uint32_t i = 0; i < size; ++i) {
      if (!in->Next(&item)) return false;
      if (item.kind == wire::MsgpackKind::kStr) {
        StringKey(item.text(), i > 0);
      } else {
        if (i > 0) Char(',');
        if (!EncodedKey(in, item, depth + 1)) return false;
        Char(':');
      }
      if (!in->Next(&item) || !Encoded(in, item, depth + 1)) return false;
    }
    Char('}');
    return true;
  }

  // Key() for a key read from MessagePack bytes.
  bool EncodedKey(wire::MsgpackReader* in, const wire::MsgpackItem& key, int depth) {
    if (key.kind == wire::MsgpackKind::kBin) return Encoded(in, key, depth);
    TextBuffer text;
    {
      JsonEmitter nested(&text);
      if (!nested.Encoded(in, key, depth)) return false;
    }
    String(text.view());
    return true;
  }

  // A map key must be a JSON string: other keys are written as the string of their JSON.
  void Key(const msgpack::object& key, int depth) {
    if (key.type == msgpack::type::STR || key.type == msgpack::type::BIN) {
      return Value(key, depth);
    }
    TextBuffer text;
    {
      JsonEmitter nested(&text);
      nested.Value(key, depth);
    }
    String(text.view());
  }

  TextBuffer* buffer_;
  char* out_;
  char* limit_;
};

}  // namespace

void AppendJson(const msgpack::object& object, TextBuffer* out) {
  JsonEmitter emitter(out);
  emitter.Value(object, 0);
}

bool AppendJsonFromMsgpack(std::string_view msgpack, TextBuffer* out) {
  wire::MsgpackReader in(msgpack.data(), msgpack.size());
  wire::MsgpackItem item;
  bool ok;
  {
    JsonEmitter emitter(out);
    ok = in.Next(&item) && emitter.Encoded(&in, item, 0);
  }
  return ok && in.at_end();
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
