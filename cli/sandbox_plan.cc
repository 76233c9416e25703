#include "cli/sandbox_plan.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "launcher/seccomp_filter.h"

namespace sandtrace::cli {
namespace {

// Built-in default policy (SPEC section 6 will make it a TOML file).
const char* const kSystemRead[] = {"/usr", "/bin",  "/sbin", "/lib", "/lib32", "/lib64",
                                   "/libx32", "/etc", "/opt", "/proc", "/sys",
                                   "/dev", "/dev/random", "/dev/urandom"};
const char* const kSystemExec[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
                                   "/libx32", "/opt"};
const char* const kSystemReadWrite[] = {"/tmp",      "/dev/shm", "/dev/null", "/dev/zero",
                                        "/dev/full", "/dev/tty", "/dev/pts",  "/dev/ptmx"};
const char* const kDenyAbsolute[] = {"/etc/shadow", "/etc/gshadow", "/etc/sudoers",
                                     "/etc/sudoers.d", "/etc/ssh", "/etc/security/opasswd"};
const char* const kDenyInHome[] = {".ssh",     ".aws",   ".gnupg",   ".config/gcloud",
                                   ".docker",  ".kube",  ".netrc",   ".npmrc",
                                   ".pypirc",  ".git-credentials", ".bash_history", ".env"};
// Directories the restricted view replaces with a private tmpfs (launcher/mount_view.h).
const char* const kPrivateTmpfs[] = {"/tmp", "/run", "/dev/shm"};
// Top-level directories the restricted view shows (read-only); every other one is hidden, so
// no home directory, mount point or socket outside them is reachable.
const char* const kVisibleTopLevel[] = {"bin",   "dev",  "etc",  "lib", "lib32", "lib64", "libx32",
                                        "opt",   "proc", "run",  "sbin", "sys",  "tmp",   "usr",
                                        "var"};
// Hidden below the visible ones: world-writable scratch space and runtime sockets.
const char* const kHiddenNested[] = {"/var/tmp", "/var/lib/docker", "/var/spool",
                                     "/var/mail", "/var/crash"};
constexpr int kDotEnvDepth = 4;
constexpr size_t kDotEnvMaxEntries = 20000;

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

std::string Canonical(const std::string& path) {
  char* real = realpath(path.c_str(), nullptr);
  if (!real) return {};
  std::string out = real;
  free(real);
  return out;
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

void AddUnique(std::vector<std::string>* list, const std::string& item) {
  if (item.empty()) return;
  for (const std::string& s : *list) {
    if (s == item) return;
  }
  list->push_back(item);
}

void WalkForDotEnv(const std::string& dir, int depth, std::vector<std::string>* found,
                   size_t* budget) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = readdir(d)) {
    if (*budget == 0) break;
    --*budget;
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    if (name == ".env" || name.rfind(".env.", 0) == 0) {
      found->push_back(path);
    } else if (e->d_type == DT_DIR && depth > 0 && name != ".git" && name != "node_modules") {
      WalkForDotEnv(path, depth - 1, found, budget);
    }
  }
  closedir(d);
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
    const std::string canonical = Canonical(next);
    if (canonical.empty()) break;
    AddUnique(&chain, canonical);
    current = canonical;
  }
  return chain;
}

std::vector<std::string> FindDotEnvFiles(const std::string& dir, int max_depth) {
  std::vector<std::string> found;
  size_t budget = kDotEnvMaxEntries;
  WalkForDotEnv(dir, max_depth, &found, &budget);
  return found;
}

Result<launcher::SandboxConfig> BuildSandboxConfig(const RunOptions& options,
                                                   const std::string& executable) {
  launcher::SandboxConfig c;
  c.trace_only = options.trace_only;
  c.new_network = !options.allow_net;
  c.allow_exec = options.allow_exec;
  std::vector<std::string> allowed;
  for (const std::string& p : options.allow_paths) {
    const std::string canonical = Canonical(p);
    if (canonical.empty()) {
      return Error{errno, "--allow-path " + p};
    }
    AddUnique(&allowed, canonical);
  }
  if (c.trace_only) return c;

  c.writable_paths = allowed;
  c.hidden_paths = HiddenDirectories();
  for (const char* p : kDenyAbsolute) {
    if (Exists(p)) AddUnique(&c.masked_paths, p);
  }
  std::vector<std::string> homes;
  if (const char* home = getenv("HOME"); home && home[0] == '/') AddUnique(&homes, Canonical(home));
  AddUnique(&homes, "/root");
  for (const std::string& home : homes) {
    for (const char* rel : kDenyInHome) {
      const std::string path = home + "/" + rel;
      if (Exists(path)) AddUnique(&c.masked_paths, path);
    }
  }
  for (const std::string& dir : allowed) {
    for (const std::string& env : FindDotEnvFiles(dir, kDotEnvDepth)) {
      AddUnique(&c.masked_paths, env);
    }
  }

  for (const char* p : kSystemRead) {
    AddUnique(&c.landlock_read, p);
    AddUnique(&c.landlock_optional, p);
  }
  for (const char* p : kSystemReadWrite) {
    AddUnique(&c.landlock_read_write, p);
    AddUnique(&c.landlock_optional, p);
  }
  for (const std::string& p : allowed) AddUnique(&c.landlock_read_write, p);
  // The command's own executable and its interpreters stay executable (and are made visible in
  // the restricted view even where their directory is not).
  const std::string exe = Canonical(executable);
  if (!exe.empty()) {
    std::vector<std::string> needed{exe};
    for (const std::string& interp : InterpreterChain(exe)) AddUnique(&needed, interp);
    for (const std::string& path : needed) {
      AddUnique(&c.landlock_exec, path);
      for (const char* hidden : kPrivateTmpfs) {
        if (path.rfind(std::string(hidden) + "/", 0) == 0) AddUnique(&c.visible_paths, path);
      }
      for (const std::string& hidden : c.hidden_paths) {
        if (path.rfind(hidden + "/", 0) == 0) AddUnique(&c.visible_paths, path);
      }
    }
  }
  if (c.allow_exec) {
    for (const char* p : kSystemExec) {
      AddUnique(&c.landlock_exec, p);
      AddUnique(&c.landlock_optional, p);
    }
    for (const std::string& p : allowed) AddUnique(&c.landlock_exec, p);
  }

  Result<launcher::SeccompProgram> program = launcher::CompileSeccompFilter({});
  if (!program) return program.error();
  c.seccomp_program = program->Serialize();
  return c;
}

}  // namespace sandtrace::cli
