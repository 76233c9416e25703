// Sandbox layer 2 in enforcing mode: the restricted filesystem view. Runs in the set-up process
// after unshare(CLONE_NEWUSER) + id maps, unshare(CLONE_NEWNS) and MakeMountsPrivate(), before
// the PID namespace's init mounts the fresh /proc. It rebuilds the mount tree in place:
//   - every host mount read-only, nosuid, nodev (one recursive mount_setattr on /);
//   - private tmpfs on /tmp (and /run): the host's files there are invisible, nothing written
//     inside reaches the host;
//   - /dev: a fresh read-only tmpfs holding only null, zero, full, random, urandom, tty (bind
//     mounts of the host's nodes: mknod is impossible in a user namespace), a new devpts
//     instance on /dev/pts, a private tmpfs on /dev/shm and the usual symlinks;
//   - /sys/fs/cgroup hidden under an empty read-only tmpfs (the rest of /sys is read-only);
//   - the plan's read_only and read_write paths bound in (cloned from the host view before any
//     of the above, so a path under /tmp or /run stays reachable);
//   - the plan's masked paths covered last, so a deny inside a writable directory wins.
// Propagation stays private: no mount made here is seen outside, and no later host mount is
// seen inside. The process keeps CAP_SYS_ADMIN in its user namespace and could undo all of
// this; layer 7 (seccomp) denies the mount syscalls to the command.
//
// Uses open_tree/move_mount (Linux 5.2) and mount_setattr (5.12) through syscall(); a kernel
// without them is an error naming the layer, never a silent downgrade. The function allocates:
// call it only in a child of a single-threaded parent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace sandtrace::launcher {

struct MountPlan {
  // Canonical absolute paths that must exist (files or directories). read_write: --allow-path
  // and policy allow_write, bound read-write (nosuid, nodev); a path on a read-only host mount
  // is an error. read_only: bound read-only, for paths that would otherwise be hidden by a
  // private tmpfs (e.g. the command's executable under /tmp).
  std::vector<std::string> read_write;
  std::vector<std::string> read_only;
  // filesystem.deny entries: a directory is covered by an empty read-only tmpfs (mode 0), any
  // other file by a read-only nodev bind of /dev/null (open fails with EACCES). A path that is
  // missing in the view is skipped.
  std::vector<std::string> masked;
  // Directories replaced by an empty read-only tmpfs (home directories, /srv, /mnt, /var/tmp,
  // ...): nothing of them is visible, sockets in them included. read_write and read_only paths
  // beneath them stay reachable. Missing ones are skipped.
  std::vector<std::string> hidden;
  bool private_tmp = true;  // a fresh tmpfs on /tmp; false: the host /tmp, read-only
  bool private_run = true;  // a fresh tmpfs on /run (hides host sockets: D-Bus, docker, ...)
  uint64_t tmpfs_size_bytes = uint64_t{1} << 30;  // size limit of /tmp and /dev/shm each
};

// The device nodes bound into the fresh /dev, in listing order.
inline constexpr const char* kMountViewDevices[] = {"full", "null",    "random",
                                                    "tty",  "urandom", "zero"};

// Builds the view described above in the current mount namespace. Needs CAP_SYS_ADMIN over it
// (the set-up process in its new user namespace has it). Also re-enters the working directory
// through the new mounts; where the view hides it, the working directory becomes /. Errors name
// "layer 2 (mount_namespace)", the mount or path and the errno; the view is then half built
// and the caller must exit.
Status ApplyMountView(const MountPlan& plan);

// One line for the `sandbox` event, e.g. "read-only root; private /tmp, /run, /dev/shm; minimal
// /dev; /sys/fs/cgroup hidden; 2 writable paths; 5 paths masked".
std::string DescribeMountView(const MountPlan& plan);

}  // namespace sandtrace::launcher
