#include "policy/policy.h"

// toml++ 3.3.0 fails an internal assertion on malformed table headers such as "[\n" or "[[[",
// where its NDEBUG build goes on to report an ordinary parse error (fixed upstream,
// marzer/tomlplusplus#301). Its debug assertions stay off in every build type, so such a file is
// an Error here too, never an abort. Found by tests/fuzz/policy_fuzzer.cc.
#define TOML_ASSERT(expr) static_assert(true)
#include <toml++/toml.h>

#include <algorithm>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <fstream>
#include <span>
#include <sstream>

#include "common/analysis_config.h"
#include "common/glob.h"
#include "policy/rules.h"

namespace sandtrace::policy {
namespace {

using StringList = std::vector<std::string>;

// "FILE:LINE:COLUMN: KEY: what" for a node or key region of the parsed document.
Error At(const toml::source_region& where, const std::string& source_name, const std::string& key,
         const std::string& what) {
  std::string path = where.path ? std::string(*where.path) : source_name;
  return PlainError(path + ":" + std::to_string(where.begin.line) + ":" +
                    std::to_string(where.begin.column) + ": " + key + ": " + what);
}

std::string TypeName(const toml::node& node) {
  std::ostringstream out;
  out << node.type();
  return out.str();
}

// Walks one parsed document; the first error found is kept and reported.
class Reader {
 public:
  Reader(std::string source_name, SyscallNameCheck known_syscall)
      : source_name_(std::move(source_name)), known_syscall_(std::move(known_syscall)) {}

  Status Read(const toml::table& root, Policy* policy) {
    for (auto&& [key, node] : root) {
      const std::string name(key.str());
      if (name == "rules") {
        Status status = ReadRules(node, &policy->rules);
        if (!status) return status;
        continue;
      }
      const toml::table* section = node.as_table();
      if (name != "filesystem" && name != "network" && name != "syscalls" && name != "limits") {
        return At(key.source(), source_name_, name,
                  "unknown section (expected filesystem, network, syscalls, limits or rules)");
      }
      if (!section) {
        return At(node.source(), source_name_, name, "expected a table, found " + TypeName(node));
      }
      Status status = name == "filesystem" ? ReadFilesystem(*section, &policy->filesystem)
                      : name == "network"  ? ReadNetwork(*section, &policy->network)
                      : name == "syscalls" ? ReadSyscalls(*section, &policy->syscalls)
                                           : ReadLimits(*section, &policy->limits);
      if (!status) return status;
    }
    return {};
  }

 private:
  Status ReadFilesystem(const toml::table& table, Policy::Filesystem* fs) {
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      StringList* list = name == "allow_read"    ? &fs->allow_read
                         : name == "allow_write" ? &fs->allow_write
                         : name == "allow_exec"  ? &fs->allow_exec
                         : name == "deny"        ? &fs->deny
                                                 : nullptr;
      if (!list) return Unknown(key, "filesystem", "allow_read, allow_write, allow_exec or deny");
      Status status = ReadStrings(node, "filesystem." + name, CheckPathPattern, list);
      if (!status) return status;
    }
    return {};
  }

  Status ReadNetwork(const toml::table& table, Policy::Network* network) {
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      if (name != "allow") return Unknown(key, "network", "allow");
      const auto* value = node.as_boolean();
      if (!value) return WrongType(node, "network.allow", "a boolean");
      network->allow = value->get();
    }
    return {};
  }

  Status ReadSyscalls(const toml::table& table, Policy::Syscalls* syscalls) {
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      StringList* list = name == "deny"       ? &syscalls->deny
                         : name == "log_only" ? &syscalls->log_only
                                              : nullptr;
      if (!list) return Unknown(key, "syscalls", "deny or log_only");
      Status status = ReadStrings(node, "syscalls." + name, SyscallCheck(), list);
      if (!status) return status;
    }
    return {};
  }

  Status ReadLimits(const toml::table& table, Policy::Limits* limits) {
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      const std::string full = "limits." + name;
      Status status;
      if (name == "timeout") {
        status = ReadInt(node, full, 0, &limits->timeout);
      } else if (name == "max_processes") {
        status = ReadInt(node, full, 1, &limits->max_processes);
      } else if (name == "max_file_size") {
        status = ReadSize(node, full, 0, &limits->max_file_size);
      } else if (name == "memory") {
        status = ReadSize(node, full, 1, &limits->memory);
      } else {
        return Unknown(key, "limits", "timeout, max_processes, max_file_size or memory");
      }
      if (!status) return status;
    }
    return {};
  }

  // [[rules]]: an array of tables, each a PolicyRule.
  Status ReadRules(const toml::node& node, std::vector<PolicyRule>* rules) {
    const toml::array* array = node.as_array();
    if (!array || (!array->empty() && !array->is_array_of_tables())) {
      return WrongType(node, "rules", "an array of tables ([[rules]])");
    }
    const std::vector<RuleSpec> defaults = DefaultRules();
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::table& table = *array->get(i)->as_table();
      const std::string where = "rules[" + std::to_string(i) + "]";
      PolicyRule rule;
      Status status = ReadRule(table, where, &rule);
      if (!status) return status;
      for (const PolicyRule& earlier : *rules) {
        if (earlier.id == rule.id) {
          return At(table["id"].node()->source(), source_name_, where + ".id",
                    "\"" + rule.id + "\" is defined twice");
        }
      }
      RuleSpec merged;
      for (const RuleSpec& built_in : defaults) {
        if (built_in.id == rule.id) merged = built_in;
      }
      if (std::string problem = MergeRule(rule, &merged); rule.enabled && !problem.empty()) {
        // "KEY: what": point at KEY when the table has it, else at the table.
        const std::string key = problem.substr(0, problem.find(':'));
        const toml::node* culprit = table.get(key);
        return At(culprit ? culprit->source() : table.source(), source_name_, where + "." + key,
                  problem.substr(key.size() + 2));
      }
      rules->push_back(std::move(rule));
    }
    return {};
  }

  Status ReadRule(const toml::table& table, const std::string& where, PolicyRule* rule) {
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      const std::string full = where + "." + name;
      Status status;
      if (name == "id") {
        std::optional<std::string> id;
        status = ReadWord(node, full, CheckRuleId, &id);
        if (id) rule->id = *id;
      } else if (name == "kind") {
        status = ReadWord(node, full, CheckKind, &rule->kind);
      } else if (name == "severity") {
        status = ReadWord(node, full, CheckSeverity, &rule->severity);
      } else if (name == "access") {
        status = ReadWord(node, full, CheckAccess, &rule->access);
      } else if (name == "message") {
        status = ReadWord(node, full, nullptr, &rule->message);
      } else if (name == "paths") {
        status = ReadStrings(node, full, CheckGlob, &rule->paths.emplace());
      } else if (name == "syscalls") {
        status = ReadStrings(node, full, SyscallCheck(), &rule->syscalls.emplace());
      } else if (name == "enabled") {
        const auto* value = node.as_boolean();
        if (!value) return WrongType(node, full, "a boolean");
        rule->enabled = value->get();
      } else {
        return At(key.source(), source_name_, full,
                  "unknown key (expected id, kind, severity, message, paths, access, syscalls or "
                  "enabled)");
      }
      if (!status) return status;
    }
    if (rule->id.empty()) return At(table.source(), source_name_, where + ".id", "missing");
    return {};
  }

  // A string, checked by `check` when given.
  Status ReadWord(const toml::node& node, const std::string& key,
                  std::string (*check)(std::string_view), std::optional<std::string>* out) {
    const auto* value = node.as_string();
    if (!value) return WrongType(node, key, "a string");
    const std::string& text = value->get();
    if (check != nullptr) {
      if (std::string problem = check(text); !problem.empty()) {
        return At(node.source(), source_name_, key, "\"" + text + "\": " + problem);
      }
    }
    *out = text;
    return {};
  }

  static std::string OneOf(std::string_view value, std::span<const std::string_view> known,
                           const char* expected) {
    if (std::find(known.begin(), known.end(), value) != known.end()) return {};
    return std::string("expected ") + expected;
  }
  static std::string CheckKind(std::string_view v) {
    return OneOf(v, kRuleKinds, "file, network, exec, write_outside, denied or syscall");
  }
  static std::string CheckSeverity(std::string_view v) {
    return OneOf(v, kSeverities, "low, medium, high or critical");
  }
  static std::string CheckAccess(std::string_view v) {
    return OneOf(v, kAccesses, "read, write or any");
  }
  static std::string CheckRuleId(std::string_view id) {
    return CheckSyscallName(id).empty() ? std::string() : "not a rule id (expected [a-z0-9_]+)";
  }

  static std::string CheckSyscallName(std::string_view name) {
    if (name.empty()) return "empty syscall name";
    for (char c : name) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
        return "not a syscall name (expected [a-z0-9_]+)";
      }
    }
    return {};
  }

  // A filesystem pattern: a glob anchored at the root, the home directory or any depth.
  static std::string CheckPathPattern(std::string_view p) {
    if (std::string problem = CheckGlob(p); !problem.empty()) return problem;
    if (p.starts_with("/") || p == "~" || p.starts_with("~/") || p.starts_with("**/")) return {};
    return "a path pattern must start with /, ~/ or **/";
  }

  // The shape of a name, then (when the caller gave one) whether the kernel knows it.
  SyscallNameCheck SyscallCheck() const {
    return [this](std::string_view name) {
      std::string problem = CheckSyscallName(name);
      if (problem.empty() && known_syscall_) problem = known_syscall_(name);
      return problem;
    };
  }

  Status ReadStrings(const toml::node& node, const std::string& key,
                     const SyscallNameCheck& check, StringList* out) {
    const toml::array* array = node.as_array();
    if (!array) return WrongType(node, key, "an array of strings");
    out->clear();
    for (const toml::node& element : *array) {
      const auto* value = element.as_string();
      if (!value) return WrongType(element, key, "an array of strings");
      const std::string& text = value->get();
      if (std::string problem = check(text); !problem.empty()) {
        return At(element.source(), source_name_, key, "\"" + text + "\": " + problem);
      }
      out->push_back(text);
    }
    return {};
  }

  Status ReadInt(const toml::node& node, const std::string& key, int minimum,
                 std::optional<int>* out) {
    const auto* value = node.as_integer();
    if (!value) return WrongType(node, key, "an integer");
    const int64_t v = value->get();
    if (v < minimum || v > INT_MAX) {
      return At(node.source(), source_name_, key,
                std::to_string(v) + " is out of range (" + std::to_string(minimum) + ".." +
                    std::to_string(INT_MAX) + ")");
    }
    *out = static_cast<int>(v);
    return {};
  }

  Status ReadSize(const toml::node& node, const std::string& key, uint64_t minimum,
                  std::optional<uint64_t>* out) {
    uint64_t bytes = 0;
    if (const auto* integer = node.as_integer()) {
      if (integer->get() < 0) {
        return At(node.source(), source_name_, key, "a size cannot be negative");
      }
      bytes = static_cast<uint64_t>(integer->get());
    } else if (const auto* text = node.as_string()) {
      std::optional<uint64_t> parsed = ParseByteSize(text->get());
      if (!parsed) {
        return At(node.source(), source_name_, key,
                  "\"" + text->get() + "\" is not a size (bytes, or a number with K, M, G or T)");
      }
      bytes = *parsed;
    } else {
      return WrongType(node, key, "an integer or a size string such as \"512M\"");
    }
    if (bytes < minimum) {
      return At(node.source(), source_name_, key,
                "must be at least " + std::to_string(minimum) + " byte");
    }
    *out = bytes;
    return {};
  }

  Error Unknown(const toml::key& key, const std::string& section, const std::string& known) {
    return At(key.source(), source_name_, section + "." + std::string(key.str()),
              "unknown key (expected " + known + ")");
  }

  Error WrongType(const toml::node& node, const std::string& key, const std::string& expected) {
    return At(node.source(), source_name_, key,
              "expected " + expected + ", found " + TypeName(node));
  }

  std::string source_name_;
  SyscallNameCheck known_syscall_;
};

// toml++ descriptions may quote the offending text, newline included; errors stay one line.
std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r' || c == '\t') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// toml++ 3.3.0 reaches __builtin_unreachable() (undefined behaviour) when it asks whether some
// non-ASCII characters are whitespace, e.g. in "timeout = 1 é" (marzer/tomlplusplus#190, #295).
// On valid TOML it asks only in multi-line basic strings, after a backslash; elsewhere non-ASCII
// characters may appear only in strings and comments. Returns "LINE:COLUMN: what" for the first
// non-ASCII character outside a string or comment or after such a backslash, else "". Text this
// accepts can still be invalid TOML in ways that fool its string tracking; AsciiStandIn covers it.
std::string FindUnsafeNonAscii(std::string_view text) {
  const auto high = [&](size_t i) {
    return i < text.size() && static_cast<unsigned char>(text[i]) >= 0x80;
  };
  const auto blank = [&](size_t i, bool newlines) {
    return i < text.size() && (text[i] == ' ' || text[i] == '\t' ||
                               (newlines && (text[i] == '\r' || text[i] == '\n')));
  };
  const auto quotes = [&](size_t i, char quote) {
    size_t n = 0;
    while (i + n < text.size() && text[i + n] == quote) ++n;
    return n;
  };
  const auto at = [&](size_t offset, const char* what) {
    const size_t line_start = offset == 0 ? 0 : text.rfind('\n', offset - 1) + 1;
    size_t column = 1;
    for (size_t i = line_start; i < offset; ++i) column += (text[i] & 0xC0) != 0x80;
    const auto line = 1 + std::count(text.begin(), text.begin() + offset, '\n');
    return std::to_string(line) + ":" + std::to_string(column) + ": " + what;
  };
  enum class In { kCode, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral } in = In::kCode;
  for (size_t i = text.starts_with("\xEF\xBB\xBF") ? 3 : 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (in) {
      case In::kCode:
        if (high(i)) return at(i, "non-ASCII character outside a string or comment");
        if (c == '#') in = In::kComment;
        if (c == '"' || c == '\'') {
          const bool multi = quotes(i, c) >= 3;
          if (multi) i += 2;
          in = c == '"' ? (multi ? In::kMultiBasic : In::kBasic)
                        : (multi ? In::kMultiLiteral : In::kLiteral);
        }
        break;
      case In::kComment:
        if (c == '\n') in = In::kCode;
        break;
      case In::kBasic:
        if (c == '\\') ++i;
        if (c == '"' || c == '\n') in = In::kCode;
        break;
      case In::kLiteral:
        if (c == '\'' || c == '\n') in = In::kCode;
        break;
      case In::kMultiLiteral:
      case In::kMultiBasic: {
        const char quote = in == In::kMultiBasic ? '"' : '\'';
        if (c == quote && quotes(i, quote) >= 3) {
          i += std::min<size_t>(quotes(i, quote), 5) - 1;
          in = In::kCode;
        } else if (in == In::kMultiBasic && c == '\\') {
          size_t j = i + 1;
          while (blank(j, false)) ++j;
          if (j < text.size() && (text[j] == '\r' || text[j] == '\n')) {
            while (blank(j, true)) ++j;  // a line-ending backslash trims up to here
          }
          if (high(j)) {
            return at(j,
                      "non-ASCII character after a backslash in a multi-line string (write it "
                      "as a \\uXXXX escape)");
          }
          i = j == i + 1 ? j : j - 1;
        }
        break;
      }
    }
  }
  return {};
}

// `text` with each non-ASCII character replaced by '?', which TOML allows only where it allows
// any character (strings, comments): the same lines and columns, and safe for toml++. When it
// parses, every non-ASCII character of `text` is in a string or a comment.
std::string AsciiStandIn(std::string_view text) {
  const bool bom = text.starts_with("\xEF\xBB\xBF");
  std::string out(bom ? text.substr(0, 3) : "");
  for (char c : text.substr(bom ? 3 : 0)) {
    if ((c & 0xC0) != 0x80) out += (c & 0x80) ? '?' : c;
  }
  return out;
}

// The single toml++ adapter: parse errors (exceptions) become Error values here. toml++ reads
// `text` itself only once FindUnsafeNonAscii and the ASCII stand-in show that it is safe to.
Result<toml::table> ParseToml(std::string_view text, const std::string& source_name) {
  if (std::string problem = FindUnsafeNonAscii(text); !problem.empty()) {
    return PlainError(source_name + ":" + problem);
  }
  try {
    static_cast<void>(toml::parse(AsciiStandIn(text), source_name));
    return toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    const toml::source_region& where = e.source();
    return PlainError(source_name + ":" + std::to_string(where.begin.line) + ":" +
                      std::to_string(where.begin.column) + ": " + OneLine(e.description()));
  }
}

template <typename T>
std::string Optional(const std::optional<T>& value) {
  return value ? std::to_string(*value) : "none";
}

}  // namespace

std::string CheckGlob(std::string_view pattern) { return GlobSyntaxError(pattern); }

std::optional<uint64_t> ParseByteSize(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t shift = 0;
  switch (text.back()) {
    case 'K':
    case 'k':
      shift = 10;
      break;
    case 'M':
    case 'm':
      shift = 20;
      break;
    case 'G':
    case 'g':
      shift = 30;
      break;
    case 'T':
    case 't':
      shift = 40;
      break;
    default:
      break;
  }
  if (shift != 0) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    if (value > (UINT64_MAX - 9) / 10) return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > (UINT64_MAX >> shift)) return std::nullopt;
  return value << shift;
}

Result<Policy> ParsePolicy(std::string_view text, const std::string& source_name,
                           const SyscallNameCheck& known_syscall) {
  Result<toml::table> root = ParseToml(text, source_name);
  if (!root) return root.error();
  Policy policy = DefaultPolicy();  // what the file does not say keeps the built-in value
  Status status = Reader(source_name, known_syscall).Read(*root, &policy);
  if (!status) return status.error();
  return policy;
}

Result<Policy> LoadPolicyFile(const std::string& path, const SyscallNameCheck& known_syscall) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return ErrnoError("open(" + path + ")");
  if (S_ISDIR(st.st_mode)) return Error{EISDIR, "open(" + path + ")"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoError("open(" + path + ")");
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return ErrnoError("read(" + path + ")");
  return ParsePolicy(contents.str(), path, known_syscall);
}

Policy DefaultPolicy() {
  Policy p;
  p.filesystem.allow_read = {"/usr",   "/bin",    "/sbin",       "/lib",        "/lib32",
                             "/lib64", "/libx32", "/etc",        "/opt",        "/proc",
                             "/sys",   "/dev",    "/dev/random", "/dev/urandom"};
  p.filesystem.allow_write = {"/tmp",      "/dev/shm", "/dev/null", "/dev/zero",
                              "/dev/full", "/dev/tty", "/dev/pts",  "/dev/ptmx"};
  // Executing further programs is off by default; --allow-exec adds the system exec dirs.
  p.filesystem.allow_exec = {};
  p.filesystem.deny = {"/etc/shadow",     "/etc/gshadow",
                       "/etc/sudoers",    "/etc/sudoers.d",
                       "/etc/ssh",        "/etc/security/opasswd",
                       "~/.ssh",          "~/.aws",
                       "~/.gnupg",        "~/.config/gcloud",
                       "~/.docker",       "~/.kube",
                       "~/.netrc",        "~/.npmrc",
                       "~/.pypirc",       "~/.git-credentials",
                       "~/.bash_history", "~/.env"};
  p.network.allow = false;
  return p;
}

std::string DescribePolicy(const Policy& p) {
  const auto count = [](const StringList& list) { return std::to_string(list.size()); };
  return "filesystem: " + count(p.filesystem.allow_read) + " read, " +
         count(p.filesystem.allow_write) + " write, " + count(p.filesystem.allow_exec) + " exec, " +
         count(p.filesystem.deny) + " deny; network " + (p.network.allow ? "on" : "off") +
         "; syscalls: " + count(p.syscalls.deny) + " deny, " + count(p.syscalls.log_only) +
         " log_only; limits: timeout=" + Optional(p.limits.timeout) +
         " max_processes=" + Optional(p.limits.max_processes) +
         " max_file_size=" + Optional(p.limits.max_file_size) +
         " memory=" + Optional(p.limits.memory);
}

}  // namespace sandtrace::policy
