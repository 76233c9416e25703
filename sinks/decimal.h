// Integers as decimal text for the JSONL sink's hot path: the same characters as std::to_chars,
// in fewer dependent steps. A 64-bit value is cut into 8-digit pieces with one or two
// divisions; each piece is then written two digits at a time with 32-bit arithmetic whose
// steps do not wait on each other (std::to_chars divides the whole value by 100 once per two
// digits, each division waiting for the one before).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

namespace sandtrace::sinks {
namespace decimal_detail {

constexpr std::array<char, 200> MakeDigitPairs() {
  std::array<char, 200> pairs{};
  for (int i = 0; i < 100; ++i) {
    pairs[2 * i] = static_cast<char>('0' + i / 10);
    pairs[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return pairs;
}
inline constexpr std::array<char, 200> kDigitPairs = MakeDigitPairs();

inline void WritePair(uint32_t two_digits, char* out) {
  std::memcpy(out, &kDigitPairs[2 * two_digits], 2);
}

// Exactly 8 digits of v < 10^8, zero-padded.
inline void Write8(uint32_t v, char* out) {
  const uint32_t high = v / 10000;
  const uint32_t low = v % 10000;
  WritePair(high / 100, out);
  WritePair(high % 100, out + 2);
  WritePair(low / 100, out + 4);
  WritePair(low % 100, out + 6);
}

// v < 10^8 without leading zeros.
inline char* WriteUpTo8(uint32_t v, char* out) {
  if (v < 10) {
    *out = static_cast<char>('0' + v);
    return out + 1;
  }
  if (v < 100) {
    WritePair(v, out);
    return out + 2;
  }
  const int digits = v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7 : 8;
  char* end = out + digits;
  char* p = end;
  while (v >= 100) {
    p -= 2;
    WritePair(v % 100, p);
    v /= 100;
  }
  if (v >= 10) {
    WritePair(v, p - 2);
  } else {
    p[-1] = static_cast<char>('0' + v);
  }
  return end;
}

}  // namespace decimal_detail

// Writes `v` in decimal at `out` (room for 20 bytes needed) and returns the end.
inline char* WriteDecimal(uint64_t v, char* out) {
  using namespace decimal_detail;
  constexpr uint64_t k8 = 100000000;
  if (v < k8) return WriteUpTo8(static_cast<uint32_t>(v), out);
  if (v < k8 * k8) {
    out = WriteUpTo8(static_cast<uint32_t>(v / k8), out);
    Write8(static_cast<uint32_t>(v % k8), out);
    return out + 8;
  }
  const uint64_t high = v / (k8 * k8);  // at most 1844
  const uint64_t rest = v % (k8 * k8);
  out = WriteUpTo8(static_cast<uint32_t>(high), out);
  Write8(static_cast<uint32_t>(rest / k8), out);
  Write8(static_cast<uint32_t>(rest % k8), out + 8);
  return out + 16;
}

// The same for a signed value (room for 21 bytes needed).
inline char* WriteDecimal(int64_t v, char* out) {
  if (v >= 0) return WriteDecimal(static_cast<uint64_t>(v), out);
  *out = '-';
  return WriteDecimal(0 - static_cast<uint64_t>(v), out + 1);
}

}  // namespace sandtrace::sinks
