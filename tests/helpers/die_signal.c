// st-die-signal SIG: dies of signal SIG (a number) sent to itself; no core file.
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char** argv) {
  int sig = argc > 1 ? atoi(argv[1]) : SIGTERM;
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  signal(sig, SIG_DFL);
  kill(getpid(), sig);
  return 100;  // not reached for a fatal signal
}
