// st-exec-from-thread [PROGRAM [ARGS...]]: a second (non-leader) thread calls execve of
// PROGRAM (default /bin/true) while the main thread spins without syscalls, so the kernel
// gives the exec'ing thread the leader's pid. Exits 1 if execve failed.
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

static char** prog;
static char* const kDefault[] = {"/bin/true", NULL};
extern char** environ;

static void* run(void* arg) {
  (void)arg;
  execve(prog[0], prog, environ);
  _exit(1);
}

int main(int argc, char** argv) {
  prog = argc > 1 ? argv + 1 : (char**)kDefault;
  pthread_t t;
  if (pthread_create(&t, NULL, run, NULL) != 0) return 1;
  for (;;) __asm__ volatile("pause");
}
