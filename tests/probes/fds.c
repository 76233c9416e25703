// st-probe-fds: lists the open fds (/proc/self/fd, without the fd of the listing itself):
// "RESULT fds ok list=0,1,2 targets=0>/dev/null|1>pipe:[..]|...".
#include <dirent.h>
#include <stdlib.h>

#include "probe.h"

int main(void) {
  DIR* d = opendir("/proc/self/fd");
  if (!d) {
    probe_report("fds", -1, errno, NULL);
    return 0;
  }
  int self = dirfd(d);
  int fds[1024], n = 0;
  struct dirent* e;
  while ((e = readdir(d)) && n < 1024) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd != self) fds[n++] = fd;
  }
  static char list[8192], targets[65536];
  size_t o = 0, t = 0;
  for (int i = 0; i < n; ++i) {
    // readdir order is numeric for /proc/self/fd.
    char path[64], target[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fds[i]);
    ssize_t len = readlink(path, target, sizeof target - 1);
    target[len > 0 ? len : 0] = '\0';
    for (char* p = target; *p; ++p) {
      if (*p == ' ') *p = '_';
    }
    o += (size_t)snprintf(list + o, sizeof list - o, "%s%d", i ? "," : "", fds[i]);
    t += (size_t)snprintf(targets + t, sizeof targets - t, "%s%d>%s", i ? "|" : "", fds[i], target);
  }
  closedir(d);
  probe_report("fds", 0, 0, "list=%s targets=%s", list, targets);
  return 0;
}
