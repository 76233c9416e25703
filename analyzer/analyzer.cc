#include "analyzer/analyzer.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <random>

#include "analyzer/decoder.h"

namespace sandtrace::analyzer {
namespace {

constexpr int32_t kExecveNr = 59;
constexpr int32_t kExecveatNr = 322;

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

}  // namespace

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
  events_.WriteSandbox(hello_);
  sandbox_written_ = true;
  return true;
}

void Analyzer::EnsureSandbox(uint64_t ts_ns) {
  if (sandbox_written_) return;
  hello_ = UnknownRun(ts_ns);
  events_.WriteSandbox(hello_);
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
  events_.WriteSyscall(r, name, EffectiveCategory(known, decoded), decoded);

  SyscallFacts facts;
  facts.nr = r.nr;
  facts.name = name;
  facts.pid = r.tid;
  facts.success = !Failed(r);
  facts.denied = r.action == wire::Action::kDeny;
  facts.decoded = &decoded;
  summary_.AddSyscall(facts);

  if (r.nr == kExecveNr || r.nr == kExecveatNr) {
    if (Failed(r)) {
      pending_argv_.erase(r.tid);
    } else {
      pending_argv_[r.tid] = decoded.argv ? std::string(*decoded.argv) : std::string();
    }
  }
}

void Analyzer::OnSpawn(const wire::SpawnRecord& r) {
  EnsureSandbox(r.ts_ns);
  events_.WriteSpawn(r);
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
    return;
  }
  events_.WriteExec(r, it->second);
  pending_argv_.erase(it);
}

void Analyzer::OnExit(const wire::ExitRecord& r) {
  EnsureSandbox(r.ts_ns);
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
  events_.WriteSummary(summary_, {hello_.run_id, hello_.start_ns}, end);
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
