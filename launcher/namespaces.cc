#include "launcher/namespaces.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace sandtrace::launcher {
namespace {

bool WriteFile(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const size_t len = strlen(text);
  const bool ok = write(fd, text, len) == static_cast<ssize_t>(len);
  const int saved = errno;
  close(fd);
  errno = saved;
  return ok;
}

}  // namespace

bool WriteIdMaps(uid_t uid, gid_t gid) {
  char map[64];
  // setgroups must be denied before an unprivileged process may write its gid_map.
  if (!WriteFile("/proc/self/setgroups", "deny")) return false;
  snprintf(map, sizeof map, "%u %u 1\n", static_cast<unsigned>(uid), static_cast<unsigned>(uid));
  if (!WriteFile("/proc/self/uid_map", map)) return false;
  snprintf(map, sizeof map, "%u %u 1\n", static_cast<unsigned>(gid), static_cast<unsigned>(gid));
  return WriteFile("/proc/self/gid_map", map);
}

bool MakeMountsPrivate() { return mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0; }

bool BringUpLoopback() {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  if (ok) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    ok = ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  }
  const int saved = errno;
  close(s);
  errno = saved;
  return ok;
}

bool MountFreshProc() {
  return mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0;
}

bool CloseInheritedFds(int keep) {
  // close_range is one syscall; the fallback loop covers kernels without it.
  if (keep < 0) return syscall(SYS_close_range, 3u, ~0u, 0u) == 0;
  if (keep > 3 && syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0u) != 0) {
    return false;
  }
  return syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u) == 0;
}

}  // namespace sandtrace::launcher
