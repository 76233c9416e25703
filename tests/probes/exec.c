// st-probe-exec PROGRAM [ARGS...]: a second execve from inside (the probe's own exec was the
// first). On failure prints "RESULT exec errno=E" and exits 0; on success PROGRAM runs.
#include "probe.h"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  fflush(stdout);
  execv(argv[1], argv + 1);
  probe_report("exec", -1, errno, NULL);
  return 0;
}
