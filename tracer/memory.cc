#include "tracer/memory.h"

#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <iterator>

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
  // The pointers are read a page's worth at a time (one call for a whole short argv, not one
  // per item): a read never goes past the end of the page that holds the next pointer.
  uint64_t slots[kPageSize / sizeof(uint64_t)];
  size_t have = 0, next = 0;  // pointers in `slots`, and the next one to use
  for (size_t i = 0; i < max_items; ++i) {
    if (next == have) {
      const uint64_t at = addr + i * sizeof(uint64_t);
      const size_t want = std::min(max_items - i, std::size(slots)) * sizeof(uint64_t);
      ssize_t n = ReadWithinPage(pid, at, reinterpret_cast<char*>(slots), want);
      if (n < static_cast<ssize_t>(sizeof(uint64_t))) {
        // Unreadable, or a misaligned pointer that straddles two pages: this one alone.
        CopiedBytes slot = ReadBytes(pid, at, sizeof(uint64_t));
        if (slot.truncated) {
          out.truncated = true;
          return out;
        }
        memcpy(slots, slot.bytes.data(), sizeof(uint64_t));
        n = sizeof(uint64_t);
      }
      have = static_cast<size_t>(n) / sizeof(uint64_t);
      next = 0;
    }
    const uint64_t item = slots[next++];
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
