#include "tracer/memory.h"

#include <sys/uio.h>

#include <cstring>

namespace sandtrace::tracer {
namespace {

constexpr uint64_t kPageSize = 4096;

// Reads up to `size` bytes but not past the end of the page holding `addr`.
ssize_t ReadWithinPage(pid_t pid, uint64_t addr, char* out, size_t size) {
  const uint64_t page_left = kPageSize - (addr % kPageSize);
  if (size > page_left) size = page_left;
  iovec local{out, size};
  iovec remote{reinterpret_cast<void*>(addr), size};
  return process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

}  // namespace

CopiedBytes ReadString(pid_t pid, uint64_t addr, size_t max_size) {
  CopiedBytes out;
  if (addr == 0) {
    out.truncated = true;
    return out;
  }
  char chunk[kPageSize];
  while (out.bytes.size() < max_size) {
    // Most strings are short: start with a small read, then whole pages.
    size_t want = out.bytes.empty() ? 256 : kPageSize;
    if (want > max_size - out.bytes.size() + 1) want = max_size - out.bytes.size() + 1;
    ssize_t n = ReadWithinPage(pid, addr, chunk, want);
    if (n <= 0) {
      out.truncated = true;  // EFAULT/ESRCH: unreadable pointer or the tracee died
      return out;
    }
    if (const void* nul = memchr(chunk, '\0', static_cast<size_t>(n))) {
      out.bytes.append(chunk, static_cast<const char*>(nul) - chunk);
      return out;
    }
    out.bytes.append(chunk, static_cast<size_t>(n));
    addr += static_cast<uint64_t>(n);
  }
  out.bytes.resize(max_size);
  out.truncated = true;
  return out;
}

CopiedBytes ReadBytes(pid_t pid, uint64_t addr, size_t size) {
  CopiedBytes out;
  out.bytes.resize(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ReadWithinPage(pid, addr + done, out.bytes.data() + done, size - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  if (done < size) {
    out.bytes.resize(done);
    out.truncated = true;
  }
  return out;
}

CopiedBytes ReadStringArray(pid_t pid, uint64_t addr, size_t max_items, size_t max_total) {
  CopiedBytes out;
  if (addr == 0) return out;
  for (size_t i = 0; i < max_items; ++i) {
    CopiedBytes slot = ReadBytes(pid, addr + i * sizeof(uint64_t), sizeof(uint64_t));
    if (slot.truncated) {
      out.truncated = true;
      return out;
    }
    uint64_t item;
    memcpy(&item, slot.bytes.data(), sizeof item);
    if (item == 0) return out;
    if (i > 0) out.bytes.push_back('\0');
    const size_t room = max_total > out.bytes.size() ? max_total - out.bytes.size() : 0;
    CopiedBytes s = ReadString(pid, item, room);
    out.bytes += s.bytes;
    if (s.truncated) {
      out.truncated = true;
      return out;
    }
  }
  out.truncated = true;  // more than max_items
  return out;
}

}  // namespace sandtrace::tracer
