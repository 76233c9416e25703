// A MessagePack writer into one growable byte buffer, the counterpart of msgpack_reader.h for
// the hot path that packs the analyser's event maps. Every value takes the format msgpack-c's
// packer gives it (the smallest that holds it; a non-negative signed value is packed as
// unsigned), so the bytes are those msgpack::packer<msgpack::sbuffer> would write. Unlike that
// packer, each write is inline: one capacity check, then plain stores.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

namespace sandtrace::wire {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "Store() swaps to big-endian");

// A string packed ahead of time as a fixstr (header byte + at most 31 bytes of text), padded to
// a fixed size so that writing it is one fixed-size copy.
struct PackedStr {
  static constexpr size_t kMaxText = 31;
  char bytes[1 + kMaxText] = {};
  uint8_t size = 0;  // header + text

  // `text` longer than kMaxText is cut (callers check fits()).
  constexpr explicit PackedStr(std::string_view text = {}) {
    const size_t n = text.size() < kMaxText ? text.size() : kMaxText;
    bytes[0] = static_cast<char>(0xa0 | n);
    for (size_t i = 0; i < n; ++i) bytes[1 + i] = text[i];
    size = static_cast<uint8_t>(1 + n);
  }
  static constexpr bool fits(std::string_view text) { return text.size() <= kMaxText; }
};

class MsgpackWriter {
 public:
  explicit MsgpackWriter(size_t initial_capacity = 4096) { Grow(initial_capacity); }
  MsgpackWriter(const MsgpackWriter&) = delete;
  MsgpackWriter& operator=(const MsgpackWriter&) = delete;
  ~MsgpackWriter() { std::free(begin_); }

  const char* data() const { return begin_; }
  size_t size() const { return static_cast<size_t>(pos_ - begin_); }
  // Forgets the bytes, keeps the memory.
  void clear() { pos_ = begin_; }

  void Map(uint32_t entries) { Header(entries, 0x80, 0xde); }
  void Array(uint32_t items) { Header(items, 0x90, 0xdc); }
  void Bool(bool value) { Byte(value ? 0xc3 : 0xc2); }

  void Uint(uint64_t value) {
    Reserve(9);
    if (value < 0x80) {
      *pos_++ = static_cast<char>(value);
    } else if (value <= 0xff) {
      *pos_++ = static_cast<char>(0xcc);
      *pos_++ = static_cast<char>(value);
    } else if (value <= 0xffff) {
      *pos_++ = static_cast<char>(0xcd);
      Store(static_cast<uint16_t>(value));
    } else if (value <= 0xffffffff) {
      *pos_++ = static_cast<char>(0xce);
      Store(static_cast<uint32_t>(value));
    } else {
      *pos_++ = static_cast<char>(0xcf);
      Store(value);
    }
  }

  void Int(int64_t value) {
    if (value >= 0) return Uint(static_cast<uint64_t>(value));
    Reserve(9);
    if (value >= -32) {
      *pos_++ = static_cast<char>(value);  // negative fixint
    } else if (value >= INT8_MIN) {
      *pos_++ = static_cast<char>(0xd0);
      *pos_++ = static_cast<char>(value);
    } else if (value >= INT16_MIN) {
      *pos_++ = static_cast<char>(0xd1);
      Store(static_cast<uint16_t>(value));
    } else if (value >= INT32_MIN) {
      *pos_++ = static_cast<char>(0xd2);
      Store(static_cast<uint32_t>(value));
    } else {
      *pos_++ = static_cast<char>(0xd3);
      Store(static_cast<uint64_t>(value));
    }
  }

  void Str(std::string_view text) {
    const size_t n = text.size();
    Reserve(5 + n);
    if (n < 32) {
      *pos_++ = static_cast<char>(0xa0 | n);
    } else if (n <= 0xff) {
      *pos_++ = static_cast<char>(0xd9);
      *pos_++ = static_cast<char>(n);
    } else if (n <= 0xffff) {
      *pos_++ = static_cast<char>(0xda);
      Store(static_cast<uint16_t>(n));
    } else {
      *pos_++ = static_cast<char>(0xdb);
      Store(static_cast<uint32_t>(n));
    }
    std::memcpy(pos_, text.data(), n);
    pos_ += n;
  }

  void Str(const PackedStr& packed) {
    Reserve(sizeof packed.bytes);
    std::memcpy(pos_, packed.bytes, sizeof packed.bytes);  // fixed size: a few stores
    pos_ += packed.size;
  }

  // Bytes that are already MessagePack (a packed key, a copy of an earlier value).
  void Raw(const char* bytes, size_t n) {
    Reserve(n);
    std::memcpy(pos_, bytes, n);
    pos_ += n;
  }
  template <size_t N>
  void Raw(const char (&bytes)[N]) {
    Reserve(N);
    std::memcpy(pos_, bytes, N);
    pos_ += N;
  }

  // Appends a copy of the bytes [begin, end) written earlier.
  void CopyWithin(size_t begin, size_t end) {
    Reserve(end - begin);
    std::memcpy(pos_, begin_ + begin, end - begin);
    pos_ += end - begin;
  }

  // Makes room for `n` more bytes, for a caller that writes them itself through Append().
  char* Append(size_t n) {
    Reserve(n);
    char* out = pos_;
    pos_ += n;
    return out;
  }

 private:
  void Reserve(size_t n) {
    if (static_cast<size_t>(limit_ - pos_) < n) Grow(n);
  }

  __attribute__((noinline)) void Grow(size_t n) {
    const size_t used = size();
    size_t capacity = static_cast<size_t>(limit_ - begin_);
    if (capacity == 0) capacity = 64;
    while (capacity - used < n) capacity *= 2;
    char* grown = static_cast<char*>(std::realloc(begin_, capacity));
    if (grown == nullptr) throw std::bad_alloc();
    begin_ = grown;
    pos_ = grown + used;
    limit_ = grown + capacity;
  }

  void Byte(uint8_t b) {
    Reserve(1);
    *pos_++ = static_cast<char>(b);
  }

  // A container header: fix form below 16, then 16- or 32-bit (`wide16` + 1).
  void Header(uint32_t n, uint8_t fix, uint8_t wide16) {
    Reserve(5);
    if (n < 16) {
      *pos_++ = static_cast<char>(fix | n);
    } else if (n <= 0xffff) {
      *pos_++ = static_cast<char>(wide16);
      Store(static_cast<uint16_t>(n));
    } else {
      *pos_++ = static_cast<char>(wide16 + 1);
      Store(n);
    }
  }

  template <typename T>
  void Store(T value) {
    if constexpr (sizeof(T) == 2) value = __builtin_bswap16(value);
    if constexpr (sizeof(T) == 4) value = __builtin_bswap32(value);
    if constexpr (sizeof(T) == 8) value = __builtin_bswap64(value);
    std::memcpy(pos_, &value, sizeof value);
    pos_ += sizeof value;
  }

  char* begin_ = nullptr;
  char* pos_ = nullptr;
  char* limit_ = nullptr;
};

}  // namespace sandtrace::wire
