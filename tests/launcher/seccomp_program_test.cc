// Layer 7 without the kernel: compiling (errors, architectures), the byte format handed from
// wrapper to tracer, and the user-space BPF evaluator on hand-written programs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>

#include <set>

#include "launcher/seccomp_filter.h"

namespace sandtrace::launcher {
namespace {

sock_filter Stmt(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter Jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  return sock_filter{code, jt, jf, k};
}

seccomp_data Data(uint32_t arch, int nr, uint64_t arg0 = 0) {
  seccomp_data d{};
  d.arch = arch;
  d.nr = nr;
  d.args[0] = arg0;
  return d;
}

SeccompProgram Compiled(const SeccompConfig& config = {}) {
  Result<SeccompProgram> program = CompileSeccompFilter(config);
  EXPECT_TRUE(program) << program.error().message();
  return program ? *program : SeccompProgram();
}

TEST(SeccompCompile, UnknownDenyNameIsAnErrorNamingIt) {
  Result<SeccompProgram> program = CompileSeccompFilter({.deny = {"getpid", "no_such_call"}});
  ASSERT_FALSE(program);
  const std::string message = program.error().message();
  EXPECT_NE(message.find("layer 7 (seccomp)"), std::string::npos) << message;
  EXPECT_NE(message.find("\"no_such_call\""), std::string::npos) << message;
  EXPECT_NE(message.find("[syscalls] deny"), std::string::npos) << message;
}

TEST(SeccompCompile, OtherArchitecturesSyscallNameIsAnError) {
  // socketcall exists on i386 only; libseccomp would silently make it a no-op rule.
  Result<SeccompProgram> program = CompileSeccompFilter({.deny = {"socketcall"}});
  ASSERT_FALSE(program);
  EXPECT_NE(program.error().message().find("does not exist on x86-64"), std::string::npos);
}

TEST(SeccompCompile, ForeignArchitecturesAndX32AreKilled) {
  SeccompProgram program = Compiled();
  EXPECT_EQ(EvaluateSeccompFilter(program, Data(AUDIT_ARCH_I386, 20)), SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(EvaluateSeccompFilter(program, Data(AUDIT_ARCH_AARCH64, 172)),
            SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(EvaluateSeccompFilter(program, Data(AUDIT_ARCH_X86_64, 0x40000000 | SYS_getpid)),
            SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(EvaluateSeccompFilter(program, Data(AUDIT_ARCH_X86_64, SYS_getpid)), SECCOMP_RET_ALLOW);
  // -1 is what a tracer's "skip this syscall" leaves; libseccomp lets it through.
  EXPECT_EQ(EvaluateSeccompFilter(program, Data(AUDIT_ARCH_X86_64, -1)), SECCOMP_RET_ALLOW);
}

TEST(SeccompCompile, ArgumentRulesLookAtTheLowHalfOnly) {
  SeccompProgram program = Compiled();
  auto denied = [&](int nr, uint64_t a0, uint64_t a1) {
    const uint64_t args[6] = {a0, a1, 0, 0, 0, 0};
    return IsDeniedByFilter(program, nr, args);
  };
  EXPECT_TRUE(denied(SYS_ioctl, 0, 0x5412));                      // TIOCSTI
  EXPECT_TRUE(denied(SYS_ioctl, 0, 0xffffffff00005412ull));       // TIOCSTI, garbage above
  EXPECT_FALSE(denied(SYS_ioctl, 0, 0x5413));                     // TIOCGWINSZ
  EXPECT_FALSE(denied(SYS_ioctl, 0, 0x541200000000ull));          // TIOCSTI only in the high half
  EXPECT_TRUE(denied(SYS_clone, 0x10000000 | 0xffull << 40, 0));  // CLONE_NEWUSER
  EXPECT_FALSE(denied(SYS_clone, 0x10000000ull << 32, 0));        // high half: not a flag
  EXPECT_FALSE(denied(SYS_clone, 0x01200011, 0));                 // glibc fork
  EXPECT_FALSE(denied(SYS_ptrace, 0, 0));                         // PTRACE_TRACEME
  EXPECT_TRUE(denied(SYS_ptrace, 1ull << 32, 0));                 // not TRACEME: long
}

TEST(SeccompCompile, AllowedSyscallsStayAllowed) {
  SeccompProgram program = Compiled();
  const uint64_t none[6] = {};
  for (int nr : {SYS_read, SYS_write, SYS_openat, SYS_execve, SYS_mmap, SYS_exit_group, SYS_getpid,
                 SYS_wait4, SYS_rt_sigaction, SYS_socket, SYS_connect}) {
    EXPECT_FALSE(IsDeniedByFilter(program, nr, none)) << nr;
  }
}

TEST(SeccompCompile, DenialsThroughTheTracerKeepTheSameDecisions) {
  SeccompConfig config;
  config.deny = {"uname"};
  const SeccompProgram direct = Compiled(config);
  config.deny_through_tracer = true;
  const SeccompProgram traced = Compiled(config);
  const uint64_t none[6] = {};
  const uint64_t new_user[6] = {CLONE_NEWUSER};
  EXPECT_EQ(EvaluateSeccompFilter(traced, Data(AUDIT_ARCH_X86_64, SYS_reboot)),
            SECCOMP_RET_TRACE | kTraceDenyEperm);
  for (int nr : {SYS_reboot, SYS_uname, SYS_getpid, SYS_clone3, SYS_openat}) {
    EXPECT_EQ(IsDeniedByFilter(traced, nr, none), IsDeniedByFilter(direct, nr, none)) << nr;
  }
  EXPECT_EQ(DeniedErrno(traced, SYS_uname, none), EPERM);
  EXPECT_EQ(DeniedErrno(traced, SYS_clone, new_user), EPERM);
  EXPECT_EQ(DeniedErrno(traced, SYS_clone, none), 0);
  EXPECT_EQ(DeniedErrno(traced, SYS_clone3, none), ENOSYS);
  EXPECT_EQ(DeniedErrno(traced, SYS_getpid, none), 0);
  EXPECT_EQ(DeniedErrno(direct, SYS_uname, none), 0);  // the kernel answers those itself
  // Foreign architectures are still killed by the kernel, not handed to the tracer.
  EXPECT_EQ(EvaluateSeccompFilter(traced, Data(AUDIT_ARCH_I386, 20)), SECCOMP_RET_KILL_PROCESS);
}

TEST(SeccompTraceFilter, TracesTheSelectionAndLetsLayerEightThrough) {
  Result<SeccompProgram> program =
      CompileTraceFilter({SYS_openat, SYS_getpid, SYS_ptrace, SYS_kill});
  ASSERT_TRUE(program) << program.error().message();
  auto run = [&](int nr, uint64_t a0 = 0, uint64_t a1 = 0, uint32_t arch = AUDIT_ARCH_X86_64) {
    seccomp_data d = Data(arch, nr, a0);
    d.args[1] = a1;
    return EvaluateSeccompFilter(*program, d) & SECCOMP_RET_ACTION_FULL;
  };
  EXPECT_EQ(run(SYS_openat), SECCOMP_RET_TRACE);
  EXPECT_EQ(run(SYS_getpid), SECCOMP_RET_TRACE);
  EXPECT_EQ(run(SYS_close), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(SYS_mmap), SECCOMP_RET_ALLOW);
  // Layer 8's own calls, made before a tracer exists, pass; others of the same syscalls stop.
  EXPECT_EQ(run(SYS_ptrace, 0 /* PTRACE_TRACEME */), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(SYS_ptrace, 16 /* PTRACE_ATTACH */), SECCOMP_RET_TRACE);
  EXPECT_EQ(run(SYS_kill, 2, SIGSTOP), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(SYS_kill, 2, SIGTERM), SECCOMP_RET_TRACE);
  EXPECT_EQ(run(SYS_kill, 7, SIGSTOP), SECCOMP_RET_TRACE);
  // Foreign architectures are never hidden from the tracer.
  EXPECT_EQ(run(20, 0, 0, AUDIT_ARCH_I386), SECCOMP_RET_TRACE);
}

TEST(SeccompProgramBytes, SerializeDeserializeRoundTrip) {
  SeccompProgram program = Compiled({.deny = {"getppid"}});
  ASSERT_FALSE(program.empty());
  const std::string bytes = program.Serialize();
  EXPECT_EQ(bytes.substr(0, 8), "STSCBPF1");
  EXPECT_EQ(bytes.size(), 8 + 8 * program.code().size());
  Result<SeccompProgram> back = SeccompProgram::Deserialize(bytes);
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_EQ(back->code().size(), program.code().size());
  for (size_t i = 0; i < program.code().size(); ++i) {
    EXPECT_EQ(back->code()[i].code, program.code()[i].code);
    EXPECT_EQ(back->code()[i].jt, program.code()[i].jt);
    EXPECT_EQ(back->code()[i].jf, program.code()[i].jf);
    EXPECT_EQ(back->code()[i].k, program.code()[i].k);
  }
  EXPECT_EQ(back->Serialize(), bytes);
  const uint64_t none[6] = {};
  EXPECT_TRUE(IsDeniedByFilter(*back, SYS_getppid, none));
  EXPECT_FALSE(IsDeniedByFilter(*back, SYS_getpid, none));
}

TEST(SeccompProgramBytes, DeserializeRejectsDamage) {
  const std::string bytes = Compiled().Serialize();
  EXPECT_FALSE(SeccompProgram::Deserialize(""));
  EXPECT_FALSE(SeccompProgram::Deserialize("STSCBPF1"));                         // no instruction
  EXPECT_FALSE(SeccompProgram::Deserialize("XXXXXXXX" + bytes.substr(8)));       // magic
  EXPECT_FALSE(SeccompProgram::Deserialize(bytes.substr(0, bytes.size() - 3)));  // partial
  EXPECT_FALSE(SeccompProgram::Deserialize(bytes.substr(0, bytes.size() - 8)));  // no final RET
}

TEST(SeccompProgramBytes, FromCodeRejectsWhatTheEvaluatorCannotRun) {
  const sock_filter ret = Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  EXPECT_TRUE(SeccompProgram::FromCode({ret}));
  EXPECT_FALSE(SeccompProgram::FromCode({}));
  EXPECT_FALSE(SeccompProgram::FromCode({Stmt(BPF_LD | BPF_W | BPF_ABS, 64), ret}));
  EXPECT_FALSE(SeccompProgram::FromCode({Stmt(BPF_LD | BPF_W | BPF_ABS, 2), ret}));
  EXPECT_FALSE(SeccompProgram::FromCode({Stmt(BPF_LD | BPF_B | BPF_ABS, 0), ret}));
  EXPECT_FALSE(SeccompProgram::FromCode({Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), ret}));
  EXPECT_FALSE(SeccompProgram::FromCode({Stmt(BPF_JMP | BPF_JA, 1), ret}));
  EXPECT_FALSE(SeccompProgram::FromCode({Stmt(BPF_ST, BPF_MEMWORDS), ret}));
  EXPECT_FALSE(SeccompProgram::FromCode({Stmt(BPF_ALU | BPF_DIV | BPF_K, 0), ret}));
  EXPECT_FALSE(SeccompProgram::FromCode({Stmt(BPF_ALU | BPF_LSH | BPF_K, 32), ret}));
  EXPECT_FALSE(SeccompProgram::FromCode({ret, Stmt(BPF_LD | BPF_IMM, 0)}));
  EXPECT_FALSE(SeccompProgram::FromCode(std::vector<sock_filter>(BPF_MAXINSNS + 1, ret)));
}

TEST(SeccompEvaluator, RunsScratchMemoryAluAndEveryJump) {
  // A = ((nr & 0xff) + 1) << 1 through scratch memory and X, then a tree of jumps.
  const std::vector<sock_filter> code = {
      Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),  // 0: A = nr
      Stmt(BPF_ST, 3),                                             // 1: M[3] = A
      Stmt(BPF_LDX | BPF_MEM, 3),                                  // 2: X = M[3]
      Stmt(BPF_LD | BPF_IMM, 0),                                   // 3: A = 0
      Stmt(BPF_MISC | BPF_TXA, 0),                                 // 4: A = X
      Stmt(BPF_ALU | BPF_AND | BPF_K, 0xff),                       // 5: A &= 0xff
      Stmt(BPF_ALU | BPF_ADD | BPF_K, 1),                          // 6: A += 1
      Stmt(BPF_ALU | BPF_LSH | BPF_K, 1),                          // 7: A <<= 1
      Jump(BPF_JMP | BPF_JSET | BPF_K, 0x100, 4, 0),               // 8: bit 8 -> 13
      Jump(BPF_JMP | BPF_JGT | BPF_K, 200, 2, 0),                  // 9: > 200 -> 12
      Jump(BPF_JMP | BPF_JGE | BPF_K, 100, 0, 2),                  // 10: < 100 -> 13
      Stmt(BPF_RET | BPF_A, 0),                                    // 11: return A
      Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 7),                // 12
      Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_THREAD),              // 13
  };
  Result<SeccompProgram> program = SeccompProgram::FromCode(code);
  ASSERT_TRUE(program) << program.error().message();
  auto run = [&](int nr) { return EvaluateSeccompFilter(*program, Data(AUDIT_ARCH_X86_64, nr)); };
  EXPECT_EQ(run(59), 120u);                        // (59 + 1) * 2 = 120: RET A
  EXPECT_EQ(run(120), SECCOMP_RET_ERRNO | 7);      // 242 > 200
  EXPECT_EQ(run(20), SECCOMP_RET_KILL_THREAD);     // 42 < 100
  EXPECT_EQ(run(0x17f), SECCOMP_RET_KILL_THREAD);  // (0x7f + 1) * 2 = 0x100: JSET
}

TEST(SeccompEvaluator, DivisionByZeroRegisterReturnsZeroLikeTheKernel) {
  const std::vector<sock_filter> code = {Stmt(BPF_LDX | BPF_IMM, 0), Stmt(BPF_LD | BPF_IMM, 9),
                                         Stmt(BPF_ALU | BPF_DIV | BPF_X, 0),
                                         Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  Result<SeccompProgram> program = SeccompProgram::FromCode(code);
  ASSERT_TRUE(program);
  EXPECT_EQ(EvaluateSeccompFilter(*program, Data(AUDIT_ARCH_X86_64, 0)), 0u);
}

TEST(SeccompEvaluator, EmptyProgramAllows) {
  EXPECT_EQ(EvaluateSeccompFilter(SeccompProgram(), Data(AUDIT_ARCH_I386, 1)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(InstallSeccompFilterInChild(SeccompProgram()), EINVAL);
}

// The evaluator implements all of classic BPF that seccomp accepts; this records what
// libseccomp 2.5 actually emits for our filter, so a change shows up here first.
TEST(SeccompEvaluator, LibseccompEmitsTheExpectedInstructionKinds) {
  const SeccompProgram program = Compiled();
  std::set<uint16_t> kinds;
  for (const sock_filter& f : program.code()) kinds.insert(f.code);
  const std::set<uint16_t> known = {BPF_LD | BPF_W | BPF_ABS,   BPF_JMP | BPF_JEQ | BPF_K,
                                    BPF_JMP | BPF_JGE | BPF_K,  BPF_JMP | BPF_JGT | BPF_K,
                                    BPF_JMP | BPF_JSET | BPF_K, BPF_JMP | BPF_JA,
                                    BPF_ALU | BPF_AND | BPF_K,  BPF_RET | BPF_K};
  for (uint16_t k : kinds) EXPECT_TRUE(known.count(k)) << "opcode 0x" << std::hex << k;
}

}  // namespace
}  // namespace sandtrace::launcher
