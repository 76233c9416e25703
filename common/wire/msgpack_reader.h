// A forward-only reader over MessagePack bytes, for the hot paths that would otherwise build a
// msgpack::object tree first (the analyser's raw records, the JSONL sink's event maps). It reads
// one item at a time: a scalar with its value, a string/bin/ext with a view of its bytes (no
// copy), or an array/map header with its length, whose elements follow. It never throws,
// never allocates and never reads past the end it was given: truncated input and the reserved
// byte 0xc1 make Next() return false. Integers are classified as msgpack-c does: a
// non-negative value of any integer format is kUint, a negative one kInt.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "common/wire/big_endian.h"

namespace sandtrace::wire {


enum class MsgpackKind : uint8_t {
  kNil,
  kBool,
  kUint,
  kInt,
  kFloat32,
  kFloat64,
  kStr,
  kBin,
  kExt,
  kArray,
  kMap,
};

struct MsgpackItem {
  MsgpackKind kind = MsgpackKind::kNil;
  bool boolean = false;
  uint64_t u64 = 0;    // kUint
  int64_t i64 = 0;     // kInt
  double f64 = 0;      // kFloat32 (exactly the float's value), kFloat64
  const char* data = nullptr;  // kStr, kBin: the bytes; kExt: the type byte, then the data
  uint32_t size = 0;   // kStr, kBin, kExt: bytes (for kExt without the type byte); kArray, kMap: entries

  std::string_view text() const { return {data, size}; }
};

class MsgpackReader {
 public:
  MsgpackReader(const char* begin, const char* end) : pos_(begin), end_(end) {}
  MsgpackReader(const void* data, size_t size)
      : pos_(static_cast<const char*>(data)), end_(pos_ + size) {}

  const char* pos() const { return pos_; }
  const char* end() const { return end_; }
  bool at_end() const { return pos_ >= end_; }
  size_t left() const { return static_cast<size_t>(end_ - pos_); }

  // Reads the next item into `item`; false (position unspecified) when it is malformed or cut.
  // The most frequent items of events and records (small integers, short strings, booleans,
  // small containers) are read inline, the rest out of line.
  bool Next(MsgpackItem* item) {
    if (pos_ >= end_) return false;
    const uint8_t b = static_cast<uint8_t>(*pos_);
    if (b <= 0x7f) {
      ++pos_;
      item->kind = MsgpackKind::kUint;
      item->u64 = b;
      return true;
    }
    if ((b & 0xe0) == 0xa0) {
      ++pos_;
      return Bytes(item, MsgpackKind::kStr, b & 0x1f);
    }
    if ((b & 0xfe) == 0xc2) {
      ++pos_;
      item->kind = MsgpackKind::kBool;
      item->boolean = b == 0xc3;
      return true;
    }
    if (b >= 0xcc && b <= 0xcf) {  // uint 8/16/32/64: raw arguments, timestamps
      const size_t width = size_t{1} << (b - 0xcc);
      if (left() < 1 + width) return false;
      uint64_t v;
      if (width == 8) {
        v = LoadBigEndian<uint64_t>(pos_ + 1);
      } else if (width == 4) {
        v = LoadBigEndian<uint32_t>(pos_ + 1);
      } else if (width == 2) {
        v = LoadBigEndian<uint16_t>(pos_ + 1);
      } else {
        v = static_cast<uint8_t>(pos_[1]);
      }
      pos_ += 1 + width;
      item->kind = MsgpackKind::kUint;
      item->u64 = v;
      return true;
    }
    return NextSlow(item);
  }

  // Next() for every other first byte.
  __attribute__((noinline)) bool NextSlow(MsgpackItem* item) {
    if (pos_ >= end_) return false;
    const uint8_t b = static_cast<uint8_t>(*pos_++);
    if (b <= 0x7f) return Uint(item, b);
    if (b >= 0xe0) return Int(item, static_cast<int8_t>(b));
    if (b <= 0x8f) return Container(item, MsgpackKind::kMap, b & 0x0f);
    if (b <= 0x9f) return Container(item, MsgpackKind::kArray, b & 0x0f);
    if (b <= 0xbf) return Bytes(item, MsgpackKind::kStr, b & 0x1f);
    switch (b) {
      case 0xc0: item->kind = MsgpackKind::kNil; return true;
      case 0xc2: case 0xc3:
        item->kind = MsgpackKind::kBool;
        item->boolean = b == 0xc3;
        return true;
      case 0xc4: return Sized<uint8_t>(item, MsgpackKind::kBin);
      case 0xc5: return Sized<uint16_t>(item, MsgpackKind::kBin);
      case 0xc6: return Sized<uint32_t>(item, MsgpackKind::kBin);
      case 0xc7: return SizedExt<uint8_t>(item);
      case 0xc8: return SizedExt<uint16_t>(item);
      case 0xc9: return SizedExt<uint32_t>(item);
      case 0xca: {
        uint32_t bits;
        if (!Fixed(&bits)) return false;
        float f;
        std::memcpy(&f, &bits, sizeof f);
        item->kind = MsgpackKind::kFloat32;
        item->f64 = f;
        return true;
      }
      case 0xcb: {
        uint64_t bits;
        if (!Fixed(&bits)) return false;
        item->kind = MsgpackKind::kFloat64;
        std::memcpy(&item->f64, &bits, sizeof bits);
        return true;
      }
      case 0xcc: { uint8_t v; return Fixed(&v) && Uint(item, v); }
      case 0xcd: { uint16_t v; return Fixed(&v) && Uint(item, v); }
      case 0xce: { uint32_t v; return Fixed(&v) && Uint(item, v); }
      case 0xcf: { uint64_t v; return Fixed(&v) && Uint(item, v); }
      case 0xd0: { uint8_t v; return Fixed(&v) && Int(item, static_cast<int8_t>(v)); }
      case 0xd1: { uint16_t v; return Fixed(&v) && Int(item, static_cast<int16_t>(v)); }
      case 0xd2: { uint32_t v; return Fixed(&v) && Int(item, static_cast<int32_t>(v)); }
      case 0xd3: { uint64_t v; return Fixed(&v) && Int(item, static_cast<int64_t>(v)); }
      case 0xd4: return Ext(item, 1);
      case 0xd5: return Ext(item, 2);
      case 0xd6: return Ext(item, 4);
      case 0xd7: return Ext(item, 8);
      case 0xd8: return Ext(item, 16);
      case 0xd9: return Sized<uint8_t>(item, MsgpackKind::kStr);
      case 0xda: return Sized<uint16_t>(item, MsgpackKind::kStr);
      case 0xdb: return Sized<uint32_t>(item, MsgpackKind::kStr);
      case 0xdc: { uint16_t n; return Fixed(&n) && Container(item, MsgpackKind::kArray, n); }
      case 0xdd: { uint32_t n; return Fixed(&n) && Container(item, MsgpackKind::kArray, n); }
      case 0xde: { uint16_t n; return Fixed(&n) && Container(item, MsgpackKind::kMap, n); }
      case 0xdf: { uint32_t n; return Fixed(&n) && Container(item, MsgpackKind::kMap, n); }
      default: return false;  // 0xc1, never used
    }
  }

  // Skips one complete value, containers with everything in them (without recursion).
  bool Skip() { return SkipPending(1); }

  // Skips the elements of the container `item` that was just read (nothing for a scalar).
  bool SkipElements(const MsgpackItem& item) {
    if (item.kind == MsgpackKind::kArray) return SkipPending(item.size);
    if (item.kind == MsgpackKind::kMap) return SkipPending(2 * static_cast<uint64_t>(item.size));
    return true;
  }

 private:
  // Straight over the bytes: only lengths matter here, so no item is decoded.
  bool SkipPending(uint64_t pending) {
    while (pending > 0) {
      --pending;
      if (pos_ >= end_) return false;
      const uint8_t b = static_cast<uint8_t>(*pos_++);
      if (b <= 0x7f || b >= 0xe0) continue;  // fixint
      if (b >= 0xa0 && b <= 0xbf) {           // fixstr
        if (!Advance(b & 0x1f)) return false;
        continue;
      }
      if (b <= 0x8f) {
        pending += 2 * static_cast<uint64_t>(b & 0x0f);
        continue;
      }
      if (b <= 0x9f) {
        pending += b & 0x0f;
        continue;
      }
      bool ok = true;
      switch (b) {
        case 0xc0: case 0xc2: case 0xc3: break;
        case 0xcc: case 0xd0: ok = Advance(1); break;
        case 0xcd: case 0xd1: ok = Advance(2); break;
        case 0xca: case 0xce: case 0xd2: ok = Advance(4); break;
        case 0xcb: case 0xcf: case 0xd3: ok = Advance(8); break;
        case 0xd4: ok = Advance(2); break;  // fixext: the type byte and the data
        case 0xd5: ok = Advance(3); break;
        case 0xd6: ok = Advance(5); break;
        case 0xd7: ok = Advance(9); break;
        case 0xd8: ok = Advance(17); break;
        case 0xc4: case 0xd9: { uint8_t n; ok = Fixed(&n) && Advance(n); break; }
        case 0xc5: case 0xda: { uint16_t n; ok = Fixed(&n) && Advance(n); break; }
        case 0xc6: case 0xdb: { uint32_t n; ok = Fixed(&n) && Advance(n); break; }
        case 0xc7: { uint8_t n; ok = Fixed(&n) && Advance(uint64_t{n} + 1); break; }
        case 0xc8: { uint16_t n; ok = Fixed(&n) && Advance(uint64_t{n} + 1); break; }
        case 0xc9: { uint32_t n; ok = Fixed(&n) && Advance(uint64_t{n} + 1); break; }
        case 0xdc: { uint16_t n; ok = Fixed(&n); pending += n; break; }
        case 0xdd: { uint32_t n; ok = Fixed(&n); pending += n; break; }
        case 0xde: { uint16_t n; ok = Fixed(&n); pending += 2 * uint64_t{n}; break; }
        case 0xdf: { uint32_t n; ok = Fixed(&n); pending += 2 * uint64_t{n}; break; }
        default: return false;  // 0xc1, never used
      }
      if (!ok) return false;
    }
    return true;
  }

  bool Advance(uint64_t bytes) {
    if (left() < bytes) return false;
    pos_ += bytes;
    return true;
  }

  template <typename T>
  bool Fixed(T* value) {
    if (left() < sizeof(T)) return false;
    *value = LoadBigEndian<T>(pos_);
    pos_ += sizeof(T);
    return true;
  }
  static bool Uint(MsgpackItem* item, uint64_t v) {
    item->kind = MsgpackKind::kUint;
    item->u64 = v;
    return true;
  }
  static bool Int(MsgpackItem* item, int64_t v) {
    if (v >= 0) return Uint(item, static_cast<uint64_t>(v));
    item->kind = MsgpackKind::kInt;
    item->i64 = v;
    return true;
  }
  // Every element takes at least one byte (a map entry two): a longer claim is malformed.
  bool Container(MsgpackItem* item, MsgpackKind kind, uint32_t n) {
    const uint64_t min_bytes = kind == MsgpackKind::kMap ? 2 * static_cast<uint64_t>(n) : n;
    if (min_bytes > left()) return false;
    item->kind = kind;
    item->size = n;
    return true;
  }
  bool Bytes(MsgpackItem* item, MsgpackKind kind, uint32_t n) {
    if (n > left()) return false;
    item->kind = kind;
    item->data = pos_;
    item->size = n;
    pos_ += n;
    return true;
  }
  template <typename T>
  bool Sized(MsgpackItem* item, MsgpackKind kind) {
    T n;
    return Fixed(&n) && Bytes(item, kind, n);
  }
  bool Ext(MsgpackItem* item, uint32_t n) {
    if (left() < 1 + static_cast<uint64_t>(n)) return false;
    item->kind = MsgpackKind::kExt;
    item->data = pos_;
    item->size = n;
    pos_ += 1 + n;
    return true;
  }
  template <typename T>
  bool SizedExt(MsgpackItem* item) {
    T n;
    return Fixed(&n) && Ext(item, n);
  }

  const char* pos_;
  const char* end_;
};

}  // namespace sandtrace::wire
