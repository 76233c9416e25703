#include "launcher/mount_view.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <tuple>
#include <utility>

// glibc 2.36 declares these in <sys/mount.h>, which clashes with <linux/mount.h>; older headers
// lack them. Values from the kernel's uapi (x86-64 syscall numbers).
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_SYMLINKS
#define MOVE_MOUNT_T_SYMLINKS 0x00000010
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef MOUNT_ATTR_NOSUID
#define MOUNT_ATTR_NOSUID 0x00000002
#endif
#ifndef MOUNT_ATTR_NODEV
#define MOUNT_ATTR_NODEV 0x00000004
#endif
#ifndef MOUNT_ATTR_NOEXEC
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif

namespace sandtrace::launcher {
namespace {

constexpr char kLayer[] = "layer 2 (mount_namespace): ";

// struct mount_attr, version 0 (MOUNT_ATTR_SIZE_VER0: 32 bytes).
struct MountAttr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;  // 0: unchanged
  uint64_t userns_fd;
};

Error LayerError(const std::string& what) { return ErrnoError(kLayer + what); }

// mount_setattr on the mount at dfd/path (path "" with AT_EMPTY_PATH: the mount dfd refers to).
bool SetAttr(int dfd, const char* path, unsigned flags, uint64_t set, uint64_t clear) {
  MountAttr attr{set, clear, 0, 0};
  return syscall(SYS_mount_setattr, dfd, path, flags, &attr, sizeof attr) == 0;
}

// A detached copy of a host mount tree (open_tree clone), attached at `target` later. An
// unattached clone vanishes when its fd is closed.
struct HeldTree {
  std::string target;
  int fd = -1;
  bool writable = false;
};

// Owns the fds of the held trees.
class HeldTrees {
 public:
  HeldTrees() = default;
  HeldTrees(const HeldTrees&) = delete;
  HeldTrees& operator=(const HeldTrees&) = delete;
  ~HeldTrees() {
    for (const HeldTree& t : trees_) close(t.fd);
  }
  void Add(std::string target, int fd, bool writable) {
    trees_.push_back(HeldTree{std::move(target), fd, writable});
  }
  std::vector<HeldTree>& trees() { return trees_; }

 private:
  std::vector<HeldTree> trees_;
};

// Clones a host device node (non-recursive bind), read-only but usable as a device. A node the
// host lacks, or that is no character device, is left out of the view.
Status CloneDevice(const char* name, HeldTrees& devices) {
  const std::string path = std::string("/dev/") + name;
  const int fd = static_cast<int>(
      syscall(SYS_open_tree, AT_FDCWD, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (fd < 0 && errno == ENOENT) return {};
  if (fd < 0) return LayerError("open_tree(" + path + ", OPEN_TREE_CLONE)");
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode)) {
    close(fd);
    return {};
  }
  devices.Add(path, fd, false);
  if (!SetAttr(fd, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
               MOUNT_ATTR_NODEV)) {
    return LayerError("mount_setattr(" + path + ", ro, clear nodev)" +
                      (errno == EPERM ? " (the host mounts /dev nodev)" : ""));
  }
  return {};
}

// Clones a plan path with everything mounted beneath it. Read-only clones are read-only
// throughout; writable ones keep the host's flags below the top (a host read-only submount
// stays read-only). Both are nosuid and nodev.
Status ClonePath(const std::string& path, bool writable, HeldTrees& binds) {
  const char* kind = writable ? "read-write" : "read-only";
  if (path.empty() || path[0] != '/' || path == "/") {
    errno = EINVAL;
    return LayerError(std::string(kind) + " bind of '" + path + "': not an absolute path below /");
  }
  const int fd = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, path.c_str(),
                                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
  if (fd < 0) return LayerError(std::string(kind) + " bind: open_tree(" + path + ")");
  binds.Add(path, fd, writable);
  const uint64_t set =
      MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (writable ? 0 : uint64_t{MOUNT_ATTR_RDONLY});
  if (!SetAttr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, set, 0)) {
    return LayerError(std::string(kind) + " bind: mount_setattr(" + path + ")");
  }
  if (writable && !SetAttr(fd, "", AT_EMPTY_PATH, 0, MOUNT_ATTR_RDONLY)) {
    return LayerError("read-write bind: mount_setattr(" + path + ", clear ro)" +
                      (errno == EPERM ? " (the host mounts it read-only)" : ""));
  }
  return {};
}

// Creates a missing mount point (and its parents) for `path`; only possible on a fresh tmpfs,
// where a host path is hidden. An existing entry is used as is.
Status EnsureMountPoint(const std::string& path, bool directory) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) return {};
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string parent = path.substr(0, slash);
    if (mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
      return LayerError("mkdir(" + parent + ") for a mount point");
    }
  }
  if (directory) {
    if (mkdir(path.c_str(), 0755) != 0) return LayerError("mkdir(" + path + ") for a mount point");
    return {};
  }
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return LayerError("creat(" + path + ") for a mount point");
  close(fd);
  return {};
}

// Mounts the held tree at its target, following symlinks there like mount(2).
Status Attach(const HeldTree& tree) {
  struct stat st;
  if (fstat(tree.fd, &st) != 0) return LayerError("fstat(clone of " + tree.target + ")");
  if (Status s = EnsureMountPoint(tree.target, S_ISDIR(st.st_mode)); !s) return s;
  if (syscall(SYS_move_mount, tree.fd, "", AT_FDCWD, tree.target.c_str(),
              MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) != 0) {
    return LayerError("move_mount(bind of " + tree.target + ")");
  }
  return {};
}

Status MountTmpfs(const char* source, const char* target, unsigned long flags,
                  const std::string& options) {
  if (mount(source, target, "tmpfs", flags, options.c_str()) != 0) {
    return LayerError(std::string("mount(tmpfs, ") + target + ", " + options + ")");
  }
  return {};
}

// The whole inherited tree: read-only, nosuid, nodev. Only sets flags, which is allowed even
// on mounts the user namespace locked.
Status MakeTreeReadOnly() {
  if (!SetAttr(AT_FDCWD, "/", AT_RECURSIVE,
               MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0)) {
    return LayerError("mount_setattr(/, AT_RECURSIVE, ro nosuid nodev)");
  }
  return {};
}

// A fresh /dev (left writable until SealDev): the held device nodes, a new devpts instance,
// a private /dev/shm and the usual symlinks.
Status BuildDev(const MountPlan& plan, HeldTrees& devices) {
  if (Status s = MountTmpfs("sandtrace-dev", "/dev", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                            "mode=755,size=64k");
      !s) {
    return s;
  }
  for (const HeldTree& device : devices.trees()) {
    if (Status s = Attach(device); !s) return s;
  }
  if (mkdir("/dev/pts", 0755) != 0) return LayerError("mkdir(/dev/pts)");
  // No gid= option: the tty group is not mapped in the user namespace.
  if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
            "newinstance,ptmxmode=0666,mode=0620") != 0) {
    return LayerError("mount(devpts, /dev/pts, newinstance)");
  }
  if (mkdir("/dev/shm", 0755) != 0) return LayerError("mkdir(/dev/shm)");
  if (Status s = MountTmpfs("sandtrace-shm", "/dev/shm", MS_NOSUID | MS_NODEV,
                            "mode=1777,size=" + std::to_string(plan.tmpfs_size_bytes));
      !s) {
    return s;
  }
  static constexpr const char* kLinks[][2] = {{"pts/ptmx", "/dev/ptmx"},
                                              {"/proc/self/fd", "/dev/fd"},
                                              {"/proc/self/fd/0", "/dev/stdin"},
                                              {"/proc/self/fd/1", "/dev/stdout"},
                                              {"/proc/self/fd/2", "/dev/stderr"}};
  for (const auto& link : kLinks) {
    if (symlink(link[0], link[1]) != 0) return LayerError(std::string("symlink(") + link[1] + ")");
  }
  return {};
}

Status SealDev() {
  if (!SetAttr(AT_FDCWD, "/dev", 0, MOUNT_ATTR_RDONLY, 0)) {
    return LayerError("mount_setattr(/dev, ro)");
  }
  return {};
}

// Covers one path: a directory with an empty read-only tmpfs, anything else with a read-only
// nodev bind of /dev/null. A path missing from the view is skipped; so is one the set-up process
// cannot stat (EACCES): the command has the same credentials and cannot reach it either.
Status Mask(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == EACCES) return {};
    return LayerError("mask: stat(" + path + ")");
  }
  if (S_ISDIR(st.st_mode)) {
    if (mount("sandtrace-masked", path.c_str(), "tmpfs",
              MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=000,size=4k") != 0) {
      return LayerError("mask: mount(tmpfs, " + path + ", ro)");
    }
    return {};
  }
  const int fd = static_cast<int>(
      syscall(SYS_open_tree, AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (fd < 0) return LayerError("mask of " + path + ": open_tree(/dev/null)");
  HeldTrees held;
  held.Add(path, fd, false);
  if (!SetAttr(fd, "", AT_EMPTY_PATH,
               MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0)) {
    return LayerError("mask of " + path + ": mount_setattr(/dev/null clone, ro nodev)");
  }
  return Attach(held.trees().front());
}

std::string CurrentDirectory() {
  char buf[PATH_MAX];
  return getcwd(buf, sizeof buf) != nullptr ? std::string(buf) : std::string();
}

}  // namespace

Status ApplyMountView(const MountPlan& plan) {
  const std::string cwd = CurrentDirectory();
  // Clone first: the device nodes before /dev is replaced, the plan's paths before /tmp and
  // /run are, and both before the tree turns read-only.
  HeldTrees devices;
  for (const char* name : kMountViewDevices) {
    if (Status s = CloneDevice(name, devices); !s) return s;
  }
  HeldTrees binds;
  for (const std::string& path : plan.read_only) {
    if (Status s = ClonePath(path, false, binds); !s) return s;
  }
  for (const std::string& path : plan.read_write) {
    if (Status s = ClonePath(path, true, binds); !s) return s;
  }
  // Parents before children (a parent attached later would cover the child); for one path the
  // writable bind last, so it wins.
  std::stable_sort(binds.trees().begin(), binds.trees().end(),
                   [](const HeldTree& a, const HeldTree& b) {
                     return std::tie(a.target, a.writable) < std::tie(b.target, b.writable);
                   });

  if (Status s = MakeTreeReadOnly(); !s) return s;
  const std::string size = "size=" + std::to_string(plan.tmpfs_size_bytes);
  if (plan.private_tmp) {
    if (Status s = MountTmpfs("sandtrace-tmp", "/tmp", MS_NOSUID | MS_NODEV, "mode=1777," + size);
        !s) {
      return s;
    }
  }
  struct stat st;
  if (plan.private_run && stat("/run", &st) == 0) {
    if (Status s = MountTmpfs("sandtrace-run", "/run", MS_NOSUID | MS_NODEV, "mode=755," + size);
        !s) {
      return s;
    }
  }
  std::vector<std::string> hidden;
  for (const std::string& dir : plan.hidden) {
    if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;  // missing or a link
    if (Status s = MountTmpfs("sandtrace-hidden", dir.c_str(), MS_NOSUID | MS_NODEV,
                              "mode=755,size=1m");
        !s) {
      return s;
    }
    hidden.push_back(dir);
  }
  if (Status s = BuildDev(plan, devices); !s) return s;
  for (const HeldTree& bind : binds.trees()) {
    if (Status s = Attach(bind); !s) return s;
  }
  // Writable only while mount points for the plan paths were made in them.
  for (const std::string& dir : hidden) {
    if (mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
              nullptr) != 0) {
      return LayerError("remount(" + dir + ", read-only)");
    }
  }
  if (Status s = SealDev(); !s) return s;
  if (Status s = Mask("/sys/fs/cgroup"); !s) return s;
  for (const std::string& path : plan.masked) {
    if (Status s = Mask(path); !s) return s;
  }
  // The old working directory still points into the host's mounts: enter it again by path.
  // Where the view hides it (e.g. under the private /tmp) the command starts in / instead,
  // as with bubblewrap; it never keeps a handle on the host's directory.
  if (cwd.empty() || chdir(cwd.c_str()) != 0) {
    if (chdir("/") != 0) return LayerError("chdir(/)");
  }
  return {};
}

std::string DescribeMountView(const MountPlan& plan) {
  std::string text = "read-only root; private ";
  if (plan.private_tmp) text += "/tmp, ";
  if (plan.private_run) text += "/run, ";
  text += "/dev/shm; minimal /dev; /sys/fs/cgroup hidden";
  if (!plan.hidden.empty()) text += "; " + std::to_string(plan.hidden.size()) + " directories hidden";
  auto count = [&text](size_t n, const char* what) {
    text += "; " + std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  count(plan.read_write.size(), "writable path");
  if (!plan.read_only.empty()) count(plan.read_only.size(), "read-only path");
  count(plan.masked.size(), "path");
  text += " masked";
  return text;
}

}  // namespace sandtrace::launcher
