// Shared helpers of the sandbox probes (tests/probes/*.c, built as st-probe-NAME).
//
// Every probe attempts one attack from inside the sandbox and reports what it saw as
// machine-readable lines on stdout, flushed one by one (the probe may be killed next):
//   RESULT <label> ok [key=value ...]
//   RESULT <label> errno=<NAME> [key=value ...]
// and exits 0 when it could run its attempts at all (the test decides what is a pass). Values
// never contain spaces. tests/integration/sandbox_fixtures.py parses these lines.
#pragma once
// Built with -D_GNU_SOURCE (CMakeLists.txt): strerrorname_np, sigabbrev_np, renameat2 flags.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static inline const char* probe_errname(int e) {
  const char* name = strerrorname_np(e);
  return name ? name : "EUNKNOWN";
}

// Prints one RESULT line: `ok` when ret >= 0, else errno=NAME (of `err`). `fmt` adds
// " key=value" pairs (may be NULL).
static inline void probe_report(const char* label, long ret, int err, const char* fmt, ...) {
  static char extra[80000];
  extra[0] = '\0';
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    extra[0] = ' ';
    vsnprintf(extra + 1, sizeof extra - 1, fmt, ap);
    va_end(ap);
  }
  if (ret >= 0) {
    printf("RESULT %s ok%s\n", label, extra);
  } else {
    printf("RESULT %s errno=%s%s\n", label, probe_errname(err), extra);
  }
  fflush(stdout);
}

// Evaluates EXPR (a libc call returning < 0 with errno on failure) and reports it under LABEL.
#define PROBE(label, expr)                               \
  do {                                                   \
    errno = 0;                                           \
    long probe_ret_ = (long)(expr);                      \
    int probe_errno_ = errno;                            \
    probe_report(label, probe_ret_, probe_errno_, NULL); \
  } while (0)

// A raw syscall returning -errno (no libc errno, no TLS): usable right after a raw clone.
static inline long probe_raw_syscall6(long nr, long a1, long a2, long a3, long a4, long a5,
                                      long a6) {
  long ret;
  register long r10 __asm__("r10") = a4;
  register long r8 __asm__("r8") = a5;
  register long r9 __asm__("r9") = a6;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

// Copies `n` bytes of `in` into `out` (size `size`) printable: bytes outside 0x21..0x7e
// become \xNN, so the text holds no spaces and the plain secret shows if it was read.
static inline void probe_escape(const char* in, size_t n, char* out, size_t size) {
  size_t o = 0;
  for (size_t i = 0; i < n && o + 5 < size; ++i) {
    unsigned char c = (unsigned char)in[i];
    if (c > 0x20 && c < 0x7f && c != '\\') {
      out[o++] = (char)c;
    } else {
      o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
    }
  }
  out[o] = '\0';
}
