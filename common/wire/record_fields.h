// The fast path of DecodeRecords (codec.cc): reads the fields of a raw record straight from the
// MessagePack bytes, each field in any format its type may take, without going through
// MsgpackItem. It only says yes or no: on any surprise (a value of the wrong type or range,
// truncated bytes, a field a newer encoder appended) the caller decodes the record again with
// the general reader, which accepts the same values and reports what is wrong.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>

#include "common/wire/big_endian.h"

namespace sandtrace::wire {

class RecordFields {
 public:
  RecordFields(const char* pos, const char* end) : pos_(pos), end_(end) {}

  const char* pos() const { return pos_; }

  // An integer that fits T, converted as msgpack-c converts it (any integer format).
  template <typename T>
  __attribute__((always_inline)) bool Int(T* out) {
    bool negative;
    uint64_t bits;
    if (!Integer(&negative, &bits)) return false;
    if (negative) {
      if constexpr (std::is_unsigned_v<T>) return false;
      const int64_t v = static_cast<int64_t>(bits);
      if (v < static_cast<int64_t>(std::numeric_limits<T>::min())) return false;
      *out = static_cast<T>(v);
      return true;
    }
    if (bits > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
    *out = static_cast<T>(bits);
    return true;
  }

  bool Bool(bool* out) {
    if (pos_ >= end_) return false;
    const uint8_t b = Byte(0);
    if ((b & 0xfe) != 0xc2) return false;
    *out = b == 0xc3;
    ++pos_;
    return true;
  }

  // The header of an array of exactly `size` items.
  __attribute__((always_inline)) bool Array(uint32_t size) {
    uint32_t n;
    return Array(&n) && n == size;
  }

  // The header of an array (its items follow). Each item takes at least one byte, so a size
  // past the bytes left is refused before anyone sizes a vector by it.
  __attribute__((always_inline)) bool Array(uint32_t* size) {
    if (pos_ >= end_) return false;
    const uint8_t b = Byte(0);
    uint32_t n;
    size_t header = 1;
    if ((b & 0xf0) == 0x90) {
      n = b & 0x0f;
    } else if (b == 0xdc && Left() >= 3) {
      n = Load<uint16_t>(1);
      header = 3;
    } else if (b == 0xdd && Left() >= 5) {
      n = Load<uint32_t>(1);
      header = 5;
    } else {
      return false;
    }
    if (n > Left() - header) return false;
    pos_ += header;
    *size = n;
    return true;
  }

  // The bytes of a str or bin.
  bool Bytes(std::string_view* out) {
    if (pos_ >= end_) return false;
    const uint8_t b = Byte(0);
    uint32_t n;
    size_t header;
    if ((b & 0xe0) == 0xa0) {
      n = b & 0x1f;
      header = 1;
    } else if ((b == 0xc4 || b == 0xd9) && Left() >= 2) {
      n = Byte(1);
      header = 2;
    } else if ((b == 0xc5 || b == 0xda) && Left() >= 3) {
      n = Load<uint16_t>(1);
      header = 3;
    } else if ((b == 0xc6 || b == 0xdb) && Left() >= 5) {
      n = Load<uint32_t>(1);
      header = 5;
    } else {
      return false;
    }
    if (n > Left() - header) return false;
    *out = std::string_view(pos_ + header, n);
    pos_ += header + n;
    return true;
  }

 private:
  // Any integer format; `bits` is the value, two's complement when `negative`. msgpack-c calls
  // a non-negative value of a signed format positive too.
  __attribute__((always_inline)) bool Integer(bool* negative, uint64_t* bits) {
    if (pos_ >= end_) return false;
    const uint8_t b = Byte(0);
    if (b <= 0x7f) {
      ++pos_;
      *negative = false;
      *bits = b;
      return true;
    }
    if (b >= 0xe0) {
      ++pos_;
      *negative = true;
      *bits = static_cast<uint64_t>(int64_t{static_cast<int8_t>(b)});
      return true;
    }
    int64_t value;
    switch (b) {
      case 0xcc: return Unsigned<uint8_t>(negative, bits);
      case 0xcd: return Unsigned<uint16_t>(negative, bits);
      case 0xce: return Unsigned<uint32_t>(negative, bits);
      case 0xcf: return Unsigned<uint64_t>(negative, bits);
      case 0xd0: if (!Signed<int8_t>(&value)) return false; break;
      case 0xd1: if (!Signed<int16_t>(&value)) return false; break;
      case 0xd2: if (!Signed<int32_t>(&value)) return false; break;
      case 0xd3: if (!Signed<int64_t>(&value)) return false; break;
      default: return false;
    }
    *negative = value < 0;
    *bits = static_cast<uint64_t>(value);
    return true;
  }

  template <typename T>
  bool Unsigned(bool* negative, uint64_t* bits) {
    if (Left() < 1 + sizeof(T)) return false;
    *bits = Load<T>(1);
    *negative = false;
    pos_ += 1 + sizeof(T);
    return true;
  }

  template <typename T>
  bool Signed(int64_t* value) {
    if (Left() < 1 + sizeof(T)) return false;
    *value = static_cast<T>(Load<std::make_unsigned_t<T>>(1));
    pos_ += 1 + sizeof(T);
    return true;
  }

  // The big-endian T at pos_ + offset (the caller checked the bytes are there).
  template <typename T>
  T Load(size_t offset) const {
    return LoadBigEndian<T>(pos_ + offset);
  }

  uint8_t Byte(size_t offset) const { return static_cast<uint8_t>(pos_[offset]); }
  size_t Left() const { return static_cast<size_t>(end_ - pos_); }

  const char* pos_;
  const char* end_;
};

}  // namespace sandtrace::wire
