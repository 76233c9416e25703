// CompileSeccompFilter: builds the layer 7 filter (launcher/seccomp_filter.h) with libseccomp,
// exports the classic-BPF program through a memfd (libseccomp 2.5 has no export to memory) and
// checks the result with the user-space evaluator before handing it out. Library
// sandtrace_seccomp_compile: only the wrapper links it, never the tracer.
#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string_view>

#include "launcher/seccomp_filter.h"

#if !defined(__x86_64__)
#error "layer 7 (seccomp) is written for x86-64: other architectures need their own rules"
#endif

namespace sandtrace::launcher {
namespace {

// Denied with EPERM whatever the arguments: the seed's always-blocked list, then hardening
// (THREATS.md items 3-6 and 9).
constexpr const char* kAlwaysDenied[] = {
    // The seed's always-blocked list.
    "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "init_module", "finit_module",
    "delete_module", "acct", "pivot_root",
    // io_uring operations bypass seccomp; big kernel attack surfaces.
    "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl", "add_key", "request_key",
    "bpf", "perf_event_open", "userfaultfd",
    // The mount family and chroot: the mount namespace is set up before, and stays as is.
    "mount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick", "open_tree", "open_tree_attr",
    "move_mount", "mount_setattr", "chroot",
    // New or foreign namespaces (clone is checked by flags below, clone3 gets ENOSYS).
    "unshare", "setns",
    // Other processes' memory and fds (ptrace is checked by request below).
    "process_vm_writev", "pidfd_getfd", "kcmp",
    // Host state: kernel log, I/O ports, file handles, quotas, terminals, clocks, names.
    "syslog", "iopl", "ioperm", "open_by_handle_at", "lookup_dcookie", "quotactl", "quotactl_fd",
    "nfsservctl", "vhangup", "settimeofday", "clock_settime", "adjtimex", "clock_adjtime",
    "sethostname", "setdomainname"};

// Denied with EPERM when one integer argument matches. MASKED_EQ with a mask of at most 32
// bits compares the low 32 bits only (the kernel reads these arguments as 32-bit ints);
// NE compares all 64 bits, so garbage in the high half is denied, never allowed.
struct ArgRule {
  const char* name;
  unsigned arg;
  scmp_compare op;
  uint64_t a;  // MASKED_EQ: the mask; NE: the value
  uint64_t b;  // MASKED_EQ: the value
};

constexpr uint64_t kLow32 = 0xffffffffu;
constexpr uint64_t kCommandPid = 2;             // in its PID namespace (launcher/launch.h)
constexpr uint64_t kPtraceTraceMe = 0;          // PTRACE_TRACEME: layer 8 runs after layer 7
constexpr uint64_t kPersonalityQuery = kLow32;  // personality(0xffffffff) only reads it

constexpr ArgRule kArgRules[] = {
    {"clone", 0, SCMP_CMP_MASKED_EQ, CLONE_NEWNS, CLONE_NEWNS},
    {"clone", 0, SCMP_CMP_MASKED_EQ, CLONE_NEWCGROUP, CLONE_NEWCGROUP},
    {"clone", 0, SCMP_CMP_MASKED_EQ, CLONE_NEWUTS, CLONE_NEWUTS},
    {"clone", 0, SCMP_CMP_MASKED_EQ, CLONE_NEWIPC, CLONE_NEWIPC},
    {"clone", 0, SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER},
    {"clone", 0, SCMP_CMP_MASKED_EQ, CLONE_NEWPID, CLONE_NEWPID},
    {"clone", 0, SCMP_CMP_MASKED_EQ, CLONE_NEWNET, CLONE_NEWNET},
    {"clone", 0, SCMP_CMP_MASKED_EQ, CLONE_NEWTIME, CLONE_NEWTIME},
    {"clone", 0, SCMP_CMP_MASKED_EQ, CLONE_UNTRACED, CLONE_UNTRACED},
    {"ioctl", 1, SCMP_CMP_MASKED_EQ, kLow32, TIOCSTI},
    {"ioctl", 1, SCMP_CMP_MASKED_EQ, kLow32, TIOCLINUX},
    {"seccomp", 1, SCMP_CMP_MASKED_EQ, SECCOMP_FILTER_FLAG_NEW_LISTENER,
     SECCOMP_FILTER_FLAG_NEW_LISTENER},
    {"ptrace", 0, SCMP_CMP_NE, kPtraceTraceMe, 0},
    {"personality", 0, SCMP_CMP_NE, kPersonalityQuery, 0},
};

// x86-64 syscalls newer than the libseccomp 2.5.4 table (Debian 12).
struct NewerSyscall {
  std::string_view name;
  int nr;
};
constexpr NewerSyscall kNewerSyscalls[] = {
    {"futex_wait", 455},        {"futex_requeue", 456},
    {"statmount", 457},         {"listmount", 458},
    {"lsm_get_self_attr", 459}, {"lsm_set_self_attr", 460},
    {"lsm_list_modules", 461},  {"mseal", 462},
    {"setxattrat", 463},        {"getxattrat", 464},
    {"listxattrat", 465},       {"removexattrat", 466},
    {"open_tree_attr", 467},    {"file_getattr", 468},
    {"file_setattr", 469},
};

constexpr int kX32SyscallBit = 0x40000000;

std::string Context(std::string_view what) {
  std::string context = std::string(kSeccompLayer) + ": ";
  context += what;
  return context;
}

Result<int> ResolveSyscall(const std::string& name) {
  int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str());
  if (nr >= 0) return nr;
  if (nr != __NR_SCMP_ERROR) {
    return PlainError(Context("syscall \"" + name + "\" does not exist on x86-64"));
  }
  for (const NewerSyscall& s : kNewerSyscalls) {
    if (s.name == name) return s.nr;
  }
  return PlainError(Context("unknown syscall \"" + name + "\""));
}

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using FilterContext = std::unique_ptr<void, ContextDeleter>;

Status AddRule(scmp_filter_ctx ctx, uint32_t action, const std::string& name,
               const std::vector<scmp_arg_cmp>& cmps) {
  Result<int> nr = ResolveSyscall(name);
  if (!nr) return nr.error();
  int rc = seccomp_rule_add_exact_array(ctx, action, *nr, static_cast<unsigned>(cmps.size()),
                                        cmps.empty() ? nullptr : cmps.data());
  if (rc < 0) return Error{-rc, Context("seccomp_rule_add(" + name + ")")};
  return {};
}

Result<std::vector<sock_filter>> ExportBpf(scmp_filter_ctx ctx) {
  int fd = memfd_create("sandtrace-seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0) return ErrnoError(Context("memfd_create"));
  int rc = seccomp_export_bpf(ctx, fd);
  struct stat st;
  if (rc < 0 || fstat(fd, &st) != 0) {
    Error e = rc < 0 ? Error{-rc, Context("seccomp_export_bpf")} : ErrnoError(Context("fstat"));
    close(fd);
    return e;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size % sizeof(sock_filter) != 0) {
    close(fd);
    return PlainError(Context("seccomp_export_bpf wrote a partial instruction"));
  }
  std::vector<sock_filter> code(size / sizeof(sock_filter));
  auto* out = reinterpret_cast<char*>(code.data());
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd, out + done, size - done, static_cast<off_t>(done));
    if (n <= 0) {
      Error e = n < 0 ? ErrnoError(Context("pread(memfd)")) : PlainError(Context("short memfd"));
      close(fd);
      return e;
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  return code;
}

// Fail closed if libseccomp generated something other than what the header promises (e.g. a
// future version that stops sending x32 numbers to the bad-architecture action).
Status CheckProgram(const SeccompProgram& program, bool through_tracer) {
  auto run = [&](uint32_t arch, int nr, uint64_t arg0, uint64_t arg1) {
    seccomp_data d{};
    d.arch = arch;
    d.nr = nr;
    d.args[0] = arg0;
    d.args[1] = arg1;
    return EvaluateSeccompFilter(program, d);
  };
  const uint32_t eperm = through_tracer ? SECCOMP_RET_TRACE | kTraceDenyEperm
                                        : SECCOMP_RET_ERRNO | kSeccompDenyErrno;
  const uint32_t enosys = through_tracer ? SECCOMP_RET_TRACE | kTraceDenyEnosys
                                         : SECCOMP_RET_ERRNO | ENOSYS;
  const bool ok =
      run(AUDIT_ARCH_X86_64, SCMP_SYS(getpid), 0, 0) == SECCOMP_RET_ALLOW &&
      run(AUDIT_ARCH_X86_64, SCMP_SYS(reboot), 0, 0) == eperm &&
      run(AUDIT_ARCH_X86_64, SCMP_SYS(ioctl), 0, TIOCSTI | 1ull << 32) == eperm &&
      run(AUDIT_ARCH_X86_64, SCMP_SYS(clone), CLONE_NEWUSER, 0) == eperm &&
      run(AUDIT_ARCH_X86_64, SCMP_SYS(clone3), 0, 0) == enosys &&
      run(AUDIT_ARCH_X86_64, kX32SyscallBit | SCMP_SYS(getpid), 0, 0) == kSeccompBadArchAction &&
      run(AUDIT_ARCH_I386, 20, 0, 0) == kSeccompBadArchAction;
  if (!ok) return PlainError(Context("self-check of the compiled filter failed"));
  return {};
}

Status AddTraceRule(scmp_filter_ctx ctx, int nr, std::vector<scmp_arg_cmp> cmps) {
  int rc = seccomp_rule_add_exact_array(ctx, SCMP_ACT_TRACE(0), nr,
                                        static_cast<unsigned>(cmps.size()),
                                        cmps.empty() ? nullptr : cmps.data());
  if (rc < 0 && rc != -EEXIST) {
    return Error{-rc, Context("seccomp_rule_add(trace " + std::to_string(nr) + ")")};
  }
  return {};
}

}  // namespace

Result<SeccompProgram> CompileSeccompFilter(const SeccompConfig& config) {
  if (seccomp_arch_native() != SCMP_ARCH_X86_64) {
    return PlainError(Context("libseccomp's native architecture is not x86-64"));
  }
  FilterContext ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return PlainError(Context("seccomp_init"));
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, kSeccompBadArchAction);
  if (rc < 0) return Error{-rc, Context("seccomp_attr_set(SCMP_FLTATR_ACT_BADARCH)")};

  const uint32_t deny = config.deny_through_tracer ? SCMP_ACT_TRACE(kTraceDenyEperm)
                                                   : SCMP_ACT_ERRNO(kSeccompDenyErrno);
  const uint32_t no_clone3 = config.deny_through_tracer ? SCMP_ACT_TRACE(kTraceDenyEnosys)
                                                        : SCMP_ACT_ERRNO(ENOSYS);
  for (const char* name : kAlwaysDenied) {
    if (Status s = AddRule(ctx.get(), deny, name, {}); !s) return s.error();
  }
  for (const ArgRule& r : kArgRules) {
    const scmp_arg_cmp cmp{r.arg, r.op, r.a, r.b};
    if (Status s = AddRule(ctx.get(), deny, r.name, {cmp}); !s) return s.error();
  }
  if (Status s = AddRule(ctx.get(), no_clone3, "clone3", {}); !s) return s.error();
  for (const std::string& name : config.deny) {
    // clone3 keeps ENOSYS so libc falls back to clone, whose flags the filter can see.
    if (name == "clone3") continue;
    // ptrace is denied already except PTRACE_TRACEME, which layer 8 needs (and which cannot
    // harm: every process inside is traced already). A second, unconditional rule would win.
    if (name == "ptrace") continue;
    Status s = AddRule(ctx.get(), deny, name, {});
    if (!s) return Error{s.error().code, s.error().context + " in the policy's [syscalls] deny"};
  }

  Result<std::vector<sock_filter>> code = ExportBpf(ctx.get());
  if (!code) return code.error();
  Result<SeccompProgram> program = SeccompProgram::FromCode(std::move(*code));
  if (!program) return program.error();
  if (Status s = CheckProgram(*program, config.deny_through_tracer); !s) return s.error();
  return program;
}

Result<std::vector<int>> ResolveSyscallNumbers(const std::vector<std::string>& names) {
  std::vector<int> numbers;
  for (const std::string& name : names) {
    Result<int> nr = ResolveSyscall(name);
    if (!nr) return nr.error();
    numbers.push_back(*nr);
  }
  return numbers;
}

Result<SeccompProgram> CompileTraceFilter(const std::vector<int>& numbers) {
  FilterContext ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return PlainError(Context("seccomp_init (trace filter)"));
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRACE(0));
  if (rc < 0) return Error{-rc, Context("seccomp_attr_set(SCMP_FLTATR_ACT_BADARCH)")};
  // The filter is installed before layer 8: until PTRACE_TRACEME there is no tracer, and a
  // traced call would fail with ENOSYS. So the two calls of layer 8 itself pass: ptrace
  // (PTRACE_TRACEME) and kill(2, SIGSTOP) (the command is PID 2 of its PID namespace).
  for (int nr : numbers) {
    Status s;
    if (nr == SCMP_SYS(ptrace)) {
      s = AddTraceRule(ctx.get(), nr, {SCMP_A0_64(SCMP_CMP_NE, kPtraceTraceMe)});
    } else if (nr == SCMP_SYS(kill)) {
      s = AddTraceRule(ctx.get(), nr, {SCMP_A0_32(SCMP_CMP_NE, kCommandPid)});
      if (s) s = AddTraceRule(ctx.get(), nr, {SCMP_A1_32(SCMP_CMP_NE, SIGSTOP)});
    } else {
      s = AddTraceRule(ctx.get(), nr, {});
    }
    if (!s) return s.error();
  }
  Result<std::vector<sock_filter>> code = ExportBpf(ctx.get());
  if (!code) return code.error();
  return SeccompProgram::FromCode(std::move(*code));
}

}  // namespace sandtrace::launcher
