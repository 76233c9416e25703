// MessagePack's multi-byte numbers are big-endian; the hosts sandtrace runs on are
// little-endian (x86-64).
#pragma once

#include <cstdint>
#include <cstring>

namespace sandtrace::wire {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "SwapBytes assumes a little-endian host");

// `v` with its bytes in the other order (big-endian <-> host).
template <typename T>
T SwapBytes(T v) {
  if constexpr (sizeof(T) == 2) return static_cast<T>(__builtin_bswap16(static_cast<uint16_t>(v)));
  if constexpr (sizeof(T) == 4) return static_cast<T>(__builtin_bswap32(static_cast<uint32_t>(v)));
  if constexpr (sizeof(T) == 8) return static_cast<T>(__builtin_bswap64(static_cast<uint64_t>(v)));
  return v;
}

// The big-endian T stored at `p` (any alignment).
template <typename T>
T LoadBigEndian(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return SwapBytes(v);
}

}  // namespace sandtrace::wire
