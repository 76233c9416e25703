// st-probe-forkbomb MARKER [CAP]: forks in a loop until fork fails (or CAP children, a safety
// net for a sandbox without a process limit: default 4000); every child sleeps forever, so
// they all stay alive and keep MARKER in their command line (for the test's /proc scan).
// Prints "PROGRESS N" every 100 children and at the end "RESULT forkbomb errno=E count=N" (fork
// failed) or "RESULT forkbomb ok cap=N", then waits to be killed (by the timeout).
#include <signal.h>
#include <stdlib.h>

#include "probe.h"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int cap = argc > 2 ? atoi(argv[2]) : 4000;
  int count = 0;
  for (;;) {
    if (count >= cap) {
      probe_report("forkbomb", 0, 0, "cap=%d count=%d", cap, count);
      break;
    }
    pid_t pid = fork();
    if (pid == 0) {
      for (;;) pause();
    }
    if (pid < 0) {
      probe_report("forkbomb", -1, errno, "count=%d", count);
      break;
    }
    ++count;
    if (count % 100 == 0) {
      printf("PROGRESS %d\n", count);
      fflush(stdout);
    }
  }
  for (;;) pause();
}
