#include "analyzer/rules_analyzer.h"

#include <sys/socket.h>

#include <cstdint>

namespace sandtrace::analyzer {
namespace {

// Calls outside the kFileWrite category that still change what their path names.
constexpr std::string_view kModifying[] = {
    "mkdir",        "mkdirat",    "rmdir",        "chmod",         "fchmodat",
    "fchmodat2",    "chown",      "lchown",       "fchownat",      "utime",
    "utimes",       "futimesat",  "utimensat",    "setxattr",      "lsetxattr",
    "removexattr",  "lremovexattr", "setxattrat", "removexattrat", "file_setattr",
};

// Calls whose first path is only read (the source of a link, the text of a symlink).
constexpr int32_t kLink = 86, kSymlink = 88, kLinkat = 265, kSymlinkat = 266;

std::string_view DefaultMessage(std::string_view kind) {
  if (kind == "file") return "sensitive file";
  if (kind == "network") return "network access";
  if (kind == "exec") return "program executed outside allow_exec";
  if (kind == "write_outside") return "write outside the allowed paths";
  if (kind == "denied") return "syscall denied by the sandbox";
  return "watched syscall";
}

std::string_view MessageOf(const RuleSpec& rule) {
  if (rule.message.empty()) return DefaultMessage(rule.kind);
  return rule.message;
}

bool AccessMatches(std::string_view access, bool writes) {
  return access == "any" || (access == "write") == writes;
}

// "1.2.3.4:443", "[::1]:53", "/run/socket", "@abstract" into *out; false for families without
// a decoded address.
bool FormatAddress(const SocketAddress& addr, std::string* out) {
  if (!addr.has_address) return false;
  out->clear();
  if (addr.family == AF_INET6) out->push_back('[');
  out->append(addr.address);
  if (addr.family == AF_INET6) out->push_back(']');
  if (addr.family == AF_INET || addr.family == AF_INET6) {
    out->push_back(':');
    out->append(std::to_string(addr.port));
  }
  return true;
}

}  // namespace

RulesAnalyzer::RulesAnalyzer(const AnalysisConfig& config) {
  for (std::string_view name : kModifying) {
    if (const int32_t nr = SyscallNumber(name); nr >= 0) modifies_.set(static_cast<size_t>(nr));
  }
  if (Result<GlobList> list = GlobList::Compile(config.allow_exec); list) allow_exec_ = *list;
  if (Result<GlobList> list = GlobList::Compile(config.write_allowed); list) {
    write_allowed_ = *list;
  }
  std::vector<std::vector<Glob>> file_globs;  // of each rule, for the rules of kind "file"
  for (const RuleSpec& spec : config.rules) {
    if (!RuleSpecError(spec).empty()) continue;
    Rule rule;
    rule.spec = spec;
    std::vector<Glob> globs;
    for (const std::string& path : spec.paths) {
      if (Result<Glob> glob = Glob::Compile(path); glob) globs.push_back(std::move(*glob));
    }
    if (spec.kind == "file" && globs.size() != spec.paths.size()) continue;
    if (spec.kind == "file") file_globs.push_back(std::move(globs));
    for (const std::string& name : spec.syscalls) {
      if (const int32_t nr = SyscallNumber(name); nr >= 0) rule.calls.set(static_cast<size_t>(nr));
    }
    watched_ |= rule.calls;
    rules_.push_back(std::move(rule));
  }
  for (const Rule& rule : rules_) {
    const std::string& kind = rule.spec.kind;
    auto* list = kind == "file"            ? &file_
                 : kind == "write_outside" ? &write_outside_
                 : kind == "network"       ? &network_
                 : kind == "denied"        ? &denied_
                 : kind == "syscall"       ? &syscall_
                                           : &exec_;
    list->push_back(&rule);
  }
  for (uint32_t i = 0; i < file_globs.size(); ++i) {
    for (const Glob& glob : file_globs[i]) file_paths_.Add(glob, i);
  }
}

bool RulesAnalyzer::WantsEveryCall(int64_t nr) const {
  return nr >= 0 && nr <= kMaxSyscall && watched_.test(static_cast<size_t>(nr));
}

void RulesAnalyzer::Fire(const Rule& rule, const SyscallView& call, SubjectKind kind,
                         std::string_view subject, AlertSink& sink) const {
  AlertFacts alert;
  alert.rule = rule.spec.id;
  alert.severity = rule.spec.severity;
  alert.message = MessageOf(rule.spec);
  alert.subject_kind = kind;
  alert.subject = subject;
  alert.syscall = call.name;
  alert.pid = call.record->tid;
  sink.Alert(alert);
}

void RulesAnalyzer::OnSyscall(const SyscallView& call, AlertSink& sink) {
  const DecodedArgs& decoded = *call.decoded;
  const bool has_address = decoded.addr && FormatAddress(*decoded.addr, &address_);
  // The subject of rules about the call as a whole: its path, else its address, else none.
  SubjectKind kind = SubjectKind::kNone;
  std::string_view subject;
  if (!call.path.empty()) {
    kind = SubjectKind::kPath;
    subject = call.path;
  } else if (has_address) {
    kind = SubjectKind::kAddress;
    subject = address_;
  }
  if (call.denied) {
    for (const Rule* rule : denied_) Fire(*rule, call, kind, subject, sink);
  }
  const int64_t nr = call.record->nr;
  if (WantsEveryCall(nr)) {
    for (const Rule* rule : syscall_) {
      if (rule->calls.test(static_cast<size_t>(nr))) Fire(*rule, call, kind, subject, sink);
    }
  }
  if (has_address) {
    for (const Rule* rule : network_) Fire(*rule, call, SubjectKind::kAddress, address_, sink);
  }
  if (call.path.empty() && call.path2.empty()) return;
  const bool writes = call.category == Category::kFileWrite ||
                      (nr >= 0 && nr <= kMaxSyscall && modifies_.test(static_cast<size_t>(nr)));
  const bool source_only_read = nr == kLink || nr == kSymlink || nr == kLinkat || nr == kSymlinkat;
  if (!call.path.empty()) {
    CheckPath(call, call.path, call.path_resolved, writes && !source_only_read, sink);
  }
  if (!call.path2.empty()) CheckPath(call, call.path2, call.path2_resolved, writes, sink);
}

void RulesAnalyzer::CheckPath(const SyscallView& call, std::string_view path, bool resolved,
                              bool writes, AlertSink& sink) {
  file_paths_.Match(path, &matched_);
  uint32_t first = UINT32_MAX;
  for (uint32_t i : matched_) {
    if (i < first && AccessMatches(file_[i]->spec.access, writes)) first = i;
  }
  if (first != UINT32_MAX) Fire(*file_[first], call, SubjectKind::kPath, path, sink);
  if (!writes || !resolved || write_outside_.empty() || write_allowed_.Matches(path)) return;
  for (const Rule* rule : write_outside_) Fire(*rule, call, SubjectKind::kPath, path, sink);
}

void RulesAnalyzer::OnExec(const ExecView& exec, AlertSink& sink) {
  if (exec.command_exec || exec_.empty() || allow_exec_.Matches(exec.path)) return;
  for (const Rule* rule : exec_) {
    AlertFacts alert;
    alert.rule = rule->spec.id;
    alert.severity = rule->spec.severity;
    alert.message = MessageOf(rule->spec);
    alert.subject_kind = SubjectKind::kPath;
    alert.subject = exec.path;
    alert.syscall = "execve";
    alert.pid = exec.record->tid;
    sink.Alert(alert);
  }
}

}  // namespace sandtrace::analyzer
