// st-exec-from-thread [PROGRAM [ARGS...]]: a second (non-leader) thread calls execve of
// PROGRAM (default /bin/true) while the main thread spins without syscalls, so the kernel
// gives the exec'ing thread the leader's pid. Exits 1 if execve failed.
//
// The thread execs only once pthread_create has returned in the main thread: otherwise the
// exec could kill the main thread before it finishes pthread_create's own syscalls (the
// clone3's return, the signal mask's restore), and how many of them a tracer sees would differ
// from run to run. Under ptrace the main thread only gets past those syscalls once the tracer
// has seen their returns.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static char** prog;
static char* const kDefault[] = {"/bin/true", NULL};
extern char** environ;
static atomic_int created;

static void* run(void* arg) {
  (void)arg;
  while (!atomic_load(&created)) __asm__ volatile("pause");
  execve(prog[0], prog, environ);
  _exit(1);
}

int main(int argc, char** argv) {
  prog = argc > 1 ? argv + 1 : (char**)kDefault;
  pthread_t t;
  if (pthread_create(&t, NULL, run, NULL) != 0) return 1;
  atomic_store(&created, 1);
  for (;;) __asm__ volatile("pause");
}
