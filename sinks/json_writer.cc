#include "sinks/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "sinks/text_escape.h"

namespace sandtrace::sinks {
namespace {

// Output bounds. Writing happens in two passes: an upper bound of the JSON size (no byte
// scanning), then the text itself through a raw pointer, without a capacity check per byte.
constexpr size_t kMaxScalarBytes = 32;  // "-9223372036854775808", a double plus ".0"

size_t TextBound(size_t bytes) { return 2 + kMaxEscapedBytesPerByte * bytes; }

size_t JsonBound(const msgpack::object& o, int depth) {
  switch (o.type) {
    case msgpack::type::STR: return TextBound(o.via.str.size);
    case msgpack::type::BIN: return TextBound(o.via.bin.size);
    case msgpack::type::EXT: return TextBound(o.via.ext.size);
    case msgpack::type::ARRAY: {
      if (depth >= kMaxJsonDepth) return kMaxScalarBytes;
      size_t bound = 2 + o.via.array.size;
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        bound += JsonBound(o.via.array.ptr[i], depth + 1);
      }
      return bound;
    }
    case msgpack::type::MAP: {
      if (depth >= kMaxJsonDepth) return kMaxScalarBytes;
      size_t bound = 2 + 2 * o.via.map.size;
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        // A non-string key is written as the string of its JSON: escaping can grow it again.
        bound += TextBound(JsonBound(o.via.map.ptr[i].key, depth + 1));
        bound += JsonBound(o.via.map.ptr[i].val, depth + 1);
      }
      return bound;
    }
    default: return kMaxScalarBytes;
  }
}

char* WriteLiteral(const char* text, size_t size, char* out) {
  std::memcpy(out, text, size);
  return out + size;
}

char* WriteString(std::string_view bytes, char* out) {
  *out++ = '"';
  out = WriteEscaped(bytes, EscapeMode::kJson, out);
  *out++ = '"';
  return out;
}

template <typename Integer>
char* WriteInteger(Integer value, char* out) {
  return std::to_chars(out, out + kMaxScalarBytes, value).ptr;
}

// Shortest text that reads back as the same value; keeps a ".0" so readers see a float.
template <typename Float>
char* WriteFloat(Float value, char* out) {
  if (!std::isfinite(value)) return WriteLiteral("null", 4, out);
  char* end = std::to_chars(out, out + kMaxScalarBytes - 2, value).ptr;
  if (std::string_view(out, static_cast<size_t>(end - out)).find_first_of(".e") ==
      std::string_view::npos) {
    end = WriteLiteral(".0", 2, end);
  }
  return end;
}

char* WriteValue(const msgpack::object& o, int depth, char* out);

// A map key must be a JSON string: other keys are written as the string of their JSON.
char* WriteKey(const msgpack::object& key, int depth, char* out) {
  if (key.type == msgpack::type::STR || key.type == msgpack::type::BIN) {
    return WriteValue(key, depth, out);
  }
  std::string text;
  AppendJson(key, &text);
  return WriteString(text, out);
}

char* WriteValue(const msgpack::object& o, int depth, char* out) {
  switch (o.type) {
    case msgpack::type::NIL: return WriteLiteral("null", 4, out);
    case msgpack::type::BOOLEAN:
      return o.via.boolean ? WriteLiteral("true", 4, out) : WriteLiteral("false", 5, out);
    case msgpack::type::POSITIVE_INTEGER: return WriteInteger(o.via.u64, out);
    case msgpack::type::NEGATIVE_INTEGER: return WriteInteger(o.via.i64, out);
    case msgpack::type::FLOAT32: return WriteFloat(static_cast<float>(o.via.f64), out);
    case msgpack::type::FLOAT64: return WriteFloat(o.via.f64, out);
    case msgpack::type::STR: return WriteString({o.via.str.ptr, o.via.str.size}, out);
    case msgpack::type::BIN: return WriteString({o.via.bin.ptr, o.via.bin.size}, out);
    case msgpack::type::EXT: return WriteString({o.via.ext.ptr, o.via.ext.size}, out);
    case msgpack::type::ARRAY: {
      if (depth >= kMaxJsonDepth) break;
      *out++ = '[';
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        if (i > 0) *out++ = ',';
        out = WriteValue(o.via.array.ptr[i], depth + 1, out);
      }
      *out++ = ']';
      return out;
    }
    case msgpack::type::MAP: {
      if (depth >= kMaxJsonDepth) break;
      *out++ = '{';
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        if (i > 0) *out++ = ',';
        out = WriteKey(o.via.map.ptr[i].key, depth + 1, out);
        *out++ = ':';
        out = WriteValue(o.via.map.ptr[i].val, depth + 1, out);
      }
      *out++ = '}';
      return out;
    }
  }
  return WriteLiteral("null", 4, out);
}

}  // namespace

void AppendJson(const msgpack::object& object, TextBuffer* out) {
  char* start = out->Reserve(JsonBound(object, 0));
  out->Commit(WriteValue(object, 0, start));
}

void AppendJson(const msgpack::object& object, std::string* out) {
  const size_t old_size = out->size();
  out->resize(old_size + JsonBound(object, 0));
  char* end = WriteValue(object, 0, out->data() + old_size);
  out->resize(static_cast<size_t>(end - out->data()));
}

void AppendJsonString(std::string_view bytes, std::string* out) {
  const size_t old_size = out->size();
  out->resize(old_size + TextBound(bytes.size()));
  char* end = WriteString(bytes, out->data() + old_size);
  out->resize(static_cast<size_t>(end - out->data()));
}

std::string ToJson(const msgpack::object& object) {
  std::string out;
  AppendJson(object, &out);
  return out;
}

}  // namespace sandtrace::sinks
