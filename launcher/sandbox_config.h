// The compiled sandbox configuration that the `sandtrace` wrapper hands to the tracer (as a
// file in the private run directory): everything the launch chain needs, already validated and
// resolved — canonical paths, the compiled seccomp program — so that neither the tracer nor
// the launcher parses policies. MessagePack, versioned with the wire format.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace sandtrace::launcher {

struct SandboxConfig {
  bool trace_only = true;  // layers 6-7 skipped; the new session and fd closing skipped
  // Enforcing: the wrapper already put the whole run (itself, the tracer, the command) in a
  // session of its own (cli/supervisor.cc), so the command leaves only the process group
  // (setpgid). False: the command makes its own session (setsid).
  bool session_made = false;
  bool new_network = true;  // layer 4 (false with --allow-net)
  bool allow_exec = false;  // execve after the command's own: allowed (else EPERM + deny)
  // With allow_exec false: the policy's filesystem.allow_exec programs may still be executed.
  // Landlock (layer 6) decides; the tracer reports its refusals as EPERM + deny.
  bool exec_allowlist = false;
  // Layer 5 limits (enforcing mode). 0 means no limit, except max_processes.
  uint32_t max_processes = 1024;  // RLIMIT_NPROC and the tracer's own count of tasks
  uint64_t max_file_size = 0;     // RLIMIT_FSIZE (bytes): larger writes fail, SIGXFSZ
  uint64_t memory = 0;            // RLIMIT_AS (bytes) of every process
  // Syscall numbers the policy lists as [syscalls] log_only: recorded with action log_only.
  std::vector<int32_t> log_only;
  // --trace: a seccomp program (SECCOMP_RET_TRACE for the selected syscalls, allow for the
  // rest) installed in both modes, so unselected syscalls never stop the tracer. Empty: every
  // syscall is traced (PTRACE_SYSCALL).
  std::string trace_filter;
  // Layer 2 (enforcing): the restricted filesystem view.
  std::vector<std::string> writable_paths;  // bound read-write
  std::vector<std::string> masked_paths;    // hidden (filesystem.deny that exist)
  std::vector<std::string> visible_paths;   // bound read-only where a private tmpfs would hide
                                            // them (the command's executable under /tmp)
  std::vector<std::string> hidden_paths;    // directories replaced by an empty tmpfs
  // Layer 6 (enforcing): Landlock rules, canonical paths.
  std::vector<std::string> landlock_read;
  std::vector<std::string> landlock_read_write;
  std::vector<std::string> landlock_exec;
  std::vector<std::string> landlock_optional;  // may be missing (e.g. /lib64)
  // Layer 7 (enforcing): the seccomp program, serialised (launcher/seccomp_filter.h).
  std::string seccomp_program;
};

std::string SerializeSandboxConfig(const SandboxConfig& config);
Result<SandboxConfig> DeserializeSandboxConfig(const std::string& bytes);

}  // namespace sandtrace::launcher
