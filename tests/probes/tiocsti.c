// st-probe-tiocsti: terminal injection through fd 0 (give it a terminal as stdin).
//   tiocsti            ioctl(0, TIOCSTI, "x") through libc
//   tiocsti_highbits   raw ioctl with TIOCSTI | 1 << 32 as the request (the kernel reads an
//                      unsigned int: a filter comparing 64 bits would let it through)
//   tioclinux          ioctl(0, TIOCLINUX, {6}) (TIOCL_GETSEL... a harmless subcode)
// Also reports "RESULT isatty ok|errno", "RESULT session ok sid=S pid=P pgid=G pgrp_tty=T"
// (pids as the sandbox's PID namespace sees them: 0 for a process outside it) and
// "RESULT ctty ok|errno": open("/dev/tty"), which fails with ENXIO without a controlling
// terminal.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "probe.h"

int main(void) {
  PROBE("isatty", isatty(0) ? 0 : -1);
  probe_report("session", 0, 0, "sid=%d pid=%d pgid=%d pgrp_tty=%d", (int)getsid(0), (int)getpid(),
               (int)getpgid(0), (int)tcgetpgrp(0));
  PROBE("ctty", open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  char c = 'Z';
  PROBE("tiocsti", ioctl(0, TIOCSTI, &c));
  char d = 'Q';
  long r = probe_raw_syscall6(SYS_ioctl, 0, (long)(TIOCSTI | (1UL << 32)), (long)&d, 0, 0, 0);
  probe_report("tiocsti_highbits", r < 0 ? -1 : 0, (int)-r, NULL);
  char sub[2] = {7, 0};  // TIOCL_GETMOUSEREPORTING: reads only
  PROBE("tioclinux", ioctl(0, TIOCLINUX, sub));
  return 0;
}
