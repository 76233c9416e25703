#include "common/analysis_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <msgpack.hpp>
#include <new>
#include <sstream>

#include "common/glob.h"

namespace sandtrace {
namespace {

using Strings = std::vector<std::string>;

RuleSpec File(std::string id, std::string severity, std::string message, Strings paths,
              std::string access = "any") {
  RuleSpec rule;
  rule.id = std::move(id);
  rule.kind = "file";
  rule.severity = std::move(severity);
  rule.message = std::move(message);
  rule.paths = std::move(paths);
  rule.access = std::move(access);
  return rule;
}

RuleSpec Other(std::string id, std::string kind, std::string severity, std::string message) {
  RuleSpec rule;
  rule.id = std::move(id);
  rule.kind = std::move(kind);
  rule.severity = std::move(severity);
  rule.message = std::move(message);
  return rule;
}

const Strings& ShellStartupFiles() {
  static const Strings files = {
      "~/.bashrc",  "~/.bash_profile", "~/.bash_login", "~/.bash_logout",
      "~/.profile", "~/.zshrc",        "~/.zprofile",   "~/.zshenv",
      "~/.zlogin",  "~/.config/fish/config.fish"};
  return files;
}

bool OneOf(std::string_view value, const auto& candidates) {
  return std::find(std::begin(candidates), std::end(candidates), value) != std::end(candidates);
}

bool IsName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// --- MessagePack ---------------------------------------------------------------------------

using Packer = msgpack::packer<msgpack::sbuffer>;

void PackStr(Packer& p, std::string_view s) {
  p.pack_str(static_cast<uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void PackStrings(Packer& p, const Strings& list) {
  p.pack_array(static_cast<uint32_t>(list.size()));
  for (const std::string& s : list) PackStr(p, s);
}

// Walks a decoded object; the first problem is kept as a "KEY: what" text.
class Reader {
 public:
  // The value of every key of `map` in `keys`, in that order; all required, no others.
  bool Fields(const msgpack::object& map, const std::string& where,
              std::initializer_list<std::string_view> keys,
              std::vector<const msgpack::object*>* out) {
    if (map.type != msgpack::type::MAP) return Fail(where, "expected a map");
    out->assign(keys.size(), nullptr);
    for (uint32_t i = 0; i < map.via.map.size; ++i) {
      const msgpack::object_kv& kv = map.via.map.ptr[i];
      if (kv.key.type != msgpack::type::STR) return Fail(where, "a key is not a string");
      const std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
      const auto found = std::find(keys.begin(), keys.end(), key);
      if (found == keys.end()) return Fail(Key(where, key), "unknown key");
      const msgpack::object*& slot = (*out)[static_cast<size_t>(found - keys.begin())];
      if (slot != nullptr) return Fail(Key(where, key), "duplicate key");
      slot = &kv.val;
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      if ((*out)[i] == nullptr) return Fail(Key(where, *(keys.begin() + i)), "missing");
    }
    return true;
  }

  bool Str(const msgpack::object& o, const std::string& where, std::string* out) {
    if (o.type != msgpack::type::STR) return Fail(where, "expected a string");
    out->assign(o.via.str.ptr, o.via.str.size);
    return true;
  }

  bool StrList(const msgpack::object& o, const std::string& where, Strings* out) {
    if (o.type != msgpack::type::ARRAY) return Fail(where, "expected an array of strings");
    out->resize(o.via.array.size);
    for (uint32_t i = 0; i < o.via.array.size; ++i) {
      if (!Str(o.via.array.ptr[i], where + "[" + std::to_string(i) + "]", &(*out)[i])) {
        return false;
      }
    }
    return true;
  }

  bool Fail(const std::string& where, const std::string& what) {
    if (error_.empty()) error_ = (where.empty() ? "top level" : where) + ": " + what;
    return false;
  }

  const std::string& error() const { return error_; }

  static std::string Key(const std::string& where, std::string_view key) {
    return where.empty() ? std::string(key) : where + "." + std::string(key);
  }

 private:
  std::string error_;
};

bool ReadRule(Reader& r, const msgpack::object& o, const std::string& where, RuleSpec* rule) {
  std::vector<const msgpack::object*> f;
  if (!r.Fields(o, where, {"id", "kind", "severity", "message", "access", "paths", "syscalls"},
                &f)) {
    return false;
  }
  if (!r.Str(*f[0], where + ".id", &rule->id) || !r.Str(*f[1], where + ".kind", &rule->kind) ||
      !r.Str(*f[2], where + ".severity", &rule->severity) ||
      !r.Str(*f[3], where + ".message", &rule->message) ||
      !r.Str(*f[4], where + ".access", &rule->access) ||
      !r.StrList(*f[5], where + ".paths", &rule->paths) ||
      !r.StrList(*f[6], where + ".syscalls", &rule->syscalls)) {
    return false;
  }
  if (std::string problem = RuleSpecError(*rule); !problem.empty()) {
    return r.Fail(where + "." + problem.substr(0, problem.find(':')),
                  problem.substr(problem.find(':') + 2));
  }
  return true;
}

bool ReadGlobs(Reader& r, const msgpack::object& o, const std::string& where, Strings* out) {
  if (!r.StrList(o, where, out)) return false;
  for (size_t i = 0; i < out->size(); ++i) {
    if (std::string problem = GlobSyntaxError((*out)[i]); !problem.empty()) {
      return r.Fail(where + "[" + std::to_string(i) + "]", "\"" + (*out)[i] + "\": " + problem);
    }
  }
  return true;
}

bool ReadConfig(Reader& r, const msgpack::object& root, AnalysisConfig* config) {
  std::vector<const msgpack::object*> f;
  if (!r.Fields(root, "", {"version", "policy", "cwd", "allow_exec", "write_allowed", "rules"},
                &f)) {
    return false;
  }
  const msgpack::object& version = *f[0];
  if (version.type != msgpack::type::POSITIVE_INTEGER ||
      version.via.u64 != static_cast<uint64_t>(kAnalysisConfigVersion)) {
    return r.Fail("version", "expected " + std::to_string(kAnalysisConfigVersion));
  }
  if (!r.Str(*f[1], "policy", &config->policy) || !r.Str(*f[2], "cwd", &config->cwd) ||
      !ReadGlobs(r, *f[3], "allow_exec", &config->allow_exec) ||
      !ReadGlobs(r, *f[4], "write_allowed", &config->write_allowed)) {
    return false;
  }
  const msgpack::object& rules = *f[5];
  if (rules.type != msgpack::type::ARRAY) return r.Fail("rules", "expected an array of maps");
  config->rules.resize(rules.via.array.size);
  for (uint32_t i = 0; i < rules.via.array.size; ++i) {
    if (!ReadRule(r, rules.via.array.ptr[i], "rules[" + std::to_string(i) + "]",
                  &config->rules[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<RuleSpec> DefaultRules() {
  std::vector<RuleSpec> rules = {
      File("ssh_key", "high", "SSH private key",
           {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"}),
      File("ssh_directory", "high", "SSH directory", {"**/.ssh"}),
      File("ssh_host_key", "critical", "SSH host key", {"/etc/ssh/ssh_host_*_key"}),
      File("shadow_file", "critical", "password hashes",
           {"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-"}),
      File("sudoers", "high", "sudo configuration", {"/etc/sudoers", "/etc/sudoers.d"}),
      File("dotenv", "high", ".env file", {".env"}),
      File("dotenv_variant", "medium", ".env.* file", {".env.*"}),
      File("cloud_credentials", "high", "cloud credentials",
           {"~/.aws", "~/.config/gcloud", "~/.azure", "~/.docker/config.json", "~/.kube/config",
            "**/.aws/credentials"}),
      File("credential_file", "high", "credential file",
           {".netrc", ".npmrc", ".pypirc", ".git-credentials", ".pgpass"}),
      File("gnupg", "high", "GnuPG keyring", {"~/.gnupg"}),
      File("shell_rc_write", "high", "write to a shell start-up file",
           [] {
             Strings paths = ShellStartupFiles();
             paths.insert(paths.end(), {"/etc/profile", "/etc/profile.d", "/etc/bash.bashrc",
                                        "/etc/zsh"});
             return paths;
           }(),
           "write"),
      File("shell_rc_read", "low", "read of a shell start-up file", ShellStartupFiles(), "read"),
      Other("network_attempt", "network", "medium", "network access"),
      Other("unexpected_exec", "exec", "high", "program executed outside allow_exec"),
      Other("write_outside_project", "write_outside", "medium",
            "write outside the allowed paths"),
      Other("denied_syscall", "denied", "medium", "syscall denied by the sandbox"),
  };
  return rules;
}

std::vector<std::string> AlwaysWritable() {
  return {"/dev/null",   "/dev/stdout",   "/dev/stderr",
          "/dev/fd",     "/proc/self/fd", "/proc/thread-self/fd"};
}

AnalysisConfig DefaultAnalysisConfig() {
  AnalysisConfig config;
  config.policy = "default";
  for (RuleSpec rule : DefaultRules()) {
    Strings paths;
    for (const std::string& path : rule.paths) {
      std::string expanded = ExpandHome(path, "");
      if (!expanded.empty() && !OneOf(expanded, paths)) paths.push_back(std::move(expanded));
    }
    rule.paths = std::move(paths);
    config.rules.push_back(std::move(rule));
  }
  // The built-in policy's allow_write (policy::DefaultPolicy, checked by a policy test).
  config.write_allowed = {"/tmp",      "/dev/shm", "/dev/null", "/dev/zero",
                          "/dev/full", "/dev/tty", "/dev/pts",  "/dev/ptmx"};
  for (std::string& path : AlwaysWritable()) {
    if (!OneOf(path, config.write_allowed)) config.write_allowed.push_back(std::move(path));
  }
  return config;
}

std::string RuleSpecError(const RuleSpec& rule) {
  if (!IsName(rule.id)) return "id: \"" + rule.id + "\" is not a rule id (expected [a-z0-9_]+)";
  if (!OneOf(rule.kind, kRuleKinds)) {
    return "kind: \"" + rule.kind +
           "\" is not a kind (expected file, network, exec, write_outside, denied or syscall)";
  }
  if (!OneOf(rule.severity, kSeverities)) {
    return "severity: \"" + rule.severity +
           "\" is not a severity (expected low, medium, high or critical)";
  }
  if (!OneOf(rule.access, kAccesses)) {
    return "access: \"" + rule.access + "\" is not an access (expected read, write or any)";
  }
  const bool file = rule.kind == "file";
  const bool syscall = rule.kind == "syscall";
  if (file && rule.paths.empty()) return "paths: required for kind \"file\"";
  if (!file && !rule.paths.empty()) return "paths: only for kind \"file\"";
  if (!file && rule.access != "any") return "access: only for kind \"file\"";
  if (syscall && rule.syscalls.empty()) return "syscalls: required for kind \"syscall\"";
  if (!syscall && !rule.syscalls.empty()) return "syscalls: only for kind \"syscall\"";
  for (const std::string& path : rule.paths) {
    if (std::string problem = GlobSyntaxError(path); !problem.empty()) {
      return "paths: \"" + path + "\": " + problem;
    }
  }
  for (const std::string& name : rule.syscalls) {
    if (!IsName(name)) return "syscalls: \"" + name + "\" is not a syscall name (expected [a-z0-9_]+)";
  }
  return {};
}

std::string EncodeAnalysisConfig(const AnalysisConfig& config) {
  msgpack::sbuffer buffer;
  Packer p(buffer);
  p.pack_map(6);
  PackStr(p, "version");
  p.pack_int(kAnalysisConfigVersion);
  PackStr(p, "policy");
  PackStr(p, config.policy);
  PackStr(p, "cwd");
  PackStr(p, config.cwd);
  PackStr(p, "allow_exec");
  PackStrings(p, config.allow_exec);
  PackStr(p, "write_allowed");
  PackStrings(p, config.write_allowed);
  PackStr(p, "rules");
  p.pack_array(static_cast<uint32_t>(config.rules.size()));
  for (const RuleSpec& rule : config.rules) {
    p.pack_map(7);
    PackStr(p, "id");
    PackStr(p, rule.id);
    PackStr(p, "kind");
    PackStr(p, rule.kind);
    PackStr(p, "severity");
    PackStr(p, rule.severity);
    PackStr(p, "message");
    PackStr(p, rule.message);
    PackStr(p, "access");
    PackStr(p, rule.access);
    PackStr(p, "paths");
    PackStrings(p, rule.paths);
    PackStr(p, "syscalls");
    PackStrings(p, rule.syscalls);
  }
  return std::string(buffer.data(), buffer.size());
}

Result<AnalysisConfig> DecodeAnalysisConfig(const std::string& bytes) {
  if (bytes.empty()) return PlainError("analysis config: empty");
  // Containers and strings are bounded by the input's size: a short header cannot make
  // msgpack allocate gigabytes.
  const size_t n = bytes.size();
  const msgpack::unpack_limit limit(n, n / 2, n, n, n, 16);
  AnalysisConfig config;
  try {
    size_t offset = 0;
    msgpack::object_handle handle =
        msgpack::unpack(bytes.data(), n, offset, nullptr, nullptr, limit);
    if (offset != n) return PlainError("analysis config: trailing bytes after the object");
    Reader reader;
    if (!ReadConfig(reader, handle.get(), &config)) {
      return PlainError("analysis config: " + reader.error());
    }
  } catch (const msgpack::unpack_error& e) {
    return PlainError(std::string("analysis config: malformed MessagePack: ") + e.what());
  } catch (const msgpack::type_error& e) {
    return PlainError(std::string("analysis config: malformed MessagePack: ") + e.what());
  } catch (const std::bad_alloc&) {
    return PlainError("analysis config: out of memory while decoding");
  } catch (const std::exception& e) {
    return PlainError(std::string("analysis config: ") + e.what());
  }
  return config;
}

Result<AnalysisConfig> LoadAnalysisConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoError("open(" + path + ")");
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return ErrnoError("read(" + path + ")");
  Result<AnalysisConfig> config = DecodeAnalysisConfig(contents.str());
  if (!config) return PlainError(path + ": " + config.error().message());
  return config;
}

Status SaveAnalysisConfig(const AnalysisConfig& config, const std::string& path) {
  const std::string bytes = EncodeAnalysisConfig(config);
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("open(" + path + ")");
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;  // interrupted before writing: write again
    if (n < 0) {
      Error error = ErrnoError("write(" + path + ")");
      close(fd);
      return error;
    }
    written += static_cast<size_t>(n);
  }
  if (fchmod(fd, 0600) != 0) {  // O_CREAT's mode does not apply to an existing file
    Error error = ErrnoError("fchmod(" + path + ")");
    close(fd);
    return error;
  }
  if (close(fd) != 0) return ErrnoError("close(" + path + ")");
  return {};
}

}  // namespace sandtrace
