#include "cli/sandbox_plan.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "cli/path_patterns.h"
#include "cli/trace_selection.h"
#include "launcher/seccomp_filter.h"

namespace sandtrace::cli {
namespace {

using policy::Policy;

// Executable with --allow-exec (in addition to the policy's filesystem.allow_exec).
const char* const kSystemExec[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
                                   "/libx32", "/opt"};
// Directories the restricted view replaces with a private tmpfs (launcher/mount_view.h), and
// the kernel's own file systems: writable policy paths there need no bind mount (binding the
// host's /tmp would expose it).
const char* const kPrivateTmpfs[] = {"/tmp", "/run", "/dev/shm"};
const char* const kNoBind[] = {"/tmp", "/run", "/dev", "/proc", "/sys"};
// Top-level directories the restricted view shows (read-only); every other one is hidden, so
// no home directory, mount point or socket outside them is reachable.
const char* const kVisibleTopLevel[] = {"bin",   "dev",  "etc",  "lib", "lib32", "lib64", "libx32",
                                        "opt",   "proc", "run",  "sbin", "sys",  "tmp",   "usr",
                                        "var"};
// Hidden below the visible ones: world-writable scratch space and runtime sockets.
const char* const kHiddenNested[] = {"/var/tmp", "/var/lib/docker", "/var/spool",
                                     "/var/mail", "/var/crash"};
constexpr int kDotEnvDepth = 4;

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

std::string ReadPrefix(const std::string& path, size_t size) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string buf(size, '\0');
  ssize_t n = pread(fd, buf.data(), size, 0);
  close(fd);
  buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return buf;
}

// PT_INTERP of a 64-bit ELF file, or "".
std::string ElfInterpreter(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string interp;
  Elf64_Ehdr eh;
  if (pread(fd, &eh, sizeof eh, 0) == static_cast<ssize_t>(sizeof eh) &&
      memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
      eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 256) {
    for (int i = 0; i < eh.e_phnum; ++i) {
      Elf64_Phdr ph;
      const off_t at = static_cast<off_t>(eh.e_phoff + i * sizeof ph);
      if (pread(fd, &ph, sizeof ph, at) != static_cast<ssize_t>(sizeof ph)) break;
      if (ph.p_type != PT_INTERP || ph.p_filesz == 0 || ph.p_filesz > 4096) continue;
      interp.resize(ph.p_filesz);
      if (pread(fd, interp.data(), ph.p_filesz, static_cast<off_t>(ph.p_offset)) !=
          static_cast<ssize_t>(ph.p_filesz)) {
        interp.clear();
      }
      interp = interp.c_str();  // drop the NUL
      break;
    }
  }
  close(fd);
  return interp;
}


}  // namespace

std::vector<std::string> HiddenDirectories() {
  std::vector<std::string> hidden;
  if (DIR* root = opendir("/")) {
    while (dirent* e = readdir(root)) {
      const std::string name = e->d_name;
      if (name == "." || name == ".." || e->d_type != DT_DIR) continue;  // links stay links
      bool visible = false;
      for (const char* v : kVisibleTopLevel) visible = visible || name == v;
      if (!visible) hidden.push_back("/" + name);
    }
    closedir(root);
  }
  for (const char* nested : kHiddenNested) {
    if (Exists(nested)) hidden.push_back(nested);
  }
  return hidden;
}

std::vector<std::string> InterpreterChain(const std::string& path) {
  std::vector<std::string> chain;
  std::string current = path;
  for (int hops = 0; hops < 4; ++hops) {
    std::string next;
    const std::string head = ReadPrefix(current, 256);
    if (head.rfind("#!", 0) == 0) {
      size_t start = head.find_first_not_of(" \t", 2);
      if (start == std::string::npos) break;
      size_t end = head.find_first_of(" \t\n", start);
      next = head.substr(start, end == std::string::npos ? std::string::npos : end - start);
    } else {
      next = ElfInterpreter(current);
    }
    if (next.empty()) break;
    const std::string canonical = CanonicalPath(next);
    if (canonical.empty()) break;
    AddUnique(&chain, canonical);
    current = canonical;
  }
  return chain;
}

std::vector<std::string> FindDotEnvFiles(const std::string& dir, int max_depth) {
  return FindBelow(dir, max_depth, [](const std::string& relative) {
    const std::string_view name = std::string_view(relative).substr(relative.rfind('/') + 1);
    return name == ".env" || name.starts_with(".env.");
  });
}

namespace {

bool UnderAny(const std::string& path, const char* const* dirs, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (IsUnder(path, dirs[i])) return true;
  }
  return false;
}

// The home directories "~" stands for: $HOME, and /root (the masks must cover both when
// sandtrace runs as root with another $HOME).
std::vector<std::string> HomeDirectories() {
  std::vector<std::string> homes;
  if (const char* home = getenv("HOME"); home && home[0] == '/') {
    AddUnique(&homes, CanonicalPath(home));
  }
  AddUnique(&homes, "/root");
  return homes;
}

// Makes `path` reachable in the restricted view when a hidden directory or a private tmpfs
// would cover it.
void KeepVisible(launcher::SandboxConfig* c, const std::string& path) {
  bool covered = UnderAny(path, kPrivateTmpfs, std::size(kPrivateTmpfs));
  for (const std::string& hidden : c->hidden_paths) covered = covered || IsUnder(path, hidden);
  for (const std::string& rw : c->writable_paths) covered = covered && !IsUnder(path, rw);
  if (covered && path != "/tmp" && path != "/run" && path != "/dev/shm") {
    AddUnique(&c->visible_paths, path);
  }
}

}  // namespace

std::string UnknownSyscall(std::string_view name) {
  Result<std::vector<int>> nr = launcher::ResolveSyscallNumbers({std::string(name)});
  if (nr) return {};
  return name.empty() ? "empty syscall name" : "no such syscall on x86-64";
}

void ApplyPolicyToOptions(const policy::Policy& policy, RunOptions* options) {
  if (!options->timeout_given && policy.limits.timeout) options->timeout_s = *policy.limits.timeout;
  if (policy.network.allow) options->allow_net = true;
}

Result<launcher::SandboxConfig> BuildSandboxConfig(const RunOptions& options,
                                                   const policy::Policy& policy,
                                                   const std::string& policy_source,
                                                   const std::string& executable) {
  launcher::SandboxConfig c;
  c.trace_only = options.trace_only;
  c.new_network = !(options.allow_net || policy.network.allow);
  c.allow_exec = options.allow_exec;
  std::vector<std::string> allowed;
  for (const std::string& p : options.allow_paths) {
    const std::string canonical = CanonicalPath(p);
    if (canonical.empty()) {
      return Error{errno, "--allow-path " + p};
    }
    AddUnique(&allowed, canonical);
  }
  const Policy::Filesystem& fs = policy.filesystem;
  Result<std::vector<int>> log_only = launcher::ResolveSyscallNumbers(policy.syscalls.log_only);
  if (!log_only) {
    return PlainError(policy_source + ": syscalls.log_only: " + log_only.error().message());
  }
  c.log_only.assign(log_only->begin(), log_only->end());
  if (!options.trace.empty()) {
    Result<std::vector<int>> selected = SelectSyscalls(options.trace);
    if (!selected) return selected.error();
    if (!selected->empty()) {
      Result<launcher::SeccompProgram> filter =
          launcher::CompileTraceFilter(TracedSyscalls(*selected, *log_only));
      if (!filter) return filter.error();
      c.trace_filter = filter->Serialize();
    }
  }
  if (c.trace_only) return c;

  const std::vector<std::string> homes = HomeDirectories();
  std::vector<std::string> read, write, exec;
  for (const std::string& p : fs.allow_read) {
    for (const std::string& path : ExpandPathPattern(p, homes, allowed)) AddUnique(&read, path);
  }
  for (const std::string& p : fs.allow_write) {
    for (const std::string& path : ExpandPathPattern(p, homes, allowed)) AddUnique(&write, path);
  }
  for (const std::string& p : fs.allow_exec) {
    for (const std::string& path : ExpandPathPattern(p, homes, allowed)) AddUnique(&exec, path);
  }
  for (const std::string& p : allowed) AddUnique(&write, p);
  // Where the policy's "**/" deny patterns (and the built-in .env masks) look.
  std::vector<std::string> search_roots = allowed;
  for (const std::string& p : write) {
    if (!UnderAny(p, kNoBind, std::size(kNoBind))) AddUnique(&search_roots, p);
  }

  c.hidden_paths = HiddenDirectories();
  // --allow-path directories are always bound (also under the host's /tmp); the policy's
  // write paths only where the view does not already provide a private writable copy.
  c.writable_paths = allowed;
  for (const std::string& p : write) {
    if (!UnderAny(p, kNoBind, std::size(kNoBind))) AddUnique(&c.writable_paths, p);
  }
  for (const std::string& p : fs.deny) {
    for (const std::string& path : ExpandPathPattern(p, homes, search_roots)) {
      AddUnique(&c.masked_paths, path);
    }
  }
  for (const std::string& dir : search_roots) {
    for (const std::string& env : FindDotEnvFiles(dir, kDotEnvDepth)) {
      AddUnique(&c.masked_paths, CanonicalPath(env));
    }
  }

  for (const std::string& p : read) {
    AddUnique(&c.landlock_read, p);
    AddUnique(&c.landlock_optional, p);
    KeepVisible(&c, p);
  }
  for (const std::string& p : write) {
    AddUnique(&c.landlock_read_write, p);
    AddUnique(&c.landlock_optional, p);
  }
  // The command's own executable and its interpreters stay executable (and are made visible in
  // the restricted view even where their directory is not).
  const std::string exe = CanonicalPath(executable);
  if (!exe.empty()) {
    std::vector<std::string> needed{exe};
    for (const std::string& interp : InterpreterChain(exe)) AddUnique(&needed, interp);
    for (const std::string& path : needed) {
      AddUnique(&c.landlock_exec, path);
      KeepVisible(&c, path);
    }
  }
  for (const std::string& p : exec) {
    AddUnique(&c.landlock_exec, p);
    AddUnique(&c.landlock_optional, p);
    KeepVisible(&c, p);
  }
  c.exec_allowlist = !exec.empty();
  if (c.allow_exec) {
    for (const char* p : kSystemExec) {
      AddUnique(&c.landlock_exec, p);
      AddUnique(&c.landlock_optional, p);
    }
    for (const std::string& p : allowed) AddUnique(&c.landlock_exec, p);
  }

  if (policy.limits.max_processes) c.max_processes = static_cast<uint32_t>(*policy.limits.max_processes);
  c.max_file_size = policy.limits.max_file_size.value_or(0);
  c.memory = policy.limits.memory.value_or(0);

  launcher::SeccompConfig seccomp;
  seccomp.deny = policy.syscalls.deny;
  // Under --trace the denials go through the tracer, so they still stop it and are recorded.
  seccomp.deny_through_tracer = !c.trace_filter.empty();
  Result<launcher::SeccompProgram> program = launcher::CompileSeccompFilter(seccomp);
  if (!program) {
    return PlainError(policy_source + ": syscalls.deny: " + program.error().message());
  }
  c.seccomp_program = program->Serialize();
  return c;
}

}  // namespace sandtrace::cli
