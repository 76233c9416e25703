// A MessagePack writer into one growable byte buffer, the counterpart of msgpack_reader.h for
// the hot path that packs the analyser's event maps. Every value takes the format msgpack-c's
// packer gives it (the smallest that holds it; a non-negative signed value is packed as
// unsigned), so the bytes are those msgpack::packer<msgpack::sbuffer> would write. Unlike that
// packer, each write is inline: one capacity check, then plain stores.
#pragma once

#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

#include "common/wire/big_endian.h"

namespace sandtrace::wire {

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
  // Writes values at the end of the writer's bytes. A hot path that writes many values in a
  // row takes one as a local variable (Open() or OpenRoom(), then Commit()): its position and
  // limit then stay in registers, which the stores of the bytes cannot alias, where the
  // writer's own members are reloaded after every store. Nothing else may write to the writer
  // between Open() and Commit(). A checked cursor (Cursor) makes room as it goes; an unchecked
  // one (Room) writes into the room reserved up front and must not write more (asserted in
  // debug builds).
  template <bool kChecked>
  class BasicCursor {
   public:
    void Map(uint32_t entries) { Header(entries, 0x80, 0xde); }
    void Array(uint32_t items) { Header(items, 0x90, 0xdc); }
    void Bool(bool value) {
      Reserve(1);
      *pos_++ = static_cast<char>(value ? 0xc3 : 0xc2);
    }

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

    // Room for `n` bytes that the caller writes itself.
    char* Append(size_t n) {
      Reserve(n);
      char* out = pos_;
      pos_ += n;
      return out;
    }

   private:
    friend class MsgpackWriter;
    explicit BasicCursor(MsgpackWriter* writer)
        : writer_(writer), pos_(writer->pos_), limit_(writer->limit_) {}

    void Reserve(size_t n) {
      if constexpr (kChecked) {
        if (static_cast<size_t>(limit_ - pos_) < n) {
          pos_ = writer_->Grow(pos_, n);
          limit_ = writer_->limit_;
        }
      } else {
        assert(static_cast<size_t>(limit_ - pos_) >= n);
      }
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
    void Store(T value) {  // big-endian
      value = SwapBytes(value);
      std::memcpy(pos_, &value, sizeof value);
      pos_ += sizeof value;
    }

    MsgpackWriter* writer_;
    char* pos_;
    char* limit_;
  };

  explicit MsgpackWriter(size_t initial_capacity = 4096) { Grow(nullptr, initial_capacity); }
  MsgpackWriter(const MsgpackWriter&) = delete;
  MsgpackWriter& operator=(const MsgpackWriter&) = delete;
  ~MsgpackWriter() { std::free(begin_); }

  const char* data() const { return begin_; }
  size_t size() const { return static_cast<size_t>(pos_ - begin_); }
  // Forgets the bytes, keeps the memory.
  void clear() { pos_ = begin_; }

  using Cursor = BasicCursor<true>;
  using Room = BasicCursor<false>;

  Cursor Open() { return Cursor(this); }
  // Room for `n` bytes, at most: the bound of what the caller writes before Commit().
  Room OpenRoom(size_t n) {
    if (static_cast<size_t>(limit_ - pos_) < n) Grow(pos_, n);
    return Room(this);
  }
  template <bool kChecked>
  void Commit(const BasicCursor<kChecked>& cursor) {
    pos_ = cursor.pos_;
  }

  // One value each (see Cursor).
  void Map(uint32_t entries) { Write([&](Cursor& c) { c.Map(entries); }); }
  void Array(uint32_t items) { Write([&](Cursor& c) { c.Array(items); }); }
  void Bool(bool value) { Write([&](Cursor& c) { c.Bool(value); }); }
  void Uint(uint64_t value) { Write([&](Cursor& c) { c.Uint(value); }); }
  void Int(int64_t value) { Write([&](Cursor& c) { c.Int(value); }); }
  void Str(std::string_view text) { Write([&](Cursor& c) { c.Str(text); }); }
  void Str(const PackedStr& packed) { Write([&](Cursor& c) { c.Str(packed); }); }
  void Raw(const char* bytes, size_t n) { Write([&](Cursor& c) { c.Raw(bytes, n); }); }
  template <size_t N>
  void Raw(const char (&bytes)[N]) {
    Write([&](Cursor& c) { c.Raw(bytes); });
  }
  char* Append(size_t n) {
    char* out;
    Write([&](Cursor& c) { out = c.Append(n); });
    return out;
  }

  // The writer's memory (from malloc) and how much of it holds bytes.
  struct Memory {
    char* data = nullptr;
    size_t size = 0;
    size_t capacity = 0;
  };
  // Hands the bytes and their memory over: the writer is left empty, without memory.
  Memory Release() {
    const Memory memory{begin_, size(), static_cast<size_t>(limit_ - begin_)};
    begin_ = pos_ = limit_ = nullptr;
    return memory;
  }
  // Takes `memory.capacity` bytes from malloc over as its memory (its own is freed), empty.
  void Adopt(Memory memory) {
    std::free(begin_);
    begin_ = pos_ = memory.data;
    limit_ = memory.data + memory.capacity;
  }

  // Appends a copy of the bytes [begin, end) written earlier.
  void CopyWithin(size_t begin, size_t end) {
    char* out = Append(end - begin);  // first: it may move the bytes
    std::memcpy(out, begin_ + begin, end - begin);
  }

 private:
  template <typename F>
  void Write(F&& write) {
    Cursor cursor = Open();
    write(cursor);
    Commit(cursor);
  }

  // Makes room for `n` bytes after `pos` (the bytes before it are kept); returns where `pos`
  // is now.
  __attribute__((noinline)) char* Grow(char* pos, size_t n) {
    const size_t used = pos == nullptr ? 0 : static_cast<size_t>(pos - begin_);
    size_t capacity = static_cast<size_t>(limit_ - begin_);
    if (capacity == 0) capacity = 64;
    while (capacity - used < n) capacity *= 2;
    char* grown = static_cast<char*>(std::realloc(begin_, capacity));
    if (grown == nullptr) throw std::bad_alloc();
    begin_ = grown;
    pos_ = grown + used;
    limit_ = grown + capacity;
    return pos_;
  }

  char* begin_ = nullptr;
  char* pos_ = nullptr;
  char* limit_ = nullptr;
};

}  // namespace sandtrace::wire
