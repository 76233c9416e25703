// Policy: the typed form of a policy TOML file (SPEC section 6). The file is parsed once, here,
// into these structs; every later consumer (sandbox plan, analyser rules via policy/rules.h)
// reads the structs and never TOML. toml++ exceptions are caught inside policy.cc and turned into Error values whose
// context reads "FILE:LINE:COLUMN: KEY: what is wrong".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sandtrace::policy {

// One [[rules]] table as written (reporting rules, common/analysis_config.h). A rule whose id
// names a built-in rule (DefaultRules() in policy/rules.h) overrides it: keys left out keep the
// built-in's values, and enabled = false removes it. Any other id is a new rule, for which
// `kind` is required (and `paths` for kind "file", `syscalls` for kind "syscall").
struct PolicyRule {
  std::string id;
  std::optional<std::string> kind, severity, message, access;
  std::optional<std::vector<std::string>> paths, syscalls;
  bool enabled = true;
};

struct Policy {
  struct Filesystem {
    // Glob patterns, kept as written; a leading "~" means $HOME and is expanded by the consumer.
    std::vector<std::string> allow_read, allow_write, allow_exec, deny;
  } filesystem;
  struct Network {
    bool allow = false;
  } network;
  struct Syscalls {
    std::vector<std::string> deny, log_only;  // syscall names, shape [a-z0-9_]+ only
  } syscalls;
  struct Limits {
    std::optional<int> timeout;             // seconds, >= 0
    std::optional<int> max_processes;       // >= 1
    std::optional<uint64_t> max_file_size;  // bytes
    std::optional<uint64_t> memory;         // bytes, >= 1
  } limits;
  std::vector<PolicyRule> rules;  // [[rules]], in file order; ids are distinct
};

// Parses policy TOML `text`; `source_name` is the file name used in error messages. Unknown
// sections or keys, wrong types and bad values (globs, syscall names, sizes) are errors.
// Absent keys keep the values of DefaultPolicy(): a file that sets only [syscalls] still reads
// the system directories. A key that is present replaces the default list (`[]` empties it).
// `known_syscall` (optional) says what is wrong with a syscall name the kernel does not have
// ("" when it is fine); the policy library itself knows no syscall table.
using SyscallNameCheck = std::function<std::string(std::string_view)>;
Result<Policy> ParsePolicy(std::string_view text, const std::string& source_name,
                           const SyscallNameCheck& known_syscall = {});

// Reads and parses the policy file at `path`; an unreadable file is an errno Error.
// A directory is EISDIR.
Result<Policy> LoadPolicyFile(const std::string& path, const SyscallNameCheck& known_syscall = {});

// The built-in policy used when no --policy is given: the same lists as cli/sandbox_plan.cc
// (system directories readable, scratch devices writable, credentials masked, no exec beyond
// the command itself, network off).
Policy DefaultPolicy();

// One line summarising `policy`, e.g. for the `sandbox` event or --verbose output.
std::string DescribePolicy(const Policy& policy);

// Empty string when `pattern` is a well-formed glob, else what is wrong with it. The syntax
// is common/glob.h's, the matcher the analyser uses.
std::string CheckGlob(std::string_view pattern);

// Parses a byte size: decimal digits with an optional K, M, G or T suffix (powers of 1024).
std::optional<uint64_t> ParseByteSize(std::string_view text);

}  // namespace sandtrace::policy
