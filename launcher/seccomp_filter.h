// Sandbox layer 7: the seccomp-bpf filter. The wrapper compiles it with libseccomp before fork
// (CompileSeccompFilter, library sandtrace_seccomp_compile) and hands the raw classic-BPF
// program to the tracer as bytes (Serialize/Deserialize). The command process installs it
// after layer 5 (no_new_privs) and before layer 8 (InstallSeccompFilterInChild: syscalls only,
// no allocation). The tracer evaluates the same program in user space at syscall entry
// (IsDeniedByFilter) to mark a record `action: deny` exactly as the kernel decides: the
// decision depends on the syscall number and integer arguments only, never on memory the
// tracee could change (TOCTOU-safe).
//
// The filter (default action: allow; every rule denies):
//   - architecture: native x86-64 only; i386 (`int $0x80`) and x32 (numbers with bit
//     0x40000000) kill the whole process (SECCOMP_RET_KILL_PROCESS, seen as SIGSYS);
//   - EPERM (SECCOMP_RET_ERRNO): the seed's always-blocked list, the hardening list
//     (kAlwaysDenied in seccomp_compile.cc) and the policy's `[syscalls] deny` names;
//   - EPERM when an integer argument matches, comparing the low 32 bits where the kernel
//     reads an int: clone with CLONE_NEW* or CLONE_UNTRACED, ioctl TIOCSTI/TIOCLINUX, seccomp
//     with SECCOMP_FILTER_FLAG_NEW_LISTENER, ptrace other than PTRACE_TRACEME (layer 8 needs
//     it; inside the sandbox every process is already traced, so it only ever fails), and
//     personality other than the query 0xffffffff;
//   - ENOSYS: clone3 (its flags are in memory; libc then falls back to clone).
// Everything except CompileSeccompFilter lives in sandtrace_launcher and needs no libseccomp.
#pragma once

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace sandtrace::launcher {

inline constexpr char kSeccompLayer[] = "layer 7 (seccomp)";

// The errno of every deny rule, and what the kernel returns for the architecture check.
inline constexpr int kSeccompDenyErrno = EPERM;
inline constexpr uint32_t kSeccompBadArchAction = SECCOMP_RET_KILL_PROCESS;

// Typed input from the policy (never TOML).
struct SeccompConfig {
  std::vector<std::string> deny;  // extra syscall names from the policy's [syscalls] deny
  // With the --trace pre-filter: every deny rule returns SECCOMP_RET_TRACE | kTraceDenyEperm
  // (clone3: | kTraceDenyEnosys) instead of the errno, so that a denied call still stops the
  // tracer, which refuses it (DeniedErrno) and records it. Without a tracer attached the
  // kernel fails such a call with ENOSYS: it is refused either way.
  bool deny_through_tracer = false;
};

inline constexpr uint32_t kTraceDenyEperm = 1;
inline constexpr uint32_t kTraceDenyEnosys = 2;

// A validated classic-BPF seccomp program (or empty: no filter). Every non-empty program has
// passed ValidateCode, so EvaluateSeccompFilter can run it safely.
class SeccompProgram {
 public:
  SeccompProgram() = default;

  // Checks `code` (opcodes seccomp accepts, loads inside seccomp_data, forward jumps inside
  // the program, ends in RET, at most BPF_MAXINSNS instructions) and wraps it.
  static Result<SeccompProgram> FromCode(std::vector<sock_filter> code);

  // Bytes for the hand-over from wrapper to tracer: "STSCBPF1", then each instruction as
  // code u16, jt u8, jf u8, k u32, little-endian (8 bytes, the kernel's layout on x86-64).
  std::string Serialize() const;

  // Inverse of Serialize; rejects a wrong magic, a partial instruction or an invalid program.
  static Result<SeccompProgram> Deserialize(std::string_view bytes);

  const std::vector<sock_filter>& code() const { return code_; }
  bool empty() const { return code_.empty(); }

 private:
  explicit SeccompProgram(std::vector<sock_filter> code) : code_(std::move(code)) {}
  std::vector<sock_filter> code_;
};

// Compiles the layer 7 filter described above with libseccomp (call before fork). Errors name
// "layer 7 (seccomp)", e.g. an unknown name in `deny`. Defined in sandtrace_seccomp_compile.
Result<SeccompProgram> CompileSeccompFilter(const SeccompConfig& config);

// The --trace pre-filter: SECCOMP_RET_TRACE for each of `numbers` (x86-64) and for every
// call of another architecture, SECCOMP_RET_ALLOW for the rest. Installed after the layer 7
// filter, whose EPERM answers take precedence (the kernel applies the strictest action).
// Defined in sandtrace_seccomp_compile.
Result<SeccompProgram> CompileTraceFilter(const std::vector<int>& numbers);

// x86-64 numbers of the syscalls `names` (e.g. the policy's [syscalls] log_only); an unknown
// name is an error naming it. Defined in sandtrace_seccomp_compile.
Result<std::vector<int>> ResolveSyscallNumbers(const std::vector<std::string>& names);

// Installs `program` on the calling thread with seccomp(SECCOMP_SET_MODE_FILTER). Requires
// PR_SET_NO_NEW_PRIVS already set (layer 5), else fails with EACCES like the kernel does for
// an unprivileged caller. Async-signal-safe (syscalls only, no allocation): returns 0 or the
// errno, which is also left in errno for the launcher's step report.
int InstallSeccompFilterInChild(const SeccompProgram& program) noexcept;

// The same with an Error naming "layer 7 (seccomp)" and the errno; allocates on failure, so
// not for a child of fork (use InstallSeccompFilterInChild there).
Status InstallSeccompFilter(const SeccompProgram& program);

// Runs `program` on `data` like the kernel does and returns the raw SECCOMP_RET_* value
// (action | data). An empty program returns SECCOMP_RET_ALLOW.
uint32_t EvaluateSeccompFilter(const SeccompProgram& program, const seccomp_data& data);

// True when the kernel would fail native x86-64 syscall `nr` with these arguments with EPERM
// because of `program` (SECCOMP_RET_ERRNO | EPERM), or when a deny_through_tracer program
// says so (SECCOMP_RET_TRACE | kTraceDenyEperm). For the tracer at syscall entry.
bool IsDeniedByFilter(const SeccompProgram& program, int nr, const uint64_t args[6]);

// For a deny_through_tracer program: the errno the tracer must fail the call with (EPERM, or
// ENOSYS for clone3), or 0 when the program lets it through.
int DeniedErrno(const SeccompProgram& program, int nr, const uint64_t args[6]);

}  // namespace sandtrace::launcher
