// What the wrapper tells the analyser about a run, beyond the tracer's stream: the reporting
// rules in force (the built-in defaults merged with the policy's) and the facts those rules
// compare against. The wrapper builds it from the policy (policy/rules.h) and writes it as one
// MessagePack object to a file in the run directory; `sandtrace-analyzer --config FILE` reads
// it. Paths here are final: "~" is already expanded, globs are kept as written (common/glob.h).
//
// File format: one MessagePack map
//   {"version": 1, "policy": str, "cwd": str, "allow_exec": [str], "write_allowed": [str],
//    "rules": [{"id", "kind", "severity", "message", "access": str,
//               "paths", "syscalls": [str]}]}
// Every key is required; unknown keys, wrong types and invalid values are errors.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sandtrace {

inline constexpr int kAnalysisConfigVersion = 1;

// One reporting rule. `kind` decides what fires it:
//   "file"          a file syscall on a path matching `paths` (with `access` "read", "write"
//                   or "any"); one access fires at most one file rule, the first listed
//   "network"       connect/bind/sendto/sendmsg with an IPv4, IPv6 or unix address
//   "exec"          a successful exec of a program not matched by AnalysisConfig::allow_exec
//                   (the command's own first exec never fires)
//   "write_outside" a write-access file syscall on a path outside AnalysisConfig::write_allowed
//   "denied"        a syscall the sandbox denied
//   "syscall"       a call of one of `syscalls` (names)
struct RuleSpec {
  std::string id;                     // [a-z0-9_]+
  std::string kind;
  std::string severity = "medium";    // low | medium | high | critical
  std::string message;                // what the alert says; empty: a text per kind
  std::vector<std::string> paths;     // "file": globs
  std::string access = "any";         // "file": read | write | any
  std::vector<std::string> syscalls;  // "syscall": names

  bool operator==(const RuleSpec&) const = default;
};

struct AnalysisConfig {
  std::vector<RuleSpec> rules;
  std::vector<std::string> allow_exec;     // globs of programs the command may execute
  std::vector<std::string> write_allowed;  // globs/directories where writes are expected
  std::string cwd;                         // the command's initial working directory ("": unknown)
  std::string policy;                      // the policy's name ("default" or its file)

  bool operator==(const AnalysisConfig&) const = default;
};

inline constexpr std::string_view kRuleKinds[] = {"file",          "network", "exec",
                                                  "write_outside", "denied",  "syscall"};
inline constexpr std::string_view kSeverities[] = {"low", "medium", "high", "critical"};
inline constexpr std::string_view kAccesses[] = {"read", "write", "any"};

// The built-in reporting rules, in order, with "~" for the home directory (unexpanded):
// ssh keys and directories, host keys, .env files, shadow and sudoers files, cloud and
// registry credentials, GnuPG, shell start-up files (writes and reads), network attempts,
// execs outside allow_exec, writes outside the allowed paths, denied syscalls.
std::vector<RuleSpec> DefaultRules();

// Write targets that are never "outside the project": the process's own standard streams
// and the null device, whatever the policy says.
std::vector<std::string> AlwaysWritable();

// What a default-constructed analyser uses (no --config): DefaultRules() with the home
// directory unknown (ExpandHome(.., "")), the built-in policy's writable paths plus
// AlwaysWritable(), no allow_exec, cwd unknown, policy "default".
AnalysisConfig DefaultAnalysisConfig();

// Empty when `rule` is valid, else "KEY: what is wrong" (KEY is a RuleSpec field name):
// id shape, known kind/severity/access, well-formed globs, syscall names [a-z0-9_]+, paths
// only and required for "file", syscalls only and required for "syscall".
std::string RuleSpecError(const RuleSpec& rule);

// MessagePack form, for the file the wrapper writes and the analyser reads. Decoding never
// throws; malformed input or an invalid rule is an Error naming what was wrong.
std::string EncodeAnalysisConfig(const AnalysisConfig& config);
Result<AnalysisConfig> DecodeAnalysisConfig(const std::string& bytes);

// Reads and decodes the file at `path`; errors name the file.
Result<AnalysisConfig> LoadAnalysisConfig(const std::string& path);
// Writes `config` to `path` (mode 0600); errors name the file.
Status SaveAnalysisConfig(const AnalysisConfig& config, const std::string& path);

}  // namespace sandtrace
