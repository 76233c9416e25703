// st-probe-pidns [N]: the PID namespace from inside. N (default 20) sequential forks, each child
// _exit(0)s at once and the parent reaps it before the next fork:
// "RESULT forks ok n=N ok=M statuses=0,0,...", then "RESULT self ok pid=P ppid=Q" and
// "RESULT proc ok pids=1,2,..." (the numeric entries of /proc).
#include <dirent.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "probe.h"

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20;
  static char statuses[8192];
  size_t o = 0;
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
      o += (size_t)snprintf(statuses + o, sizeof statuses - o, "%sfork:%s", i ? "," : "",
                            probe_errname(errno));
      continue;
    }
    if (pid == 0) _exit(0);
    int status;
    if (waitpid(pid, &status, 0) != pid) {
      o += (size_t)snprintf(statuses + o, sizeof statuses - o, "%swait:%s", i ? "," : "",
                            probe_errname(errno));
      continue;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++ok;
    o += (size_t)snprintf(statuses + o, sizeof statuses - o, "%s%d", i ? "," : "",
                          WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  probe_report("forks", 0, 0, "n=%d ok=%d statuses=%s", n, ok, statuses);
  probe_report("self", 0, 0, "pid=%d ppid=%d", (int)getpid(), (int)getppid());
  DIR* d = opendir("/proc");
  if (!d) {
    probe_report("proc", -1, errno, NULL);
    return 0;
  }
  int pids[4096], count = 0;
  struct dirent* e;
  while ((e = readdir(d)) && count < 4096) {
    char* end;
    long v = strtol(e->d_name, &end, 10);
    if (*end == '\0' && v > 0) pids[count++] = (int)v;
  }
  closedir(d);
  static char list[65536];
  o = 0;
  for (int i = 0; i < count; ++i) {
    o += (size_t)snprintf(list + o, sizeof list - o, "%s%d", i ? "," : "", pids[i]);
  }
  probe_report("proc", 0, 0, "count=%d pids=%s", count, list);
  return 0;
}
