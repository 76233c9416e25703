// Decodes the arguments of one syscall record into the `args.decoded` fields of a syscall
// event (docs/events.md): the argument kinds come from the syscall table, the bytes of paths,
// socket addresses and argv from the record's captures (keyed by argument index). Decoding
// never fails: what cannot be decoded is left out. The result refers to the record's bytes
// and is meant to be packed right away.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "analyzer/syscall_table.h"
#include "common/wire/records.h"

namespace sandtrace::analyzer {

inline constexpr int32_t kAtFdCwd = -100;

// A decoded struct sockaddr. `has_address` is false for families the analyser does not
// decode (only the family is known then).
struct SocketAddress {
  int family = 0;
  bool has_address = false;
  std::string address;  // "127.0.0.1", "::1", a socket path, or "@name" for abstract sockets
  int port = 0;         // AF_INET/AF_INET6; 0 otherwise
};

struct DecodedArgs {
  std::optional<int32_t> fd;
  std::optional<int32_t> dirfd;  // kAtFdCwd is written as "AT_FDCWD"
  std::optional<std::string_view> path;
  std::optional<std::string_view> path2;
  std::optional<uint32_t> open_flags;
  std::optional<uint32_t> mode;
  std::optional<SocketAddress> addr;
  std::optional<std::string_view> argv;  // items separated by '\0' (no trailing NUL)
  std::optional<int32_t> signal;
  std::optional<int32_t> target_pid;
  std::optional<uint64_t> count;
  bool truncated = false;  // a capture this decoding used hit the tracer's copy limit

  // Number of keys of the `decoded` map.
  int size() const {
    return fd.has_value() + dirfd.has_value() + path.has_value() + path2.has_value() +
           open_flags.has_value() + mode.has_value() + addr.has_value() + argv.has_value() +
           signal.has_value() + target_pid.has_value() + count.has_value() + truncated;
  }
};

// Decodes `record` (syscall `info`); `info` may be null for numbers outside the table.
DecodedArgs DecodeArgs(const wire::SyscallRecord& record, const SyscallInfo* info);

// The category of this call: the table's, except that an open with write flags is file_write.
Category EffectiveCategory(const SyscallInfo& info, const DecodedArgs& decoded);

// Parses a struct sockaddr as the tracer copied it; nullopt when too short to hold a family.
std::optional<SocketAddress> ParseSockaddr(std::string_view bytes);

}  // namespace sandtrace::analyzer
