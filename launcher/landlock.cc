#include "launcher/landlock.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <utility>

// Debian 12's linux-libc-dev (6.1) stops at ABI 2; the values below are the kernel's uapi.
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)  // ABI 3
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)  // ABI 5
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)  // ABI 6
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)  // ABI 6
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0)  // ABI 7
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1)  // ABI 7
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF (1U << 2)  // ABI 7
#endif

namespace sandtrace::launcher {
namespace {

// Error contexts name the layer first: "layer 6 (landlock): open(/x, O_PATH)".
std::string Layer(const std::string& what) { return "layer 6 (landlock): " + what; }

// struct landlock_ruleset_attr as of ABI 6; the size passed to the kernel depends on the ABI,
// so older kernels never see fields they do not know.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;  // ABI 4; always 0 here: the network namespace isolates
  uint64_t scoped;              // ABI 6
};

constexpr uint64_t kFsV1 =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
    LANDLOCK_ACCESS_FS_MAKE_SYM;

// Rights that apply to a non-directory; a rule on a file with any other right is EINVAL.
constexpr uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                 LANDLOCK_ACCESS_FS_IOCTL_DEV;

constexpr uint64_t kReadRights = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
// MAKE_CHAR and MAKE_BLOCK are left out on purpose: no device nodes, even in writable dirs.
constexpr uint64_t kReadWriteRights =
    kReadRights | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM |
    LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV;
constexpr uint64_t kExecRights = kReadRights | LANDLOCK_ACCESS_FS_EXECUTE;

// Every filesystem right the given ABI knows: all of them are handled (denied unless granted).
uint64_t HandledFs(int abi) {
  uint64_t fs = kFsV1;
  if (abi >= 2) fs |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return fs;
}

size_t AttrSize(int abi) {
  if (abi >= 6) return sizeof(RulesetAttr);
  if (abi >= 4) return offsetof(RulesetAttr, scoped);
  return offsetof(RulesetAttr, handled_access_net);
}

uint32_t RestrictFlags(int abi, bool audit_denials) {
  if (abi < 7) return 0;
  // The command is untrusted: by default its denials (and its own nested domains') stay out
  // of the host's audit log; sandtrace records denials itself.
  if (audit_denials) return LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON;
  return LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF | LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF;
}

bool IsOptional(const LandlockRules& rules, const std::string& path) {
  return std::find(rules.optional.begin(), rules.optional.end(), path) != rules.optional.end();
}

// Adds a path-beneath rule for `path`. Sets *skipped when an optional path is missing.
Status AddPathRule(int ruleset_fd, const std::string& path, uint64_t rights, bool optional,
                   bool* skipped) {
  *skipped = false;
  int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    if (optional && (error == ENOENT || error == ENOTDIR)) {
      *skipped = true;
      return {};
    }
    return Error{error, Layer("open(" + path + ", O_PATH)")};
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int error = errno;
    close(fd);
    return Error{error, Layer("fstat(" + path + ")")};
  }
  if (!S_ISDIR(st.st_mode)) rights &= kFileRights;
  struct landlock_path_beneath_attr attr = {};
  attr.allowed_access = rights;
  attr.parent_fd = fd;
  long rc = syscall(SYS_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &attr, 0);
  int error = errno;
  close(fd);
  if (rc != 0) return Error{error, Layer("landlock_add_rule(" + path + ")")};
  return {};
}

}  // namespace

PreparedLandlock::PreparedLandlock(PreparedLandlock&& other) noexcept { *this = std::move(other); }

PreparedLandlock& PreparedLandlock::operator=(PreparedLandlock&& other) noexcept {
  if (this == &other) return *this;
  Close();
  abi_ = other.abi_;
  ruleset_fd_ = std::exchange(other.ruleset_fd_, -1);
  handled_fs_ = other.handled_fs_;
  scoped_ = other.scoped_;
  restrict_flags_ = other.restrict_flags_;
  rule_count_ = other.rule_count_;
  skipped_ = std::move(other.skipped_);
  return *this;
}

PreparedLandlock::~PreparedLandlock() { Close(); }

void PreparedLandlock::Close() {
  if (ruleset_fd_ >= 0) close(ruleset_fd_);
  ruleset_fd_ = -1;
}

int LandlockAbi() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 0) return -errno;
  return abi < 1 ? -EOPNOTSUPP : static_cast<int>(abi);
}

Result<PreparedLandlock> PrepareLandlock(const LandlockRules& rules) {
  int abi = LandlockAbi();
  if (abi < 1) {
    return Error{-abi, Layer("Landlock unavailable "
                             "(landlock_create_ruleset(NULL, 0, VERSION))")};
  }
  uint64_t scoped = 0;
  if (rules.scope_abstract_unix) scoped |= LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
  if (rules.scope_signals) scoped |= LANDLOCK_SCOPE_SIGNAL;
  if (scoped != 0 && abi < 6) {
    return Error{EOPNOTSUPP, Layer("scoping signals and abstract unix sockets needs ABI 6, "
                                   "the kernel has ABI " +
                                   std::to_string(abi))};
  }

  PreparedLandlock prepared;
  prepared.abi_ = abi;
  prepared.handled_fs_ = HandledFs(abi);
  prepared.scoped_ = scoped;
  prepared.restrict_flags_ = RestrictFlags(abi, rules.audit_denials);

  RulesetAttr attr = {prepared.handled_fs_, 0, scoped};
  long fd = syscall(SYS_landlock_create_ruleset, &attr, AttrSize(abi), 0);
  if (fd < 0) return Error{errno, Layer("landlock_create_ruleset")};
  prepared.ruleset_fd_ = static_cast<int>(fd);

  const std::pair<const std::vector<std::string>*, uint64_t> lists[] = {
      {&rules.read, kReadRights},
      {&rules.read_write, kReadWriteRights},
      {&rules.exec, kExecRights}};
  for (const auto& [paths, rights] : lists) {
    for (const std::string& path : *paths) {
      bool skipped = false;
      Status added = AddPathRule(prepared.ruleset_fd_, path, rights & prepared.handled_fs_,
                                 IsOptional(rules, path), &skipped);
      if (!added) return added.error();
      if (skipped) {
        prepared.skipped_.push_back(path);
      } else {
        ++prepared.rule_count_;
      }
    }
  }
  return prepared;
}

int EnforceLandlockErrno(const PreparedLandlock& prepared) noexcept {
  int fd = prepared.ruleset_fd();
  if (syscall(SYS_landlock_restrict_self, fd, prepared.restrict_flags()) != 0) return errno;
  close(fd);  // close(2) is async-signal-safe; the ruleset lives on in the domain
  return 0;
}

Status EnforceLandlock(const PreparedLandlock& prepared) {
  int error = EnforceLandlockErrno(prepared);
  if (error == 0) return {};
  return Error{error, Layer("landlock_restrict_self")};
}

std::string Describe(const PreparedLandlock& prepared) {
  std::string out = "ABI " + std::to_string(prepared.abi()) + "; " +
                    std::to_string(prepared.rule_count()) + " rules";
  if (!prepared.skipped().empty()) {
    out += " (missing, skipped:";
    for (const std::string& path : prepared.skipped()) out += " " + path;
    out += ")";
  }
  bool signals = prepared.scoped() & LANDLOCK_SCOPE_SIGNAL;
  bool unix_sockets = prepared.scoped() & LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
  if (signals && unix_sockets) {
    out += "; signals and abstract unix sockets scoped";
  } else if (signals) {
    out += "; signals scoped";
  } else if (unix_sockets) {
    out += "; abstract unix sockets scoped";
  } else {
    out += "; nothing scoped";
  }
  if (prepared.restrict_flags() & LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON) {
    out += "; denials audited";
  }
  out += "; network left to layer 4";
  return out;
}

}  // namespace sandtrace::launcher
