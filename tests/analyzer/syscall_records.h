// Test helper: synthetic raw records as the tracer would send them.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <initializer_list>
#include <string>

#include "common/wire/records.h"

namespace sandtrace::analyzer::testing {

inline constexpr uint64_t kBaseNs = 1764369639123456789ull;  // 2025-11-28T22:40:39.123456Z

inline wire::SyscallRecord Syscall(int32_t nr, std::initializer_list<uint64_t> args,
                                   int64_t ret = 0, int32_t tid = 100, int32_t tgid = 100) {
  wire::SyscallRecord r;
  r.tid = tid;
  r.tgid = tgid;
  r.nr = nr;
  int i = 0;
  for (uint64_t a : args) r.args[i++] = a;
  r.ret = ret;
  r.entry_ns = kBaseNs;
  r.duration_ns = 42000;
  return r;
}

inline wire::SyscallRecord& Capture(wire::SyscallRecord& r, uint8_t arg, wire::CaptureKind kind,
                                    std::string bytes, bool truncated = false) {
  r.captures.push_back({arg, kind, truncated, std::move(bytes)});
  return r;
}

inline std::string Bytes(const void* data, size_t size) {
  return std::string(static_cast<const char*>(data), size);
}

inline std::string Inet(const char* address, uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  inet_pton(AF_INET, address, &sin.sin_addr);
  return Bytes(&sin, sizeof(sin));
}

inline std::string Inet6(const char* address, uint16_t port) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  inet_pton(AF_INET6, address, &sin6.sin6_addr);
  return Bytes(&sin6, sizeof(sin6));
}

// `path` may start with '\0' for an abstract socket; the length is what connect(2) gets.
inline std::string Unix(const std::string& path) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, path.data(), path.size());
  const size_t length = offsetof(sockaddr_un, sun_path) + path.size() + (path[0] != '\0');
  return Bytes(&sun, length);
}

}  // namespace sandtrace::analyzer::testing
