#include "analyzer/decoder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>

#include "analyzer/names.h"

namespace sandtrace::analyzer {
namespace {

const wire::Capture* FindCapture(const wire::SyscallRecord& record, int arg,
                                 wire::CaptureKind kind) {
  for (const wire::Capture& capture : record.captures) {
    if (capture.arg == arg && capture.kind == kind) return &capture;
  }
  return nullptr;
}

// Registers hold 64 bits; int-typed arguments live in the low 32 (the rest is undefined).
int32_t AsInt(uint64_t raw) { return static_cast<int32_t>(static_cast<uint32_t>(raw)); }
uint32_t AsUint(uint64_t raw) { return static_cast<uint32_t>(raw); }

// Copies up to sizeof(T) bytes of `bytes` into a zeroed T.
template <typename T>
T CopyPrefix(std::string_view bytes) {
  T value;
  std::memset(&value, 0, sizeof(value));
  std::memcpy(&value, bytes.data(), std::min(bytes.size(), sizeof(value)));
  return value;
}

void ParseInet(std::string_view bytes, SocketAddress* out) {
  if (bytes.size() < offsetof(sockaddr_in, sin_addr) + sizeof(in_addr)) return;
  const sockaddr_in sin = CopyPrefix<sockaddr_in>(bytes);
  char text[INET_ADDRSTRLEN] = {};
  if (inet_ntop(AF_INET, &sin.sin_addr, text, sizeof(text)) == nullptr) return;
  out->has_address = true;
  out->address = text;
  out->port = ntohs(sin.sin_port);
}

void ParseInet6(std::string_view bytes, SocketAddress* out) {
  if (bytes.size() < offsetof(sockaddr_in6, sin6_addr) + sizeof(in6_addr)) return;
  const sockaddr_in6 sin6 = CopyPrefix<sockaddr_in6>(bytes);
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof(text)) == nullptr) return;
  out->has_address = true;
  out->address = text;
  if (sin6.sin6_scope_id != 0) {
    out->address += '%';
    out->address += std::to_string(sin6.sin6_scope_id);
  }
  out->port = ntohs(sin6.sin6_port);
}

void ParseUnix(std::string_view bytes, SocketAddress* out) {
  std::string_view path = bytes.substr(offsetof(sockaddr_un, sun_path));
  out->has_address = true;
  if (!path.empty() && path[0] == '\0') {
    out->address = "@";
    out->address.append(path.substr(1));  // abstract names are all `addrlen` bytes, NULs too
    return;
  }
  out->address.assign(path.substr(0, path.find('\0')));
}

}  // namespace

std::optional<SocketAddress> ParseSockaddr(std::string_view bytes) {
  if (bytes.size() < sizeof(sa_family_t)) return std::nullopt;
  sa_family_t family = 0;
  std::memcpy(&family, bytes.data(), sizeof(family));
  SocketAddress out;
  out.family = family;
  switch (family) {
    case AF_INET:
      ParseInet(bytes, &out);
      break;
    case AF_INET6:
      ParseInet6(bytes, &out);
      break;
    case AF_UNIX:
      ParseUnix(bytes, &out);
      break;
    default:
      break;
  }
  return out;
}

DecodedArgs DecodeArgs(const wire::SyscallRecord& record, const SyscallInfo* info) {
  DecodedArgs out;
  if (info == nullptr) return out;
  std::optional<uint32_t> create_mode;
  for (int i = 0; i < kArgCount && info->args[i] != ArgKind::kNone; ++i) {
    const uint64_t raw = record.args[i];
    const wire::Capture* capture = nullptr;
    switch (info->args[i]) {
      case ArgKind::kFd:
        out.fd = AsInt(raw);
        break;
      case ArgKind::kDirFd:
        out.dirfd = AsInt(raw);
        break;
      case ArgKind::kOpenFlags:
        out.open_flags = AsUint(raw);
        break;
      case ArgKind::kCreateMode:
        create_mode = AsUint(raw);
        break;
      case ArgKind::kMode:
        out.mode = AsUint(raw);
        break;
      case ArgKind::kSignal:
        out.signal = AsInt(raw);
        break;
      case ArgKind::kPid:
        out.target_pid = AsInt(raw);
        break;
      case ArgKind::kCount:
        out.count = raw;
        break;
      case ArgKind::kPath:
        capture = FindCapture(record, i, wire::CaptureKind::kString);
        if (capture != nullptr) (out.path ? out.path2 : out.path) = capture->bytes;
        break;
      case ArgKind::kSockaddr:
      case ArgKind::kMsghdr:
        capture = FindCapture(record, i, wire::CaptureKind::kSockaddr);
        if (capture != nullptr) out.addr = ParseSockaddr(capture->bytes);
        break;
      case ArgKind::kArgv:
        capture = FindCapture(record, i, wire::CaptureKind::kStringList);
        if (capture != nullptr) out.argv = capture->bytes;
        break;
      case ArgKind::kNone:
      case ArgKind::kInt:
      case ArgKind::kPointer:
      case ArgKind::kString:
        break;
    }
    if (capture != nullptr && capture->truncated) out.truncated = true;
  }
  if (create_mode && out.open_flags && OpenFlagsCreate(*out.open_flags)) out.mode = create_mode;
  return out;
}

Category EffectiveCategory(const SyscallInfo& info, const DecodedArgs& decoded) {
  if (info.category == Category::kFileRead && decoded.open_flags &&
      OpenFlagsWrite(*decoded.open_flags)) {
    return Category::kFileWrite;
  }
  return info.category;
}

}  // namespace sandtrace::analyzer
