// st-clone3: raw clone3 syscalls (not through glibc): first a thread
// (CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM) that makes 3
// getppid() calls and exits, then a process (exit_signal SIGCHLD) that makes 2 getppid() calls
// and _exit(5)s. The main thread waits for the thread without syscalls (CLONE_CHILD_CLEARTID
// word, spin) and reaps the process. Prints "thread TID" and "process PID"; exit 0 on success.
// x86-64 only.
#define _GNU_SOURCE
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int32_t thread_tid;  // cleared by the kernel when the thread exits
static _Alignas(16) char stack[64 * 1024];

// Runs on the new thread's stack; raw syscalls only (it has no TLS of its own).
static void thread_body(void) {
  for (int i = 0; i < 3; ++i) {
    long nr = SYS_getppid, ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
  }
}

// clone3 for a thread: the child calls fn on its own stack, then exit(0).
static long clone3_thread(struct clone_args* args, void (*fn)(void)) {
  long ret;
  register void (*r12)(void) __asm__("r12") = fn;
  __asm__ volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "xor %%ebp, %%ebp\n\t"
      "call *%%r12\n\t"
      "mov $60, %%eax\n\t"  // SYS_exit
      "xor %%edi, %%edi\n\t"
      "syscall\n\t"
      "hlt\n"
      "1:\n\t"
      : "=a"(ret)
      : "a"((long)SYS_clone3), "D"(args), "S"(sizeof *args), "r"(r12)
      : "rcx", "r11", "memory");
  return ret;
}

int main(void) {
  struct clone_args a;
  memset(&a, 0, sizeof a);
  a.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
            CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  a.parent_tid = (uint64_t)(uintptr_t)&thread_tid;
  a.child_tid = (uint64_t)(uintptr_t)&thread_tid;
  a.stack = (uint64_t)(uintptr_t)stack;
  a.stack_size = sizeof stack;
  long tid = clone3_thread(&a, thread_body);
  if (tid < 0) return 2;
  while (thread_tid != 0) __asm__ volatile("pause");

  memset(&a, 0, sizeof a);
  a.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &a, sizeof a);
  if (pid < 0) return 3;
  if (pid == 0) {
    syscall(SYS_getppid);
    syscall(SYS_getppid);
    syscall(SYS_exit_group, 5);
  }
  int st;
  if (waitpid((pid_t)pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 5) return 4;
  printf("thread %ld\nprocess %ld\n", tid, pid);
  return 0;
}
