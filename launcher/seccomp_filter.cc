// The libseccomp-free half of layer 7: program validation, the byte format, installation and
// the user-space evaluator. CompileSeccompFilter is in seccomp_compile.cc.
#include "launcher/seccomp_filter.h"

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sandtrace::launcher {
namespace {

constexpr char kMagic[8] = {'S', 'T', 'S', 'C', 'B', 'P', 'F', '1'};
constexpr size_t kInsnBytes = 8;
constexpr uint32_t kDataSize = sizeof(seccomp_data);

Error Invalid(size_t pc, const char* what) {
  return PlainError(std::string(kSeccompLayer) + ": invalid BPF program: instruction " +
                    std::to_string(pc) + ": " + what);
}

bool IsAlu(uint16_t code) {
  switch (code & ~BPF_X) {
    case BPF_ALU | BPF_ADD:
    case BPF_ALU | BPF_SUB:
    case BPF_ALU | BPF_MUL:
    case BPF_ALU | BPF_DIV:
    case BPF_ALU | BPF_AND:
    case BPF_ALU | BPF_OR:
    case BPF_ALU | BPF_XOR:
    case BPF_ALU | BPF_LSH:
    case BPF_ALU | BPF_RSH:
      return true;
  }
  return code == (BPF_ALU | BPF_NEG);
}

bool IsConditionalJump(uint16_t code) {
  switch (code & ~BPF_X) {
    case BPF_JMP | BPF_JEQ:
    case BPF_JMP | BPF_JGT:
    case BPF_JMP | BPF_JGE:
    case BPF_JMP | BPF_JSET:
      return true;
  }
  return false;
}

// The instruction set the kernel accepts for seccomp (seccomp_check_filter) plus the checks of
// bpf_check_classic that keep the evaluator inside its arrays.
Status ValidateCode(const std::vector<sock_filter>& code) {
  if (code.empty()) return Invalid(0, "empty program");
  if (code.size() > BPF_MAXINSNS) return Invalid(BPF_MAXINSNS, "program too long");
  for (size_t pc = 0; pc < code.size(); ++pc) {
    const sock_filter& f = code[pc];
    const size_t remaining = code.size() - pc - 1;  // instructions after this one
    switch (f.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (f.k >= kDataSize || f.k % 4 != 0) return Invalid(pc, "load outside seccomp_data");
        continue;
      case BPF_LD | BPF_W | BPF_LEN:
      case BPF_LDX | BPF_W | BPF_LEN:
      case BPF_LD | BPF_IMM:
      case BPF_LDX | BPF_IMM:
      case BPF_MISC | BPF_TAX:
      case BPF_MISC | BPF_TXA:
      case BPF_RET | BPF_K:
      case BPF_RET | BPF_A:
        continue;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
      case BPF_ST:
      case BPF_STX:
        if (f.k >= BPF_MEMWORDS) return Invalid(pc, "scratch memory index out of range");
        continue;
      case BPF_JMP | BPF_JA:
        if (f.k >= remaining) return Invalid(pc, "jump out of the program");
        continue;
    }
    if (IsAlu(f.code)) {
      if (f.code == (BPF_ALU | BPF_DIV | BPF_K) && f.k == 0) return Invalid(pc, "division by 0");
      if ((f.code == (BPF_ALU | BPF_LSH | BPF_K) || f.code == (BPF_ALU | BPF_RSH | BPF_K)) &&
          f.k >= 32) {
        return Invalid(pc, "shift by 32 or more");
      }
      continue;
    }
    if (IsConditionalJump(f.code)) {
      if (f.jt >= remaining || f.jf >= remaining) return Invalid(pc, "jump out of the program");
      continue;
    }
    return Invalid(pc, "opcode not allowed in seccomp filters");
  }
  if (BPF_CLASS(code.back().code) != BPF_RET) return Invalid(code.size() - 1, "no final RET");
  return {};
}

uint32_t Alu(uint16_t op, uint32_t a, uint32_t operand) {
  switch (op) {
    case BPF_ADD:
      return a + operand;
    case BPF_SUB:
      return a - operand;
    case BPF_MUL:
      return a * operand;
    case BPF_DIV:
      return a / operand;  // the caller handles operand 0
    case BPF_AND:
      return a & operand;
    case BPF_OR:
      return a | operand;
    case BPF_XOR:
      return a ^ operand;
    case BPF_LSH:
      return a << (operand & 31);
    case BPF_RSH:
      return a >> (operand & 31);
    case BPF_NEG:
      return -a;
  }
  return a;
}

bool Jump(uint16_t op, uint32_t a, uint32_t operand) {
  switch (op) {
    case BPF_JEQ:
      return a == operand;
    case BPF_JGT:
      return a > operand;
    case BPF_JGE:
      return a >= operand;
    case BPF_JSET:
      return (a & operand) != 0;
  }
  return false;
}

}  // namespace

Result<SeccompProgram> SeccompProgram::FromCode(std::vector<sock_filter> code) {
  Status valid = ValidateCode(code);
  if (!valid) return valid.error();
  return SeccompProgram(std::move(code));
}

std::string SeccompProgram::Serialize() const {
  std::string out(kMagic, sizeof kMagic);
  out.reserve(sizeof kMagic + code_.size() * kInsnBytes);
  for (const sock_filter& f : code_) {
    const uint8_t bytes[kInsnBytes] = {static_cast<uint8_t>(f.code),
                                       static_cast<uint8_t>(f.code >> 8),
                                       f.jt,
                                       f.jf,
                                       static_cast<uint8_t>(f.k),
                                       static_cast<uint8_t>(f.k >> 8),
                                       static_cast<uint8_t>(f.k >> 16),
                                       static_cast<uint8_t>(f.k >> 24)};
    out.append(reinterpret_cast<const char*>(bytes), kInsnBytes);
  }
  return out;
}

Result<SeccompProgram> SeccompProgram::Deserialize(std::string_view bytes) {
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return PlainError(std::string(kSeccompLayer) + ": not a serialized seccomp program");
  }
  bytes.remove_prefix(sizeof kMagic);
  if (bytes.size() % kInsnBytes != 0) {
    return PlainError(std::string(kSeccompLayer) + ": serialized program has " +
                      std::to_string(bytes.size()) + " bytes, not a multiple of 8");
  }
  std::vector<sock_filter> code(bytes.size() / kInsnBytes);
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  for (sock_filter& f : code) {
    f.code = static_cast<uint16_t>(p[0] | p[1] << 8);
    f.jt = p[2];
    f.jf = p[3];
    f.k = static_cast<uint32_t>(p[4]) | static_cast<uint32_t>(p[5]) << 8 |
          static_cast<uint32_t>(p[6]) << 16 | static_cast<uint32_t>(p[7]) << 24;
    p += kInsnBytes;
  }
  return FromCode(std::move(code));
}

int InstallSeccompFilterInChild(const SeccompProgram& program) noexcept {
  if (program.empty()) {
    errno = EINVAL;
    return EINVAL;
  }
  int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  if (nnp < 0) return errno;
  if (nnp != 1) {
    errno = EACCES;
    return EACCES;
  }
  sock_fprog fprog;
  fprog.len = static_cast<unsigned short>(program.code().size());
  fprog.filter = const_cast<sock_filter*>(program.code().data());
  // No TSYNC: the command process is single-threaded when it installs the filter.
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) return errno;
  return 0;
}

Status InstallSeccompFilter(const SeccompProgram& program) {
  int error = InstallSeccompFilterInChild(program);
  if (error == 0) return {};
  std::string context = std::string(kSeccompLayer) + ": seccomp(SECCOMP_SET_MODE_FILTER)";
  if (program.empty()) context += ": empty program";
  if (error == EACCES && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0) {
    context += ": no_new_privs is not set (layer 5 must come first)";
  }
  return Error{error, std::move(context)};
}

uint32_t EvaluateSeccompFilter(const SeccompProgram& program, const seccomp_data& data) {
  const std::vector<sock_filter>& code = program.code();
  if (code.empty()) return SECCOMP_RET_ALLOW;
  const auto* bytes = reinterpret_cast<const char*>(&data);
  uint32_t a = 0;
  uint32_t x = 0;
  uint32_t mem[BPF_MEMWORDS] = {};
  size_t pc = 0;
  while (pc < code.size()) {
    const sock_filter& f = code[pc++];
    switch (f.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        std::memcpy(&a, bytes + f.k, sizeof a);
        continue;
      case BPF_LD | BPF_W | BPF_LEN:
        a = kDataSize;
        continue;
      case BPF_LDX | BPF_W | BPF_LEN:
        x = kDataSize;
        continue;
      case BPF_LD | BPF_IMM:
        a = f.k;
        continue;
      case BPF_LDX | BPF_IMM:
        x = f.k;
        continue;
      case BPF_LD | BPF_MEM:
        a = mem[f.k];
        continue;
      case BPF_LDX | BPF_MEM:
        x = mem[f.k];
        continue;
      case BPF_ST:
        mem[f.k] = a;
        continue;
      case BPF_STX:
        mem[f.k] = x;
        continue;
      case BPF_MISC | BPF_TAX:
        x = a;
        continue;
      case BPF_MISC | BPF_TXA:
        a = x;
        continue;
      case BPF_JMP | BPF_JA:
        pc += f.k;
        continue;
      case BPF_RET | BPF_K:
        return f.k;
      case BPF_RET | BPF_A:
        return a;
    }
    const uint32_t operand = BPF_SRC(f.code) == BPF_X ? x : f.k;
    if (BPF_CLASS(f.code) == BPF_ALU) {
      if (BPF_OP(f.code) == BPF_DIV && operand == 0) return 0;  // the kernel's result: kill
      a = Alu(BPF_OP(f.code), a, operand);
    } else {
      pc += Jump(BPF_OP(f.code), a, operand) ? f.jt : f.jf;
    }
  }
  return SECCOMP_RET_KILL_PROCESS;  // not reached: validated programs end in RET
}

namespace {

uint32_t EvaluateNative(const SeccompProgram& program, int nr, const uint64_t args[6]) {
  seccomp_data data;
  std::memset(&data, 0, sizeof data);
  data.nr = nr;
  data.arch = AUDIT_ARCH_X86_64;
  for (int i = 0; i < 6; ++i) data.args[i] = args[i];
  return EvaluateSeccompFilter(program, data);
}

}  // namespace

bool IsDeniedByFilter(const SeccompProgram& program, int nr, const uint64_t args[6]) {
  const uint32_t ret = EvaluateNative(program, nr, args);
  return ret == (SECCOMP_RET_ERRNO | kSeccompDenyErrno) ||
         ret == (SECCOMP_RET_TRACE | kTraceDenyEperm);
}

int DeniedErrno(const SeccompProgram& program, int nr, const uint64_t args[6]) {
  const uint32_t ret = EvaluateNative(program, nr, args);
  if (ret == (SECCOMP_RET_TRACE | kTraceDenyEperm)) return kSeccompDenyErrno;
  if (ret == (SECCOMP_RET_TRACE | kTraceDenyEnosys)) return ENOSYS;
  return 0;
}

}  // namespace sandtrace::launcher
