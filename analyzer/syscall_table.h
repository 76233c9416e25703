// The x86-64 syscall table of the analyser: one constexpr array, indexed by syscall number,
// that maps number -> name -> category -> the kinds of its six arguments. It names every
// number a kernel up to 6.18 assigns (0..334 and 424..469); numbers no kernel assigns are
// named `syscall_N`. x32 numbers (bit 0x40000000 set) are named `x32:NAME` after the x32
// syscall of that number, or `syscall_N` when the x32 ABI has none; their arguments are not
// decoded (the tracer copies nothing for them).
//
// The table lives in syscall_table.cc between generator markers; it is written by
// scripts/gen_syscall_table.py from <asm/unistd_64.h> plus a hand-made classification of every
// syscall, and the committed file is the source of truth.
//
// Category choices (SPEC section 3): reading contents and opening for reading -> file_read;
// writing, truncating, syncing, creating, linking, renaming and unlinking files -> file_write
// (open/openat/openat2/open_by_handle_at with a write flag are reclassified by the decoder);
// stat, access, chmod, chown, utime, xattr, statfs, readlink, flock, inotify -> file_metadata;
// mkdir, rmdir, getdents, chdir, getcwd, chroot -> directory; memory maps and policies ->
// memory; fork/exec/exit/wait, credentials, scheduling, limits, namespaces -> process;
// sockets -> network; signal delivery and handling -> signal; pipes, SysV/POSIX IPC, futexes,
// eventfd, splice/tee -> ipc; time, timers, mounts, modules, keys, aio, io_uring, bpf, LSMs,
// ioctl -> system; fd bookkeeping (close, dup, fcntl), poll/select/epoll and syscalls that
// no kernel implements any more -> other.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sandtrace::analyzer {

enum class Category : uint8_t {
  kFileRead,
  kFileWrite,
  kFileMetadata,
  kDirectory,
  kProcess,
  kNetwork,
  kMemory,
  kSignal,
  kIpc,
  kSystem,
  kOther,
};

// What an argument holds, as far as the decoder cares.
enum class ArgKind : uint8_t {
  kNone,        // the syscall has no such argument (nor any after it)
  kInt,         // a number that is not decoded
  kPointer,     // an address that is not decoded
  kFd,          // a file descriptor -> decoded "fd"
  kDirFd,       // a directory fd or AT_FDCWD -> "dirfd"
  kPath,        // a path the tracer copies -> "path", the second one "path2"
  kString,      // a string that is not a path (xattr name, fs type); not decoded
  kOpenFlags,   // O_* flags -> "flags"
  kCreateMode,  // a mode that only counts when the open flags create a file -> "mode"
  kMode,        // permission bits -> "mode"
  kSockaddr,    // struct sockaddr* the tracer copies -> "addr"
  kMsghdr,      // struct msghdr*; "addr" when the tracer copied its msg_name
  kArgv,        // char*[] the tracer copies -> "argv"
  kSignal,      // a signal number -> "signal"
  kPid,         // the process or thread acted upon -> "target_pid"
  kCount,       // a byte count -> "count"
};

inline constexpr int kArgCount = 6;

struct SyscallInfo {
  std::string_view name;
  Category category = Category::kOther;
  std::array<ArgKind, kArgCount> args = {};
};

inline constexpr int32_t kMaxSyscall = 469;
inline constexpr int32_t kX32Bit = 0x40000000;

// The table itself: kSyscallTable[nr] for nr in 0..kMaxSyscall.
extern const std::array<SyscallInfo, kMaxSyscall + 1> kSyscallTable;

// The table entry of `nr`, or nullptr when nr is outside 0..kMaxSyscall.
inline const SyscallInfo* FindSyscall(int64_t nr) {
  if (nr < 0 || nr > kMaxSyscall) return nullptr;
  return &kSyscallTable[static_cast<size_t>(nr)];
}

// The name of any number: the table's, "x32:NAME" for an x32 syscall, else "syscall_N".
std::string SyscallName(int64_t nr);

// The number of the table's syscall `name` ("openat"), or -1 when the table has none.
int32_t SyscallNumber(std::string_view name);

// The category of any number: the table's, the native equivalent's for an x32 syscall, else
// kOther.
Category SyscallCategory(int64_t nr);

// "file_read", "network", ... as in the JSONL schema.
const char* CategoryName(Category category);

}  // namespace sandtrace::analyzer
