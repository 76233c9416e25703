// `--trace CLASSES`: which syscalls stop the tracer (like strace's `-e trace=`). The
// selection is a comma-separated list of classes and syscall names:
//   file              as strace's %file: every syscall that takes a file name (openat,
//                     newfstatat, execve, unlink, mount, ...), not those on a descriptor
//   desc              as strace's %desc: every syscall that takes a file descriptor (read,
//                     write, close, getdents64, fstat, openat's dirfd, ...)
//   process           as strace's %process: a process's life (clone, clone3, fork, vfork,
//                     execve, execveat, exit, exit_group, wait4, waitid, kill, tkill, tgkill,
//                     rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal); the JSONL category
//                     `process` holds more (ids, credentials, limits, scheduling, ...)
//   file_read, file_write, file_metadata, directory, network, memory, signal, ipc, system,
//   other             the JSONL categories (open/openat/creat count as file_write too);
//                     `net` is strace's name of network
//   all               every syscall (the same as no --trace)
//   none              no syscall but those traced anyway (below)
//   NAME              one syscall, e.g. openat; a leading '%' on a class is accepted
// A leading '!' selects every syscall but the listed ones, as in strace: `!read,write`.
// Whatever is selected, the calls the tracer itself needs are traced too: execve and execveat
// (exec records and the exec rules), fork, vfork, clone and clone3 (following processes and
// threads), and the policy's log_only calls.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace sandtrace::cli {

// The selected x86-64 syscall numbers, sorted, or an error naming the unknown item. "all" (or
// an empty selection) returns an empty list: no pre-filter. A selection of nothing ("none",
// "!all") returns the calls traced anyway.
Result<std::vector<int>> SelectSyscalls(const std::string& selection);

// `selected` plus the syscalls the tracer always needs (see above) and `extra`.
std::vector<int> TracedSyscalls(const std::vector<int>& selected, const std::vector<int>& extra);

}  // namespace sandtrace::cli
