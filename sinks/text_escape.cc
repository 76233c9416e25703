#include "sinks/text_escape.h"

#include <array>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sandtrace::sinks {
namespace {

// Per-byte class: pass through, needs an escape in both modes, or starts a non-ASCII sequence.
enum ByteClass : uint8_t { kPlain = 0, kEscape = 1, kNonAscii = 2 };

constexpr std::array<uint8_t, 256> MakeClasses() {
  std::array<uint8_t, 256> classes{};
  for (int b = 0; b < 256; ++b) {
    if (b < 0x20 || b == '"' || b == '\\' || b == 0x7f) {
      classes[b] = kEscape;
    } else if (b >= 0x80) {
      classes[b] = kNonAscii;
    }
  }
  return classes;
}

constexpr std::array<uint8_t, 256> kClasses = MakeClasses();
constexpr char kHex[] = "0123456789abcdef";

char* WriteHexByte(const char* prefix, size_t prefix_size, unsigned char byte, char* out) {
  std::memcpy(out, prefix, prefix_size);
  out += prefix_size;
  *out++ = kHex[byte >> 4];
  *out++ = kHex[byte & 0xf];
  return out;
}

char* WritePair(char a, char b, char* out) {
  out[0] = a;
  out[1] = b;
  return out + 2;
}

// The escape of one ASCII byte of class kEscape.
char* WriteAsciiEscape(unsigned char byte, EscapeMode mode, char* out) {
  switch (byte) {
    case '"':
      return WritePair('\\', '"', out);
    case '\\':
      return WritePair('\\', '\\', out);
    case '\n':
      return WritePair('\\', 'n', out);
    case '\t':
      return WritePair('\\', 't', out);
    case '\r':
      return WritePair('\\', 'r', out);
    default:
      break;
  }
  if (mode == EscapeMode::kTerminal) return WriteHexByte("\\x", 2, byte, out);
  switch (byte) {
    case 0x7f:
      *out = static_cast<char>(byte);
      return out + 1;  // DEL is valid in JSON
    case '\b':
      return WritePair('\\', 'b', out);
    case '\f':
      return WritePair('\\', 'f', out);
    default:
      return WriteHexByte("\\u00", 4, byte, out);
  }
}

bool IsContinuation(unsigned char byte) { return (byte & 0xc0) == 0x80; }

// True when one of the 8 bytes in `word` is not kPlain (SWAR, "Bit Twiddling Hacks").
bool HasSpecialByte(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  const uint64_t below_space = (word - kOnes * 0x20) & ~word & kHighs;
  return ((word & kHighs) | below_space | has_zero(word ^ (kOnes * '"')) |
          has_zero(word ^ (kOnes * '\\')) | has_zero(word ^ (kOnes * 0x7f))) != 0;
}

#if defined(__SSE2__)
// True when one of the 16 bytes at `p` is not kPlain. Compared as signed bytes, 0x80..0xff are
// negative, so "below 0x20" also catches every non-ASCII byte.
bool HasSpecialByte16(const unsigned char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  __m128i special = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
  special = _mm_or_si128(special, _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
  special = _mm_or_si128(special, _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
  special = _mm_or_si128(special, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
  return _mm_movemask_epi8(special) != 0;
}
#endif

}  // namespace

size_t Utf8SequenceLength(std::string_view text) {
  if (text.empty()) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  const unsigned char b0 = p[0];
  if (b0 < 0x80) return 1;
  if (b0 >= 0xc2 && b0 <= 0xdf) return n >= 2 && IsContinuation(p[1]) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (n < 3 || !IsContinuation(p[1]) || !IsContinuation(p[2])) return 0;
    if (b0 == 0xe0 && p[1] < 0xa0) return 0;   // overlong
    if (b0 == 0xed && p[1] >= 0xa0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (n < 4 || !IsContinuation(p[1]) || !IsContinuation(p[2]) || !IsContinuation(p[3])) {
      return 0;
    }
    if (b0 == 0xf0 && p[1] < 0x90) return 0;   // overlong
    if (b0 == 0xf4 && p[1] >= 0x90) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

char* WriteEscaped(std::string_view text, EscapeMode mode, char* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  if (n == 0) return out;  // `text` may have no data at all (msgpack-c's empty strings)
  if (n < 8) {  // short (keys, names): one pass over the classes, then a plain copy
    unsigned classes = 0;
    for (size_t k = 0; k < n; ++k) classes |= kClasses[p[k]];
    if (classes == kPlain) {
      std::memcpy(out, p, n);
      return out + n;
    }
  }
  size_t i = 0;
  while (i < n) {
#if defined(__SSE2__)
    if (i + 16 <= n && !HasSpecialByte16(p + i)) {
      std::memcpy(out, p + i, 16);
      out += 16;
      i += 16;
      continue;
    }
#endif
    if (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      if (!HasSpecialByte(word)) {
        std::memcpy(out, &word, 8);
        out += 8;
        i += 8;
        continue;
      }
    } else if (n >= 8) {
      // Fewer than 8 bytes left: the last 8 bytes of the text as one word. When all of them
      // are plain, the ones before i were written as themselves just before `out`, so the
      // word can be written over them.
      uint64_t word;
      std::memcpy(&word, p + n - 8, 8);
      if (!HasSpecialByte(word)) {
        std::memcpy(out - (i - (n - 8)), &word, 8);
        return out + (n - i);
      }
    }
    const uint8_t byte_class = kClasses[p[i]];
    if (byte_class == kPlain) {
      *out++ = static_cast<char>(p[i++]);
      continue;
    }
    if (byte_class == kEscape) {
      out = WriteAsciiEscape(p[i++], mode, out);
      continue;
    }
    const size_t length = Utf8SequenceLength(text.substr(i));
    // U+0080..U+009F (C2 80..C2 9F) are C1 controls: some terminals act on them (CSI).
    const bool c1_control = length == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0;
    if (length == 0 || (c1_control && mode == EscapeMode::kTerminal)) {
      // In JSON the text \xNN needs its backslash escaped: "\\xNN".
      out = mode == EscapeMode::kJson ? WriteHexByte("\\\\x", 3, p[i], out)
                                      : WriteHexByte("\\x", 2, p[i], out);
      ++i;
      continue;
    }
    std::memcpy(out, p + i, length);
    out += length;
    i += length;
  }
  return out;
}

void AppendEscaped(std::string_view text, EscapeMode mode, std::string* out) {
  const size_t old_size = out->size();
  out->resize(old_size + kMaxEscapedBytesPerByte * text.size());
  char* end = WriteEscaped(text, mode, out->data() + old_size);
  out->resize(static_cast<size_t>(end - out->data()));
}

}  // namespace sandtrace::sinks
