// The reporting rules (common/analysis_config.h) as a built-in analyser. Rules are compiled
// once: globs into matchers, syscall names into a table by number. Per call:
//   - "file": each path argument is checked against the file rules in order; the first rule
//     whose globs and access match fires (one file rule per path). Access is "write" for calls
//     that create, modify, remove or rename what the path names (opens with a write flag,
//     creat, truncate, unlink, rename, link/symlink targets, mkdir, rmdir, mknod, chmod,
//     chown, utimes, setxattr/removexattr); every other access (open for reading, stat,
//     access, readlink, exec, ...) is "read". A path that could not be resolved (relative to a
//     directory fd or an unknown working directory) only meets unanchored globs ("id_rsa",
//     "**/.env").
//   - "write_outside": a write access to a resolved path that write_allowed does not match.
//   - "network": an IPv4, IPv6 or unix address in connect/bind/sendto/sendmsg; the subject is
//     "address:port" ("[v6]:port"), the socket path or "@abstract".
//   - "denied": any call the sandbox denied; the subject is its path, address or name.
//   - "syscall": any call of a listed name (numbers outside the x86-64 table never match).
//   - "exec": a successful exec of a program that allow_exec does not match, except the
//     command's own first exec.
// Failed calls fire like successful ones (the attempt is what matters), except for "exec".
#pragma once

#include <bitset>
#include <memory>
#include <string>
#include <vector>

#include "analyzer/builtin_analyzer.h"
#include "common/analysis_config.h"
#include "common/glob.h"

namespace sandtrace::analyzer {

class RulesAnalyzer : public BuiltinAnalyzer {
 public:
  // Compiles `config`. A rule that RuleSpecError() rejects, or a glob that does not compile,
  // is left out (DecodeAnalysisConfig never yields one).
  explicit RulesAnalyzer(const AnalysisConfig& config);
  RulesAnalyzer(const RulesAnalyzer&) = delete;  // the per-kind lists point into rules_
  RulesAnalyzer& operator=(const RulesAnalyzer&) = delete;

  std::string_view name() const override { return "rules"; }
  bool WantsEveryCall(int64_t nr) const override;
  void OnSyscall(const SyscallView& call, AlertSink& sink) override;
  void OnExec(const ExecView& exec, AlertSink& sink) override;

  // The rules in force after compilation, in evaluation order.
  size_t rule_count() const { return rules_.size(); }

 private:
  using SyscallSet = std::bitset<kMaxSyscall + 1>;
  struct Rule {
    RuleSpec spec;
    SyscallSet calls;  // "syscall"
  };

  void CheckPath(const SyscallView& call, std::string_view path, bool resolved, bool writes,
                 AlertSink& sink);
  void Fire(const Rule& rule, const SyscallView& call, SubjectKind kind, std::string_view subject,
            AlertSink& sink) const;

  std::vector<Rule> rules_;
  std::vector<const Rule*> file_, write_outside_, network_, denied_, syscall_, exec_;
  GlobSet file_paths_;             // the globs of file_[i] under id i
  std::vector<uint32_t> matched_;  // scratch: ids file_paths_ matched
  GlobList allow_exec_;
  GlobList write_allowed_;
  SyscallSet watched_;       // numbers some "syscall" rule lists
  SyscallSet modifies_;      // calls whose path arguments are written to (besides kFileWrite)
  std::string address_;      // scratch: the subject of a network alert
};

}  // namespace sandtrace::analyzer
