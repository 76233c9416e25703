// Copies bytes out of a stopped tracee with process_vm_readv: NUL-terminated strings, fixed-size
// buffers and NULL-terminated string arrays. Reads never cross into an unmapped page before they
// have to, so a string at the end of a mapping is still read. Reads are best effort: what could
// not be read is reported as truncated, never as an error (the tracee may pass any pointer).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace sandtrace::tracer {

struct CopiedBytes {
  std::string bytes;
  bool truncated = false;  // hit max_size or unreadable memory before the end
};

// String at `addr`, without its NUL, at most max_size bytes.
CopiedBytes ReadString(pid_t pid, uint64_t addr, size_t max_size);

// Exactly `size` bytes at `addr` (fewer, and truncated, when memory is unreadable).
CopiedBytes ReadBytes(pid_t pid, uint64_t addr, size_t size);

// char*[] at `addr` up to its NULL: items joined with '\0' (no trailing NUL). At most
// max_items items and max_total bytes.
CopiedBytes ReadStringArray(pid_t pid, uint64_t addr, size_t max_items, size_t max_total);

}  // namespace sandtrace::tracer
