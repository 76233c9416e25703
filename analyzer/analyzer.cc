#include "analyzer/analyzer.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <random>

#include "analyzer/decoder.h"
#include "analyzer/rules_analyzer.h"

namespace sandtrace::analyzer {
namespace {

constexpr int32_t kExecveNr = 59;
constexpr int32_t kExecveatNr = 322;
constexpr int32_t kChdirNr = 80, kFchdirNr = 81;
// Calls whose second path has its own directory fd (args[2]), or whose first path is the
// text of a symbolic link (relative to the link, not to a directory the stream names).
constexpr int32_t kSymlinkNr = 88, kRenameatNr = 264, kLinkatNr = 265, kSymlinkatNr = 266,
                  kRenameat2Nr = 316, kMoveMountNr = 429;
constexpr int32_t kUnknownDirFd = -1;

constexpr const char* kLayerNames[] = {
    "user_namespace", "mount_namespace", "pid_namespace", "network_namespace",
    "no_new_privs",   "landlock",        "seccomp",       "ptrace",
};

std::string RandomRunId() {
  std::random_device random;
  char text[33];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(text + 8 * i, 9, "%08x", static_cast<unsigned>(random()));
  }
  return std::string(text, 32);
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

// What the analyser knows of a run whose hello never arrived.
wire::Hello UnknownRun(uint64_t start_ns) {
  wire::Hello hello;
  hello.run_id = RandomRunId();
  hello.host = HostName();
  hello.start_ns = start_ns;
  for (uint8_t i = 0; i < std::size(kLayerNames); ++i) {
    hello.layers.push_back(
        {static_cast<uint8_t>(i + 1), kLayerNames[i], false, "unknown: the tracer sent no hello"});
  }
  return hello;
}

bool Failed(const wire::SyscallRecord& r) { return r.returned && r.ret >= -4095 && r.ret <= -1; }

// The directory fds the first and second path arguments are relative to (none: the working
// directory).
std::pair<std::optional<int32_t>, std::optional<int32_t>> PathDirFds(const wire::SyscallRecord& r,
                                                                     const DecodedArgs& d) {
  switch (r.nr) {
    case kRenameatNr:
    case kRenameat2Nr:
    case kLinkatNr:
    case kMoveMountNr:
      return {d.dirfd, static_cast<int32_t>(static_cast<uint32_t>(r.args[2]))};
    case kSymlinkatNr:
      return {kUnknownDirFd, d.dirfd};
    case kSymlinkNr:
      return {kUnknownDirFd, std::nullopt};
    default:
      return {d.dirfd, d.dirfd};
  }
}

// Where the summary lists an external alert's subject (see AddExternalAlert).
const char* SubjectKey(std::string_view subject) {
  if (subject.empty()) return "";
  if (subject[0] == '/' || subject[0] == '.' || subject[0] == '~') return "path";
  if (subject[0] == '@' || subject.find(':') != std::string_view::npos) return "address";
  const bool dotted_digits =
      subject.find('.') != std::string_view::npos &&
      subject.find_first_not_of("0123456789.") == std::string_view::npos;
  return dotted_digits ? "address" : "path";
}

const char* SubjectKeyOf(SubjectKind kind) {
  switch (kind) {
    case SubjectKind::kPath:
      return "path";
    case SubjectKind::kAddress:
      return "address";
    case SubjectKind::kNone:
      break;
  }
  return "";
}

}  // namespace

Analyzer::Analyzer() { Configure(DefaultAnalysisConfig()); }

void Analyzer::Configure(const AnalysisConfig& config) {
  builtins_.clear();
  builtins_.push_back(std::make_unique<RulesAnalyzer>(config));
  every_call_.assign(kMaxSyscall + 1, false);
  for (int32_t nr = 0; nr <= kMaxSyscall; ++nr) {
    for (const auto& builtin : builtins_) {
      if (builtin->WantsEveryCall(nr)) every_call_[static_cast<size_t>(nr)] = true;
    }
  }
  dirs_.Reset(config.cwd);
  policy_ = config.policy;
}

void PrintAlertNotice(std::FILE* out, std::string_view rule, std::string_view severity,
                      std::string_view message, int32_t pid) {
  if (severity != "high" && severity != "critical") return;
  std::string line = "!! alert [";
  // Paths come from the traced program: no control character reaches the terminal.
  for (std::string_view part : {severity, std::string_view("] "), rule, std::string_view(": "),
                                message}) {
    for (unsigned char c : part) {
      if (c < 0x20 || c == 0x7f) {
        char hex[5];
        std::snprintf(hex, sizeof hex, "\\x%02x", c);
        line += hex;
      } else {
        line += static_cast<char>(c);
      }
    }
  }
  line += " (pid " + std::to_string(pid) + ")\n";
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
}

void Analyzer::SetPluginStatuses(std::vector<PluginStatus> statuses) {
  plugins_ = std::move(statuses);
}

void Analyzer::AddExternalAlert(int32_t pid, std::string_view rule, std::string_view severity,
                                std::string_view subject, std::string_view syscall) {
  if (finished_) return;
  const char* key = SubjectKey(subject);
  summary_.AddAlert({pid, std::string(rule), std::string(severity), key,
                     *key == '\0' ? std::string() : std::string(subject), std::string(syscall)});
}

void Analyzer::Alert(const AlertFacts& a) {
  if (alerts_written_ >= kMaxAlerts) return;
  alert_key_.assign(a.rule).append(1, '\0').append(a.subject.empty() ? a.syscall : a.subject);
  if (alerted_.contains(alert_key_)) return;
  alerted_.insert(alert_key_);
  alert_message_.assign(a.message).append(": ").append(a.syscall);
  if (!a.subject.empty()) alert_message_.append(" ").append(a.subject);
  events_.WriteAlert(alert_ts_ns_, a.rule, a.severity, alert_message_, a.pid);
  ++alerts_written_;
  if (notices_) PrintAlertNotice(notices_, a.rule, a.severity, alert_message_, a.pid);
  summary_.AddAlert({a.pid, std::string(a.rule), std::string(a.severity),
                     SubjectKeyOf(a.subject_kind), std::string(a.subject), std::string(a.syscall)});
}

uint64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

bool Analyzer::OnHello(const wire::Hello& hello) {
  if (hello_seen_ || sandbox_written_ || finished_) return false;
  hello_seen_ = true;
  hello_ = hello;
  if (hello.root_pid > 0) summary_.AddProcess();  // the root (0: it never ran)
  events_.WriteSandbox(hello_, policy_);
  sandbox_written_ = true;
  return true;
}

void Analyzer::EnsureSandbox(uint64_t ts_ns) {
  if (sandbox_written_) return;
  hello_ = UnknownRun(ts_ns);
  events_.WriteSandbox(hello_, policy_);
  sandbox_written_ = true;
}

void Analyzer::OnRecords(const std::vector<wire::RawRecord>& records) {
  for (const wire::RawRecord& record : records) OnRecord(record);
}

void Analyzer::OnRecord(const wire::RawRecord& record) {
  if (finished_) return;
  std::visit(
      [this](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, wire::SyscallRecord>) {
          OnSyscall(r);
        } else if constexpr (std::is_same_v<T, wire::SpawnRecord>) {
          OnSpawn(r);
        } else if constexpr (std::is_same_v<T, wire::ExecRecord>) {
          OnExec(r);
        } else {
          OnExit(r);
        }
      },
      record);
}

const SyscallInfo& Analyzer::OtherSyscall(int64_t nr) {
  auto it = other_syscalls_.find(nr);
  if (it != other_syscalls_.end()) return it->second.info;
  OtherSyscallInfo* entry = &uncached_;
  if (other_syscalls_.size() < kMaxOtherNumbers) entry = &other_syscalls_[nr];
  entry->name = SyscallName(nr);
  entry->info.name = entry->name;
  entry->info.category = SyscallCategory(nr);
  return entry->info;
}

void Analyzer::OnSyscall(const wire::SyscallRecord& r) {
  EnsureSandbox(r.entry_ns);
  const SyscallInfo* info = FindSyscall(r.nr);
  const DecodedArgs decoded = DecodeArgs(r, info);
  const SyscallInfo& known = info != nullptr ? *info : OtherSyscall(r.nr);
  const std::string_view name = known.name;
  const Category category = EffectiveCategory(known, decoded);
  events_.WriteSyscall(r, name, category, decoded);

  SyscallFacts facts;
  facts.nr = r.nr;
  facts.name = name;
  facts.pid = r.tid;
  facts.success = !Failed(r);
  facts.denied = r.action == wire::Action::kDeny;
  facts.decoded = &decoded;
  summary_.AddSyscall(facts);

  const bool interesting = decoded.path || decoded.path2 || decoded.addr || decoded.argv ||
                           facts.denied ||
                           (r.nr >= 0 && r.nr <= kMaxSyscall && every_call_[r.nr]);
  if (interesting && !builtins_.empty()) AnalyseSyscall(r, name, category, decoded);
  if ((r.nr == kChdirNr || r.nr == kFchdirNr) && facts.success) {
    if (r.nr == kFchdirNr) {
      dirs_.OnFchdir(r.tgid);
    } else if (decoded.path) {
      bool resolved = false;
      const std::string_view dir =
          dirs_.Resolve(r.tgid, std::nullopt, *decoded.path, &resolved, &path_scratch_);
      dirs_.OnChdir(r.tgid, dir, resolved);
    }
  }

  if (r.nr == kExecveNr || r.nr == kExecveatNr) {
    if (Failed(r)) {
      pending_argv_.erase(r.tid);
    } else {
      pending_argv_[r.tid] = decoded.argv ? std::string(*decoded.argv) : std::string();
    }
  }
}

SyscallView Analyzer::ViewOf(const wire::SyscallRecord& r, std::string_view name,
                            Category category, const DecodedArgs& decoded) {
  SyscallView view;
  view.record = &r;
  view.name = name;
  view.category = category;
  view.decoded = &decoded;
  view.success = !Failed(r);
  view.denied = r.action == wire::Action::kDeny;
  const auto [dirfd, dirfd2] = PathDirFds(r, decoded);
  if (decoded.path) {
    view.path = dirs_.Resolve(r.tgid, dirfd, *decoded.path, &view.path_resolved, &path_scratch_);
  }
  if (decoded.path2) {
    view.path2 =
        dirs_.Resolve(r.tgid, dirfd2, *decoded.path2, &view.path2_resolved, &path2_scratch_);
  }
  return view;
}

void Analyzer::AnalyseSyscall(const wire::SyscallRecord& r, std::string_view name,
                              Category category, const DecodedArgs& decoded) {
  const SyscallView view = ViewOf(r, name, category, decoded);
  alert_ts_ns_ = r.entry_ns;
  for (const auto& builtin : builtins_) builtin->OnSyscall(view, *this);
}

void Analyzer::OnSpawn(const wire::SpawnRecord& r) {
  EnsureSandbox(r.ts_ns);
  events_.WriteSpawn(r);
  dirs_.OnSpawn(r.tid, r.tgid, r.parent_tid, r.thread);
  if (r.thread) {
    summary_.AddThread();
  } else if (hello_seen_ && r.tid == hello_.root_pid && !root_spawn_seen_) {
    root_spawn_seen_ = true;  // the root was counted at hello
  } else {
    summary_.AddProcess();
  }
}

void Analyzer::OnExec(const wire::ExecRecord& r) {
  EnsureSandbox(r.ts_ns);
  auto it = pending_argv_.find(r.former_tid);
  if (it == pending_argv_.end()) {
    events_.WriteExec(r, {});
  } else {
    events_.WriteExec(r, it->second);
    pending_argv_.erase(it);
  }
  ExecView view;
  view.record = &r;
  bool resolved = false;
  view.path = dirs_.Resolve(r.tid, std::nullopt, r.path, &resolved, &path_scratch_);
  view.command_exec = !command_exec_seen_ && (!hello_seen_ || r.tid == hello_.root_pid);
  command_exec_seen_ = command_exec_seen_ || view.command_exec;
  alert_ts_ns_ = r.ts_ns;
  for (const auto& builtin : builtins_) builtin->OnExec(view, *this);
}

void Analyzer::OnExit(const wire::ExitRecord& r) {
  EnsureSandbox(r.ts_ns);
  dirs_.OnExit(r.tid, r.tgid);
  // pending_argv_ keeps the thread's entry: the exit record of a thread that exec'd from a
  // non-leader may precede the exec record that needs it; the next execve replaces it.
  events_.WriteExit(r);
}

void Analyzer::OnLoss(uint64_t lost_records, uint64_t lost_messages, uint64_t now_ns) {
  if (finished_ || (lost_records == 0 && lost_messages == 0)) return;
  EnsureSandbox(now_ns);
  events_.WriteGap(now_ns, kTracerStage, lost_records, lost_messages);
  summary_.AddLost(lost_records);
}

void Analyzer::OnEnd(const wire::End& end) {
  if (finished_) return;
  EnsureSandbox(end.end_ns);
  events_.WriteSummary(summary_, {hello_.run_id, hello_.start_ns, &plugins_}, end);
  finished_ = true;
}

wire::End Analyzer::Abort(uint64_t now_ns, const std::string& detail) {
  wire::End end;
  end.outcome = wire::Outcome::kAborted;
  end.exit_code = 1;
  end.end_ns = now_ns;
  end.detail = detail;
  OnEnd(end);
  return end;
}

}  // namespace sandtrace::analyzer
