#include "analyzer/names.h"

#include <cstdio>
#include <iterator>
#include <string_view>

namespace sandtrace::analyzer {
namespace {

// asm-generic/errno-base.h and errno.h, indexed by value; empty for aliases.
// clang-format off
constexpr std::string_view kErrnoNames[] = {
    "",           "EPERM",        "ENOENT",       "ESRCH",           "EINTR",
    "EIO",        "ENXIO",        "E2BIG",        "ENOEXEC",         "EBADF",
    "ECHILD",     "EAGAIN",       "ENOMEM",       "EACCES",          "EFAULT",
    "ENOTBLK",    "EBUSY",        "EEXIST",       "EXDEV",           "ENODEV",
    "ENOTDIR",    "EISDIR",       "EINVAL",       "ENFILE",          "EMFILE",
    "ENOTTY",     "ETXTBSY",      "EFBIG",        "ENOSPC",          "ESPIPE",
    "EROFS",      "EMLINK",       "EPIPE",        "EDOM",            "ERANGE",
    "EDEADLK",    "ENAMETOOLONG", "ENOLCK",       "ENOSYS",          "ENOTEMPTY",
    "ELOOP",      "",             "ENOMSG",       "EIDRM",           "ECHRNG",
    "EL2NSYNC",   "EL3HLT",       "EL3RST",       "ELNRNG",          "EUNATCH",
    "ENOCSI",     "EL2HLT",       "EBADE",        "EBADR",           "EXFULL",
    "ENOANO",     "EBADRQC",      "EBADSLT",      "",                "EBFONT",
    "ENOSTR",     "ENODATA",      "ETIME",        "ENOSR",           "ENONET",
    "ENOPKG",     "EREMOTE",      "ENOLINK",      "EADV",            "ESRMNT",
    "ECOMM",      "EPROTO",       "EMULTIHOP",    "EDOTDOT",         "EBADMSG",
    "EOVERFLOW",  "ENOTUNIQ",     "EBADFD",       "EREMCHG",         "ELIBACC",
    "ELIBBAD",    "ELIBSCN",      "ELIBMAX",      "ELIBEXEC",        "EILSEQ",
    "ERESTART",   "ESTRPIPE",     "EUSERS",       "ENOTSOCK",        "EDESTADDRREQ",
    "EMSGSIZE",   "EPROTOTYPE",   "ENOPROTOOPT",  "EPROTONOSUPPORT", "ESOCKTNOSUPPORT",
    "EOPNOTSUPP", "EPFNOSUPPORT", "EAFNOSUPPORT", "EADDRINUSE",      "EADDRNOTAVAIL",
    "ENETDOWN",   "ENETUNREACH",  "ENETRESET",    "ECONNABORTED",    "ECONNRESET",
    "ENOBUFS",    "EISCONN",      "ENOTCONN",     "ESHUTDOWN",       "ETOOMANYREFS",
    "ETIMEDOUT",  "ECONNREFUSED", "EHOSTDOWN",    "EHOSTUNREACH",    "EALREADY",
    "EINPROGRESS", "ESTALE",      "EUCLEAN",      "ENOTNAM",         "ENAVAIL",
    "EISNAM",     "EREMOTEIO",    "EDQUOT",       "ENOMEDIUM",       "EMEDIUMTYPE",
    "ECANCELED",  "ENOKEY",       "EKEYEXPIRED",  "EKEYREVOKED",     "EKEYREJECTED",
    "EOWNERDEAD", "ENOTRECOVERABLE", "ERFKILL",   "EHWPOISON",
};
// clang-format on

// include/linux/errno.h: values a tracer can see when a syscall is interrupted or restarted.
constexpr int kFirstInternalErrno = 512;
// clang-format off
constexpr std::string_view kInternalErrnoNames[] = {
    "ERESTARTSYS",  "ERESTARTNOINTR", "ERESTARTNOHAND", "ENOIOCTLCMD",     "ERESTART_RESTARTBLOCK",
    "EPROBE_DEFER", "EOPENSTALE",     "ENOPARAM",       "",                "EBADHANDLE",
    "ENOTSYNC",     "EBADCOOKIE",     "ENOTSUPP",       "ETOOSMALL",       "ESERVERFAULT",
    "EBADTYPE",     "EJUKEBOX",       "EIOCBQUEUED",    "ERECALLCONFLICT", "ENOGRACE",
};
// clang-format on

// clang-format off
constexpr std::string_view kSignalNames[] = {
    "0",       "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP", "SIGABRT",
    "SIGBUS",  "SIGFPE",  "SIGKILL",   "SIGUSR1", "SIGSEGV",   "SIGUSR2", "SIGPIPE",
    "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",
    "SIGTTIN", "SIGTTOU", "SIGURG",    "SIGXCPU", "SIGXFSZ",   "SIGVTALRM", "SIGPROF",
    "SIGWINCH", "SIGIO",  "SIGPWR",    "SIGSYS",
};
// clang-format on
constexpr int kSigRtMin = 32;
constexpr int kSigRtMax = 64;

// clang-format off
constexpr std::string_view kFamilyNames[] = {
    "AF_UNSPEC",  "AF_UNIX",      "AF_INET",  "AF_AX25",      "AF_IPX",    "AF_APPLETALK",
    "AF_NETROM",  "AF_BRIDGE",    "AF_ATMPVC", "AF_X25",      "AF_INET6",  "AF_ROSE",
    "AF_DECnet",  "AF_NETBEUI",   "AF_SECURITY", "AF_KEY",    "AF_NETLINK", "AF_PACKET",
    "AF_ASH",     "AF_ECONET",    "AF_ATMSVC", "AF_RDS",      "AF_SNA",    "AF_IRDA",
    "AF_PPPOX",   "AF_WANPIPE",   "AF_LLC",   "AF_IB",        "AF_MPLS",   "AF_CAN",
    "AF_TIPC",    "AF_BLUETOOTH", "AF_IUCV",  "AF_RXRPC",     "AF_ISDN",   "AF_PHONET",
    "AF_IEEE802154", "AF_CAIF",   "AF_ALG",   "AF_NFC",       "AF_VSOCK",  "AF_KCM",
    "AF_QIPCRTR", "AF_SMC",       "AF_XDP",   "AF_MCTP",
};
// clang-format on

// Kernel values (x86-64, octal as in asm-generic/fcntl.h). glibc's O_LARGEFILE is 0 on 64-bit
// targets, so none of these come from <fcntl.h>.
constexpr uint64_t kAccessMode = 03;
constexpr uint64_t kWriteOnly = 01;
constexpr uint64_t kReadWrite = 02;
constexpr uint64_t kCreate = 0100;
constexpr uint64_t kTruncate = 01000;
constexpr uint64_t kAppend = 02000;
constexpr uint64_t kDataSync = 010000;
constexpr uint64_t kDirectory = 0200000;
constexpr uint64_t kSyncOnly = 04000000;      // __O_SYNC; O_SYNC is __O_SYNC | O_DSYNC
constexpr uint64_t kTmpFileOnly = 020000000;  // __O_TMPFILE; O_TMPFILE adds O_DIRECTORY

struct FlagName {
  uint64_t bits;
  std::string_view name;
};

// In strace's order; combined flags come before their parts.
constexpr FlagName kOpenFlagNames[] = {
    {kCreate, "O_CREAT"},
    {0200, "O_EXCL"},
    {0400, "O_NOCTTY"},
    {kTruncate, "O_TRUNC"},
    {kAppend, "O_APPEND"},
    {04000, "O_NONBLOCK"},
    {kSyncOnly | kDataSync, "O_SYNC"},
    {kDataSync, "O_DSYNC"},
    {020000, "O_ASYNC"},
    {040000, "O_DIRECT"},
    {0100000, "O_LARGEFILE"},
    {kTmpFileOnly | kDirectory, "O_TMPFILE"},
    {kDirectory, "O_DIRECTORY"},
    {0400000, "O_NOFOLLOW"},
    {01000000, "O_NOATIME"},
    {02000000, "O_CLOEXEC"},
    {kSyncOnly, "__O_SYNC"},
    {010000000, "O_PATH"},
    {kTmpFileOnly, "__O_TMPFILE"},
};

}  // namespace

std::string ErrnoName(int64_t error) {
  if (error > 0 && error < static_cast<int64_t>(std::size(kErrnoNames)) &&
      !kErrnoNames[error].empty()) {
    return std::string(kErrnoNames[error]);
  }
  const int64_t internal = error - kFirstInternalErrno;
  if (internal >= 0 && internal < static_cast<int64_t>(std::size(kInternalErrnoNames)) &&
      !kInternalErrnoNames[internal].empty()) {
    return std::string(kInternalErrnoNames[internal]);
  }
  return "errno_" + std::to_string(error);
}

std::string SignalName(int64_t signal) {
  if (signal >= 0 && signal < static_cast<int64_t>(std::size(kSignalNames))) {
    return std::string(kSignalNames[signal]);
  }
  if (signal == kSigRtMin) return "SIGRTMIN";
  if (signal > kSigRtMin && signal <= kSigRtMax) {
    return "SIGRTMIN+" + std::to_string(signal - kSigRtMin);
  }
  return "SIG_" + std::to_string(signal);
}

std::string FamilyName(int family) {
  if (family >= 0 && family < static_cast<int>(std::size(kFamilyNames))) {
    return std::string(kFamilyNames[family]);
  }
  return "AF_" + std::to_string(family);
}

std::string OpenFlagsName(uint64_t flags) {
  std::string out;
  out.reserve(64);
  switch (flags & kAccessMode) {
    case 0:
      out = "O_RDONLY";
      break;
    case kWriteOnly:
      out = "O_WRONLY";
      break;
    case kReadWrite:
      out = "O_RDWR";
      break;
    default:
      out = "O_ACCMODE";
      break;
  }
  uint64_t rest = flags & ~kAccessMode;
  for (const FlagName& flag : kOpenFlagNames) {
    if ((rest & flag.bits) != flag.bits) continue;
    out += '|';
    out += flag.name;
    rest &= ~flag.bits;
  }
  if (rest != 0) {
    char hex[24];
    std::snprintf(hex, sizeof(hex), "|%#llx", static_cast<unsigned long long>(rest));
    out += hex;
  }
  return out;
}

bool OpenFlagsWrite(uint64_t flags) {
  return (flags & kAccessMode) != 0 ||
         (flags & (kCreate | kTruncate | kAppend | kTmpFileOnly)) != 0;
}

bool OpenFlagsCreate(uint64_t flags) { return (flags & (kCreate | kTmpFileOnly)) != 0; }

std::string ModeName(uint64_t mode) {
  char digits[24];
  char* end = digits + sizeof(digits);
  char* p = end;
  for (int i = 0; i < 3 || mode != 0; ++i, mode >>= 3) *--p = static_cast<char>('0' + (mode & 7));
  *--p = '0';
  return std::string(p, end);
}

}  // namespace sandtrace::analyzer
