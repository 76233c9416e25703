#include "tracer/capture_table.h"

#include <sys/syscall.h>

#include <array>

namespace sandtrace::tracer {
namespace {

using wire::CaptureKind;
constexpr CaptureKind kStr = CaptureKind::kString;
constexpr CaptureKind kAddr = CaptureKind::kSockaddr;
constexpr CaptureKind kList = CaptureKind::kStringList;

constexpr int kTableSize = 512;

struct Entry {
  int nr;
  CaptureSpec spec;
};

constexpr Entry kEntries[] = {
    {SYS_open, {1, {{0, kStr}}}},
    {SYS_stat, {1, {{0, kStr}}}},
    {SYS_lstat, {1, {{0, kStr}}}},
    {SYS_access, {1, {{0, kStr}}}},
    {SYS_connect, {1, {{1, kAddr}}}},
    {SYS_sendto, {1, {{4, kAddr}}}},
    {SYS_bind, {1, {{1, kAddr}}}},
    {SYS_execve, {2, {{0, kStr}, {1, kList}}}},
    {SYS_truncate, {1, {{0, kStr}}}},
    {SYS_chdir, {1, {{0, kStr}}}},
    {SYS_rename, {2, {{0, kStr}, {1, kStr}}}},
    {SYS_mkdir, {1, {{0, kStr}}}},
    {SYS_rmdir, {1, {{0, kStr}}}},
    {SYS_creat, {1, {{0, kStr}}}},
    {SYS_link, {2, {{0, kStr}, {1, kStr}}}},
    {SYS_unlink, {1, {{0, kStr}}}},
    {SYS_symlink, {2, {{0, kStr}, {1, kStr}}}},
    {SYS_readlink, {1, {{0, kStr}}}},
    {SYS_chmod, {1, {{0, kStr}}}},
    {SYS_chown, {1, {{0, kStr}}}},
    {SYS_lchown, {1, {{0, kStr}}}},
    {SYS_utime, {1, {{0, kStr}}}},
    {SYS_mknod, {1, {{0, kStr}}}},
    {SYS_uselib, {1, {{0, kStr}}}},
    {SYS_statfs, {1, {{0, kStr}}}},
    {SYS_pivot_root, {2, {{0, kStr}, {1, kStr}}}},
    {SYS_chroot, {1, {{0, kStr}}}},
    {SYS_acct, {1, {{0, kStr}}}},
    {SYS_mount, {3, {{0, kStr}, {1, kStr}, {2, kStr}}}},
    {SYS_umount2, {1, {{0, kStr}}}},
    {SYS_swapon, {1, {{0, kStr}}}},
    {SYS_swapoff, {1, {{0, kStr}}}},
    {SYS_setxattr, {1, {{0, kStr}}}},
    {SYS_lsetxattr, {1, {{0, kStr}}}},
    {SYS_getxattr, {1, {{0, kStr}}}},
    {SYS_lgetxattr, {1, {{0, kStr}}}},
    {SYS_listxattr, {1, {{0, kStr}}}},
    {SYS_llistxattr, {1, {{0, kStr}}}},
    {SYS_removexattr, {1, {{0, kStr}}}},
    {SYS_lremovexattr, {1, {{0, kStr}}}},
    {SYS_utimes, {1, {{0, kStr}}}},
    {SYS_inotify_add_watch, {1, {{1, kStr}}}},
    {SYS_openat, {1, {{1, kStr}}}},
    {SYS_mkdirat, {1, {{1, kStr}}}},
    {SYS_mknodat, {1, {{1, kStr}}}},
    {SYS_fchownat, {1, {{1, kStr}}}},
    {SYS_futimesat, {1, {{1, kStr}}}},
    {SYS_newfstatat, {1, {{1, kStr}}}},
    {SYS_unlinkat, {1, {{1, kStr}}}},
    {SYS_renameat, {2, {{1, kStr}, {3, kStr}}}},
    {SYS_linkat, {2, {{1, kStr}, {3, kStr}}}},
    {SYS_symlinkat, {2, {{0, kStr}, {2, kStr}}}},
    {SYS_readlinkat, {1, {{1, kStr}}}},
    {SYS_fchmodat, {1, {{1, kStr}}}},
    {SYS_faccessat, {1, {{1, kStr}}}},
    {SYS_utimensat, {1, {{1, kStr}}}},
    {SYS_name_to_handle_at, {1, {{1, kStr}}}},
    {SYS_renameat2, {2, {{1, kStr}, {3, kStr}}}},
    {SYS_execveat, {2, {{1, kStr}, {2, kList}}}},
    {SYS_statx, {1, {{1, kStr}}}},
    {SYS_open_tree, {1, {{1, kStr}}}},
    {SYS_move_mount, {2, {{1, kStr}, {3, kStr}}}},
    {SYS_fsopen, {1, {{0, kStr}}}},
    {SYS_fspick, {1, {{1, kStr}}}},
    {SYS_openat2, {1, {{1, kStr}}}},
    {SYS_faccessat2, {1, {{1, kStr}}}},
    {SYS_mount_setattr, {1, {{1, kStr}}}},
    {452 /* fchmodat2 */, {1, {{1, kStr}}}},
    {463 /* setxattrat */, {1, {{1, kStr}}}},
    {464 /* getxattrat */, {1, {{1, kStr}}}},
    {465 /* listxattrat */, {1, {{1, kStr}}}},
    {466 /* removexattrat */, {1, {{1, kStr}}}},
    {467 /* open_tree_attr */, {1, {{1, kStr}}}},
    {468 /* file_getattr */, {1, {{1, kStr}}}},
    {469 /* file_setattr */, {1, {{1, kStr}}}},
};

constexpr std::array<CaptureSpec, kTableSize> BuildTable() {
  std::array<CaptureSpec, kTableSize> table{};
  for (const Entry& e : kEntries) table[e.nr] = e.spec;
  return table;
}

constexpr std::array<CaptureSpec, kTableSize> kTable = BuildTable();
constexpr CaptureSpec kNone{};

}  // namespace

const CaptureSpec& CapturesFor(int64_t nr) {
  if (nr < 0 || nr >= kTableSize) return kNone;
  return kTable[static_cast<size_t>(nr)];
}

}  // namespace sandtrace::tracer
