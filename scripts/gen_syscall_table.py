#!/usr/bin/env python3
"""Writes the x86-64 syscall table of the analyser into analyzer/syscall_table.cc.

Names 0..450 come from <asm/unistd_64.h> on the build machine, the newer ones (451..469, up to
kernel 6.18) from the list below. Every name must have a category and argument kinds in SPECS:
the script fails on a syscall nobody classified. Numbers no kernel assigns become `syscall_N`.
The table replaces whatever stands between the BEGIN/END GENERATED TABLE markers of the .cc;
the committed .cc is the source of truth. Rerun after editing SPECS:
    scripts/gen_syscall_table.py            (from the repository root)
"""
import os
import re
import sys

HEADER = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
TARGET = os.path.join(os.path.dirname(__file__), "..", "analyzer", "syscall_table.cc")
BEGIN = "// BEGIN GENERATED TABLE\n"
END = "// END GENERATED TABLE\n"
MAX_NR = 469

NEWER = {
    451: "cachestat", 452: "fchmodat2", 453: "map_shadow_stack", 454: "futex_wake",
    455: "futex_wait", 456: "futex_requeue", 457: "statmount", 458: "listmount",
    459: "lsm_get_self_attr", 460: "lsm_set_self_attr", 461: "lsm_list_modules", 462: "mseal",
    463: "setxattrat", 464: "getxattrat", 465: "listxattrat", 466: "removexattrat",
    467: "open_tree_attr", 468: "file_getattr", 469: "file_setattr",
}

CATEGORIES = {
    "R": "kFileRead", "W": "kFileWrite", "M": "kFileMetadata", "D": "kDirectory",
    "P": "kProcess", "N": "kNetwork", "Mem": "kMemory", "S": "kSignal", "I": "kIpc",
    "Sys": "kSystem", "O": "kOther",
}

KINDS = {
    "i": "kInt", "p": "kPointer", "fd": "kFd", "dfd": "kDirFd", "path": "kPath",
    "str": "kString", "of": "kOpenFlags", "cm": "kCreateMode", "mode": "kMode",
    "addr": "kSockaddr", "msg": "kMsghdr", "argv": "kArgv", "sig": "kSignal", "pid": "kPid",
    "cnt": "kCount",
}

# name: (category, argument kinds in order; missing ones are kNone)
SPECS = {
    "read": ("R", "fd p cnt"), "write": ("W", "fd p cnt"), "open": ("R", "path of cm"),
    "close": ("O", "fd"), "stat": ("M", "path p"), "fstat": ("M", "fd p"),
    "lstat": ("M", "path p"), "poll": ("O", "p i i"), "lseek": ("R", "fd i i"),
    "mmap": ("Mem", "p i i i fd i"), "mprotect": ("Mem", "p i i"), "munmap": ("Mem", "p i"),
    "brk": ("Mem", "p"), "rt_sigaction": ("S", "sig p p i"), "rt_sigprocmask": ("S", "i p p i"),
    "rt_sigreturn": ("S", ""), "ioctl": ("Sys", "fd i p"), "pread64": ("R", "fd p cnt i"),
    "pwrite64": ("W", "fd p cnt i"), "readv": ("R", "fd p i"), "writev": ("W", "fd p i"),
    "access": ("M", "path i"), "pipe": ("I", "p"), "select": ("O", "i p p p p"),
    "sched_yield": ("P", ""), "mremap": ("Mem", "p i i i p"), "msync": ("Mem", "p i i"),
    "mincore": ("Mem", "p i p"), "madvise": ("Mem", "p i i"), "shmget": ("I", "i i i"),
    "shmat": ("I", "i p i"), "shmctl": ("I", "i i p"), "dup": ("O", "fd"), "dup2": ("O", "fd i"),
    "pause": ("S", ""), "nanosleep": ("Sys", "p p"), "getitimer": ("Sys", "i p"),
    "alarm": ("Sys", "i"), "setitimer": ("Sys", "i p p"), "getpid": ("P", ""),
    "sendfile": ("W", "fd i p cnt"), "socket": ("N", "i i i"), "connect": ("N", "fd addr i"),
    "accept": ("N", "fd p p"), "sendto": ("N", "fd p cnt i addr i"),
    "recvfrom": ("N", "fd p cnt i p p"), "sendmsg": ("N", "fd msg i"),
    "recvmsg": ("N", "fd p i"), "shutdown": ("N", "fd i"), "bind": ("N", "fd addr i"),
    "listen": ("N", "fd i"), "getsockname": ("N", "fd p p"), "getpeername": ("N", "fd p p"),
    "socketpair": ("N", "i i i p"), "setsockopt": ("N", "fd i i p i"),
    "getsockopt": ("N", "fd i i p p"), "clone": ("P", "i p p p p"), "fork": ("P", ""),
    "vfork": ("P", ""), "execve": ("P", "path argv p"), "exit": ("P", "i"),
    "wait4": ("P", "i p i p"), "kill": ("S", "pid sig"), "uname": ("Sys", "p"),
    "semget": ("I", "i i i"), "semop": ("I", "i p i"), "semctl": ("I", "i i i i"),
    "shmdt": ("I", "p"), "msgget": ("I", "i i"), "msgsnd": ("I", "i p i i"),
    "msgrcv": ("I", "i p i i i"), "msgctl": ("I", "i i p"), "fcntl": ("O", "fd i i"),
    "flock": ("M", "fd i"), "fsync": ("W", "fd"), "fdatasync": ("W", "fd"),
    "truncate": ("W", "path i"), "ftruncate": ("W", "fd i"), "getdents": ("D", "fd p cnt"),
    "getcwd": ("D", "p i"), "chdir": ("D", "path"), "fchdir": ("D", "fd"),
    "rename": ("W", "path path"), "mkdir": ("D", "path mode"), "rmdir": ("D", "path"),
    "creat": ("W", "path mode"), "link": ("W", "path path"), "unlink": ("W", "path"),
    "symlink": ("W", "path path"), "readlink": ("M", "path p i"), "chmod": ("M", "path mode"),
    "fchmod": ("M", "fd mode"), "chown": ("M", "path i i"), "fchown": ("M", "fd i i"),
    "lchown": ("M", "path i i"), "umask": ("P", "mode"), "gettimeofday": ("Sys", "p p"),
    "getrlimit": ("P", "i p"), "getrusage": ("P", "i p"), "sysinfo": ("Sys", "p"),
    "times": ("P", "p"), "ptrace": ("P", "i pid p p"), "getuid": ("P", ""),
    "syslog": ("Sys", "i p i"), "getgid": ("P", ""), "setuid": ("P", "i"), "setgid": ("P", "i"),
    "geteuid": ("P", ""), "getegid": ("P", ""), "setpgid": ("P", "i i"), "getppid": ("P", ""),
    "getpgrp": ("P", ""), "setsid": ("P", ""), "setreuid": ("P", "i i"),
    "setregid": ("P", "i i"), "getgroups": ("P", "i p"), "setgroups": ("P", "i p"),
    "setresuid": ("P", "i i i"), "getresuid": ("P", "p p p"), "setresgid": ("P", "i i i"),
    "getresgid": ("P", "p p p"), "getpgid": ("P", "i"), "setfsuid": ("P", "i"),
    "setfsgid": ("P", "i"), "getsid": ("P", "i"), "capget": ("P", "p p"),
    "capset": ("P", "p p"), "rt_sigpending": ("S", "p i"), "rt_sigtimedwait": ("S", "p p p i"),
    "rt_sigqueueinfo": ("S", "pid sig p"), "rt_sigsuspend": ("S", "p i"),
    "sigaltstack": ("S", "p p"), "utime": ("M", "path p"), "mknod": ("W", "path mode i"),
    "uselib": ("R", "path"), "personality": ("P", "i"), "ustat": ("M", "i p"),
    "statfs": ("M", "path p"), "fstatfs": ("M", "fd p"), "sysfs": ("Sys", "i i i"),
    "getpriority": ("P", "i i"), "setpriority": ("P", "i i i"),
    "sched_setparam": ("P", "i p"), "sched_getparam": ("P", "i p"),
    "sched_setscheduler": ("P", "i i p"), "sched_getscheduler": ("P", "i"),
    "sched_get_priority_max": ("P", "i"), "sched_get_priority_min": ("P", "i"),
    "sched_rr_get_interval": ("P", "i p"), "mlock": ("Mem", "p i"), "munlock": ("Mem", "p i"),
    "mlockall": ("Mem", "i"), "munlockall": ("Mem", ""), "vhangup": ("Sys", ""),
    "modify_ldt": ("Mem", "i p i"), "pivot_root": ("Sys", "path path"), "_sysctl": ("Sys", "p"),
    "prctl": ("P", "i i i i i"), "arch_prctl": ("P", "i p"), "adjtimex": ("Sys", "p"),
    "setrlimit": ("P", "i p"), "chroot": ("D", "path"), "sync": ("W", ""),
    "acct": ("Sys", "path"), "settimeofday": ("Sys", "p p"),
    "mount": ("Sys", "str path str i p"), "umount2": ("Sys", "path i"),
    "swapon": ("Sys", "path i"), "swapoff": ("Sys", "path"), "reboot": ("Sys", "i i i p"),
    "sethostname": ("Sys", "p i"), "setdomainname": ("Sys", "p i"), "iopl": ("Sys", "i"),
    "ioperm": ("Sys", "i i i"), "create_module": ("O", "p i"), "init_module": ("Sys", "p i p"),
    "delete_module": ("Sys", "p i"), "get_kernel_syms": ("O", "p"),
    "query_module": ("O", "p i p i p"), "quotactl": ("Sys", "i path i p"),
    "nfsservctl": ("O", "i p p"), "getpmsg": ("O", "i p p p p"), "putpmsg": ("O", "i p p i i"),
    "afs_syscall": ("O", ""), "tuxcall": ("O", ""), "security": ("O", ""), "gettid": ("P", ""),
    "readahead": ("R", "fd i cnt"), "setxattr": ("M", "path str p i i"),
    "lsetxattr": ("M", "path str p i i"), "fsetxattr": ("M", "fd str p i i"),
    "getxattr": ("M", "path str p i"), "lgetxattr": ("M", "path str p i"),
    "fgetxattr": ("M", "fd str p i"), "listxattr": ("M", "path p i"),
    "llistxattr": ("M", "path p i"), "flistxattr": ("M", "fd p i"),
    "removexattr": ("M", "path str"), "lremovexattr": ("M", "path str"),
    "fremovexattr": ("M", "fd str"), "tkill": ("S", "pid sig"), "time": ("Sys", "p"),
    "futex": ("I", "p i i p p i"), "sched_setaffinity": ("P", "i i p"),
    "sched_getaffinity": ("P", "i i p"), "set_thread_area": ("P", "p"),
    "io_setup": ("Sys", "i p"), "io_destroy": ("Sys", "i"),
    "io_getevents": ("Sys", "i i i p p"), "io_submit": ("Sys", "i i p"),
    "io_cancel": ("Sys", "i p p"), "get_thread_area": ("P", "p"),
    "lookup_dcookie": ("Sys", "i p i"), "epoll_create": ("O", "i"),
    "epoll_ctl_old": ("O", ""), "epoll_wait_old": ("O", ""),
    "remap_file_pages": ("Mem", "p i i i i"), "getdents64": ("D", "fd p cnt"),
    "set_tid_address": ("P", "p"), "restart_syscall": ("S", ""),
    "semtimedop": ("I", "i p i p"), "fadvise64": ("R", "fd i i i"),
    "timer_create": ("Sys", "i p p"), "timer_settime": ("Sys", "i i p p"),
    "timer_gettime": ("Sys", "i p"), "timer_getoverrun": ("Sys", "i"),
    "timer_delete": ("Sys", "i"), "clock_settime": ("Sys", "i p"),
    "clock_gettime": ("Sys", "i p"), "clock_getres": ("Sys", "i p"),
    "clock_nanosleep": ("Sys", "i i p p"), "exit_group": ("P", "i"),
    "epoll_wait": ("O", "fd p i i"), "epoll_ctl": ("O", "fd i i p"),
    "tgkill": ("S", "i pid sig"), "utimes": ("M", "path p"), "vserver": ("O", ""),
    "mbind": ("Mem", "p i i p i i"), "set_mempolicy": ("Mem", "i p i"),
    "get_mempolicy": ("Mem", "p p i p i"), "mq_open": ("I", "str of cm p"),
    "mq_unlink": ("I", "str"), "mq_timedsend": ("I", "fd p i i p"),
    "mq_timedreceive": ("I", "fd p i p p"), "mq_notify": ("I", "fd p"),
    "mq_getsetattr": ("I", "fd p p"), "kexec_load": ("Sys", "i i p i"),
    "waitid": ("P", "i i p i p"), "add_key": ("Sys", "str str p i i"),
    "request_key": ("Sys", "str str p i"), "keyctl": ("Sys", "i i i i i"),
    "ioprio_set": ("P", "i i i"), "ioprio_get": ("P", "i i"), "inotify_init": ("M", ""),
    "inotify_add_watch": ("M", "fd path i"), "inotify_rm_watch": ("M", "fd i"),
    "migrate_pages": ("Mem", "i i p p"), "openat": ("R", "dfd path of cm"),
    "mkdirat": ("D", "dfd path mode"), "mknodat": ("W", "dfd path mode i"),
    "fchownat": ("M", "dfd path i i i"), "futimesat": ("M", "dfd path p"),
    "newfstatat": ("M", "dfd path p i"), "unlinkat": ("W", "dfd path i"),
    "renameat": ("W", "dfd path i path"), "linkat": ("W", "dfd path i path i"),
    "symlinkat": ("W", "path dfd path"), "readlinkat": ("M", "dfd path p i"),
    "fchmodat": ("M", "dfd path mode"), "faccessat": ("M", "dfd path i"),
    "pselect6": ("O", "i p p p p p"), "ppoll": ("O", "p i p p i"), "unshare": ("P", "i"),
    "set_robust_list": ("P", "p i"), "get_robust_list": ("P", "i p p"),
    "splice": ("I", "fd p i p cnt i"), "tee": ("I", "fd i cnt i"),
    "sync_file_range": ("W", "fd i i i"), "vmsplice": ("I", "fd p i i"),
    "move_pages": ("Mem", "i i p p p i"), "utimensat": ("M", "dfd path p i"),
    "epoll_pwait": ("O", "fd p i i p i"), "signalfd": ("S", "fd p i"),
    "timerfd_create": ("Sys", "i i"), "eventfd": ("I", "i"), "fallocate": ("W", "fd i i i"),
    "timerfd_settime": ("Sys", "fd i p p"), "timerfd_gettime": ("Sys", "fd p"),
    "accept4": ("N", "fd p p i"), "signalfd4": ("S", "fd p i i"), "eventfd2": ("I", "i i"),
    "epoll_create1": ("O", "i"), "dup3": ("O", "fd i i"), "pipe2": ("I", "p i"),
    "inotify_init1": ("M", "i"), "preadv": ("R", "fd p i i i"), "pwritev": ("W", "fd p i i i"),
    "rt_tgsigqueueinfo": ("S", "i pid sig p"), "perf_event_open": ("Sys", "p i i i i"),
    "recvmmsg": ("N", "fd p i i p"), "fanotify_init": ("M", "i i"),
    "fanotify_mark": ("M", "fd i i dfd path"), "prlimit64": ("P", "i i p p"),
    "name_to_handle_at": ("M", "dfd path p p i"), "open_by_handle_at": ("R", "fd p of"),
    "clock_adjtime": ("Sys", "i p"), "syncfs": ("W", "fd"), "sendmmsg": ("N", "fd p i i"),
    "setns": ("P", "fd i"), "getcpu": ("Sys", "p p p"),
    "process_vm_readv": ("P", "pid p i p i i"), "process_vm_writev": ("P", "pid p i p i i"),
    "kcmp": ("P", "i i i i i"), "finit_module": ("Sys", "fd p i"),
    "sched_setattr": ("P", "i p i"), "sched_getattr": ("P", "i p i i"),
    "renameat2": ("W", "dfd path i path i"), "seccomp": ("Sys", "i i p"),
    "getrandom": ("Sys", "p cnt i"), "memfd_create": ("Mem", "str i"),
    "kexec_file_load": ("Sys", "fd i i p i"), "bpf": ("Sys", "i p i"),
    "execveat": ("P", "dfd path argv p i"), "userfaultfd": ("Mem", "i"),
    "membarrier": ("Mem", "i i i"), "mlock2": ("Mem", "p i i"),
    "copy_file_range": ("W", "fd p i p cnt i"), "preadv2": ("R", "fd p i i i i"),
    "pwritev2": ("W", "fd p i i i i"), "pkey_mprotect": ("Mem", "p i i i"),
    "pkey_alloc": ("Mem", "i i"), "pkey_free": ("Mem", "i"), "statx": ("M", "dfd path i i p"),
    "io_pgetevents": ("Sys", "i i i p p p"), "rseq": ("P", "p i i i"),
    "pidfd_send_signal": ("S", "fd sig p i"), "io_uring_setup": ("Sys", "i p"),
    "io_uring_enter": ("Sys", "fd i i i p i"), "io_uring_register": ("Sys", "fd i p i"),
    "open_tree": ("Sys", "dfd path i"), "move_mount": ("Sys", "dfd path i path i"),
    "fsopen": ("Sys", "str i"), "fsconfig": ("Sys", "fd i str p i"),
    "fsmount": ("Sys", "fd i i"), "fspick": ("Sys", "dfd path i"), "pidfd_open": ("P", "pid i"),
    "clone3": ("P", "p i"), "close_range": ("O", "i i i"), "openat2": ("R", "dfd path p i"),
    "pidfd_getfd": ("P", "fd i i"), "faccessat2": ("M", "dfd path i i"),
    "process_madvise": ("Mem", "fd p i i i"), "epoll_pwait2": ("O", "fd p i p p i"),
    "mount_setattr": ("Sys", "dfd path i p i"), "quotactl_fd": ("Sys", "fd i i p"),
    "landlock_create_ruleset": ("Sys", "p i i"), "landlock_add_rule": ("Sys", "fd i p i"),
    "landlock_restrict_self": ("Sys", "fd i"), "memfd_secret": ("Mem", "i"),
    "process_mrelease": ("P", "fd i"), "futex_waitv": ("I", "p i i p i"),
    "set_mempolicy_home_node": ("Mem", "p i i i"), "cachestat": ("Mem", "fd p p i"),
    "fchmodat2": ("M", "dfd path mode i"), "map_shadow_stack": ("Mem", "p i i"),
    "futex_wake": ("I", "p i i i"), "futex_wait": ("I", "p i i i p i"),
    "futex_requeue": ("I", "p i i i"), "statmount": ("Sys", "p p i i"),
    "listmount": ("Sys", "p p i i"), "lsm_get_self_attr": ("Sys", "i p p i"),
    "lsm_set_self_attr": ("Sys", "i p i i"), "lsm_list_modules": ("Sys", "p p i"),
    "mseal": ("Mem", "p i i"), "setxattrat": ("M", "dfd path i str p i"),
    "getxattrat": ("M", "dfd path i str p i"), "listxattrat": ("M", "dfd path i p i"),
    "removexattrat": ("M", "dfd path i str"), "open_tree_attr": ("Sys", "dfd path i p i"),
    "file_getattr": ("M", "dfd path p i i"), "file_setattr": ("M", "dfd path p i i"),
}


def read_names():
    names = {}
    with open(HEADER) as header:
        for line in header:
            m = re.match(r"#define __NR_(\w+)\s+(\d+)", line)
            if m:
                names[int(m.group(2))] = m.group(1)
    for nr, name in NEWER.items():
        if names.setdefault(nr, name) != name:
            sys.exit(f"{HEADER} names {nr} {names[nr]}, expected {name}")
    return names


def table_lines(names):
    lines = [
        "// Generated by scripts/gen_syscall_table.py: one entry per x86-64 syscall number.",
        "constexpr std::array<SyscallInfo, kMaxSyscall + 1> kSyscallTable = {{",
    ]
    for nr in range(MAX_NR + 1):
        if nr not in names:
            lines.append(f'    {{"syscall_{nr}", C::kOther, {{}}}},')
            continue
        category, kinds = SPECS[names[nr]]
        words = kinds.split()
        if len(words) > 6 or any(w not in KINDS for w in words):
            sys.exit(f"bad argument kinds for {names[nr]}: {kinds}")
        args = ", ".join("A::" + KINDS[w] for w in words)
        lines.append(f'    {{"{names[nr]}", C::{CATEGORIES[category]}, {{{args}}}}},  // {nr}')
    lines.append("}};")
    return lines


def main():
    names = read_names()
    missing = sorted(set(names.values()) - set(SPECS))
    unused = sorted(set(SPECS) - set(names.values()))
    if missing or unused:
        sys.exit(f"unclassified: {missing}; unknown: {unused}")
    with open(TARGET) as f:
        text = f.read()
    begin = text.index(BEGIN) + len(BEGIN)
    end = text.index(END)
    table = "// clang-format off\n" + "\n".join(table_lines(names)) + "\n// clang-format on\n"
    with open(TARGET, "w") as f:
        f.write(text[:begin] + table + text[end:])


if __name__ == "__main__":
    main()
