#include "tests/analyzer/event_reader.h"

#include <algorithm>

namespace sandtrace::analyzer::testing {

std::vector<const msgpack::object*> Events::OfType(std::string_view type,
                                                   std::string_view action) const {
  std::vector<const msgpack::object*> out;
  for (const msgpack::object_handle& h : handles_) {
    const msgpack::object* t = Find(h.get(), "event_type");
    if (t == nullptr || t->as<std::string>() != type) continue;
    if (!action.empty()) {
      const msgpack::object* a = Find(h.get(), "action");
      if (a == nullptr || a->as<std::string>() != action) continue;
    }
    out.push_back(&h.get());
  }
  return out;
}

const msgpack::object* Find(const msgpack::object& map, std::string_view key) {
  if (map.type != msgpack::type::MAP) return nullptr;
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object_kv& kv = map.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR &&
        std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key) {
      return &kv.val;
    }
  }
  return nullptr;
}

namespace {

const msgpack::object* Expect(const msgpack::object& map, std::string_view key,
                              msgpack::type::object_type type) {
  const msgpack::object* value = Find(map, key);
  if (value == nullptr) {
    ADD_FAILURE() << "missing key " << key << " in " << map;
    return nullptr;
  }
  const bool integer = type == msgpack::type::POSITIVE_INTEGER;
  const bool ok = integer ? (value->type == msgpack::type::POSITIVE_INTEGER ||
                             value->type == msgpack::type::NEGATIVE_INTEGER)
                          : value->type == type;
  if (!ok) {
    ADD_FAILURE() << "key " << key << " has the wrong type in " << map;
    return nullptr;
  }
  return value;
}

}  // namespace

std::string Str(const msgpack::object& map, std::string_view key) {
  const msgpack::object* v = Expect(map, key, msgpack::type::STR);
  return v ? std::string(v->via.str.ptr, v->via.str.size) : std::string();
}

int64_t Int(const msgpack::object& map, std::string_view key) {
  const msgpack::object* v = Expect(map, key, msgpack::type::POSITIVE_INTEGER);
  return v ? v->as<int64_t>() : 0;
}

bool Bool(const msgpack::object& map, std::string_view key) {
  const msgpack::object* v = Expect(map, key, msgpack::type::BOOLEAN);
  return v ? v->via.boolean : false;
}

const msgpack::object& Map(const msgpack::object& map, std::string_view key) {
  static const msgpack::object kEmpty;
  const msgpack::object* v = Expect(map, key, msgpack::type::MAP);
  return v ? *v : kEmpty;
}

std::vector<std::string> StrList(const msgpack::object& map, std::string_view key) {
  std::vector<std::string> out;
  const msgpack::object* v = Expect(map, key, msgpack::type::ARRAY);
  if (v == nullptr) return out;
  for (uint32_t i = 0; i < v->via.array.size; ++i)
    out.push_back(v->via.array.ptr[i].as<std::string>());
  return out;
}

std::vector<std::string> Keys(const msgpack::object& map) {
  std::vector<std::string> out;
  if (map.type != msgpack::type::MAP) return out;
  for (uint32_t i = 0; i < map.via.map.size; ++i)
    out.push_back(map.via.map.ptr[i].key.as<std::string>());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sandtrace::analyzer::testing
