// Sandbox layer 6: Landlock. Turns a LandlockRules (canonical paths, three access kinds) into a
// Landlock ruleset for the best ABI the kernel offers, in two phases: PrepareLandlock runs where
// allocation is still fine (before fork) and does all the work that can fail on a path; the
// forked child then calls EnforceLandlockErrno, which is async-signal-safe (no allocation, one
// syscall). Every filesystem right of the kernel's ABI is handled, so anything not granted by a
// rule is denied, including REFER (v2), TRUNCATE (v3) and IOCTL_DEV (v5). Signals and abstract
// UNIX sockets are scoped to the sandbox (v6). Network rights (v4) are deliberately NOT handled:
// layer 4, the network namespace, isolates the network. No Landlock, or an ABI too old for
// a requested scope, is an error naming "layer 6 (landlock)": never a silent downgrade.
//
// Landlock binds rights at open(): fds opened before EnforceLandlock keep their access, so the
// caller must not leak any into the command (THREATS: inherited fds).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace sandtrace::launcher {

struct LandlockRules {
  // Canonical paths of files or directories; a directory rule covers everything beneath it.
  std::vector<std::string> read;        // read files, list directories
  std::vector<std::string> read_write;  // read + write, truncate, create/remove/rename/link
                                        // files, dirs, symlinks, fifos, sockets (not devices)
  std::vector<std::string> exec;        // read + execute (the command, its ELF interpreter,
                                        // system dirs such as /usr)
  // Paths in the lists above that may be missing (e.g. /lib64): skipped when absent. Any other
  // missing path is an error naming it.
  std::vector<std::string> optional;
  bool scope_signals = true;        // kill() etc. only reach processes inside the sandbox
  bool scope_abstract_unix = true;  // connect() only reaches abstract sockets made inside
  bool audit_denials = false;       // ABI >= 7: log the command's denials to the audit log
};

// A ruleset ready to be enforced. Owns the ruleset fd (CLOEXEC); move-only.
class PreparedLandlock {
 public:
  PreparedLandlock() = default;
  PreparedLandlock(const PreparedLandlock&) = delete;
  PreparedLandlock& operator=(const PreparedLandlock&) = delete;
  PreparedLandlock(PreparedLandlock&& other) noexcept;
  PreparedLandlock& operator=(PreparedLandlock&& other) noexcept;
  ~PreparedLandlock();

  int abi() const { return abi_; }
  int ruleset_fd() const { return ruleset_fd_; }
  uint64_t handled_fs() const { return handled_fs_; }
  uint64_t scoped() const { return scoped_; }
  uint32_t restrict_flags() const { return restrict_flags_; }
  int rule_count() const { return rule_count_; }
  const std::vector<std::string>& skipped() const { return skipped_; }  // missing optionals

 private:
  friend Result<PreparedLandlock> PrepareLandlock(const LandlockRules& rules);
  void Close();

  int abi_ = 0;
  int ruleset_fd_ = -1;
  uint64_t handled_fs_ = 0;
  uint64_t scoped_ = 0;
  uint32_t restrict_flags_ = 0;
  int rule_count_ = 0;
  std::vector<std::string> skipped_;
};

// The kernel's Landlock ABI version (>= 1), or -errno when Landlock is unavailable (ENOSYS: not
// built in; EOPNOTSUPP: disabled at boot).
int LandlockAbi();

// Builds the ruleset: queries the ABI, handles every filesystem right it knows, adds one
// path-beneath rule per existing path (files get only file rights). Errors name
// "layer 6 (landlock)" and the failing path or syscall.
Result<PreparedLandlock> PrepareLandlock(const LandlockRules& rules);

// Child side, async-signal-safe: landlock_restrict_self, then closes this process's copy of
// the ruleset fd. Needs no_new_privs (layer 5) or CAP_SYS_ADMIN. Returns 0 or the errno.
// Call only in a process whose PreparedLandlock is never destroyed (a forked child that will
// exec or _exit), since the fd is closed here.
int EnforceLandlockErrno(const PreparedLandlock& prepared) noexcept;

// Same as EnforceLandlockErrno, with an Error naming the layer on failure (that path allocates;
// a child of a multi-threaded parent should use the errno form).
Status EnforceLandlock(const PreparedLandlock& prepared);

// One line for the `sandbox` event, e.g.
// "ABI 7; 12 rules; signals and abstract unix sockets scoped; network left to layer 4".
std::string Describe(const PreparedLandlock& prepared);

}  // namespace sandtrace::launcher
