#include "tracer/ptrace_loop.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "tracer/capture_table.h"
#include "tracer/memory.h"

namespace sandtrace::tracer {
namespace {

volatile sig_atomic_t g_stop_signal = 0;
volatile sig_atomic_t g_tick = 0;

void OnStopSignal(int sig) {
  if (g_stop_signal == 0) g_stop_signal = sig;
}

void OnTick(int) { g_tick = 1; }

constexpr size_t kMaxPath = 4096;
constexpr size_t kMaxSockaddr = 128;
constexpr size_t kMaxArgvItems = 256;
constexpr size_t kMaxArgvBytes = 32 * 1024;

std::string ReadSmallFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buf[256];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  if (n <= 0) return {};
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string ReadLink(const std::string& path) {
  char buf[kMaxPath];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// The name the kernel gives a process at exec (/proc/PID/comm), worked out from the exec call
// itself so that no /proc file has to be read: the last component of the file name passed to
// execve/execveat, at most 15 bytes (fs/exec.c: kbasename(bprm->filename), TASK_COMM_LEN).
// Empty when the call does not tell: an execveat of a descriptor with AT_EMPTY_PATH (newer
// kernels name the process after the file, older ones after the descriptor), or a file name
// the tracer could not copy whole. Like the copied path itself, it is what the file name held
// at the entry stop; the process can rename itself at any time anyway (PR_SET_NAME).
std::string CommOfExec(const wire::SyscallRecord& call) {
  const uint8_t path_arg = call.nr == SYS_execve ? 0 : call.nr == SYS_execveat ? 1 : 6;
  for (const wire::Capture& c : call.captures) {
    if (c.arg != path_arg || c.kind != wire::CaptureKind::kString || c.truncated) continue;
    if (c.bytes.empty()) return {};
    const size_t slash = c.bytes.rfind('/');
    std::string comm = slash == std::string::npos ? c.bytes : c.bytes.substr(slash + 1);
    if (comm.size() > 15) comm.resize(15);
    return comm;
  }
  return {};
}

bool IsStoppingSignal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

// Children of this process (all threads), e.g. orphans re-parented to us as subreaper.
std::vector<pid_t> OwnChildren() {
  std::vector<pid_t> pids;
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return pids;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::string path = std::string("/proc/self/task/") + e->d_name + "/children";
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    close(fd);
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find(' ', pos);
      if (end == std::string::npos) end = text.size();
      if (end > pos) pids.push_back(static_cast<pid_t>(std::stol(text.substr(pos, end - pos))));
      pos = end + 1;
    }
  }
  closedir(dir);
  return pids;
}

// The tracer's tick (timeout, stragglers, stale batches): every 100 ms.
constexpr suseconds_t kTickUs = 100'000;

}  // namespace

// The next tick in `ns`, then every kTickUs.
void TickIn(uint64_t ns) {
  itimerval tick{{0, kTickUs},
                 {static_cast<time_t>(ns / 1'000'000'000),
                  static_cast<suseconds_t>(ns % 1'000'000'000 / 1000)}};
  setitimer(ITIMER_REAL, &tick, nullptr);
}

void InstallStopHandlers() {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: waitpid() must return EINTR
  sa.sa_handler = OnStopSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  sa.sa_handler = OnTick;
  sigaction(SIGALRM, &sa, nullptr);
  TickIn(kTickUs * 1000);
}

// The child attached itself with PTRACE_TRACEME (layer 8) and stopped. A TRACEME tracee
// cannot be held in a group-stop (PTRACE_LISTEN needs PTRACE_SEIZE), so it is handed over to a
// seized attachment while it stays stopped: detach into a SIGSTOP group-stop, seize it (the
// kernel re-traps a stopped tracee into PTRACE_EVENT_STOP), then wake it with SIGCONT.
Status PtraceLoop::Reattach(pid_t root, long options) {
  int status;
  if (ptrace(PTRACE_DETACH, root, nullptr, reinterpret_cast<void*>(SIGSTOP)) != 0) {
    return ErrnoError("ptrace(PTRACE_DETACH, pid=" + std::to_string(root) + ")");
  }
  while (waitpid(root, &status, WUNTRACED) < 0) {
    if (errno != EINTR) return ErrnoError("waitpid(" + std::to_string(root) + ")");
  }
  if (!WIFSTOPPED(status)) return PlainError("the command died before it was traced");
  if (ptrace(PTRACE_SEIZE, root, nullptr, reinterpret_cast<void*>(options)) != 0) {
    return ErrnoError("ptrace(PTRACE_SEIZE, pid=" + std::to_string(root) + ")");
  }
  while (waitpid(root, &status, __WALL) < 0) {
    if (errno != EINTR) return ErrnoError("waitpid(" + std::to_string(root) + ")");
  }
  if (!WIFSTOPPED(status) || (status >> 16) != PTRACE_EVENT_STOP) {
    return PlainError("unexpected stop while attaching to the command");
  }
  if (kill(root, SIGCONT) != 0) return ErrnoError("kill(SIGCONT)");
  return {};
}

void StopTicks() {
  itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
}

PtraceLoop::PtraceLoop(Publisher* publisher, const Clock* clock, LoopOptions options)
    : publisher_(publisher), clock_(clock), options_(options) {}

LoopResult PtraceLoop::Run(pid_t root, pid_t init) {
  root_ = root;
  init_ = init;
  if (options_.timeout_s > 0) {
    deadline_mono_ns_ =
        clock_->MonotonicNs() + static_cast<uint64_t>(options_.timeout_s) * 1'000'000'000ull;
  }
  int status = 0;
  pid_t got;
  long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
  if (options_.seccomp_stops) opts |= PTRACE_O_TRACESECCOMP;
  if (options_.follow_forks) {
    opts |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE;
  }
  if (Status s = Reattach(root, opts); !s) {
    kill(root, SIGKILL);
    result_.publish_error = s.error();
    result_.kill_reason = KillReason::kAttachFailed;
    while (waitpid(root, &status, __WALL) < 0 && errno == EINTR) {
    }
    result_.root_reaped = true;
    result_.root_status = status;
    return result_;
  }
  AddTracee(root, root);
  Publish(wire::SpawnRecord{root, root, getpid(), false, clock_->RealtimeNs()});
  // The root's start goes out at once: the analyser counts the root from the hello, so a trace
  // cut short (a killed tracer) must not lose its spawn event, whatever batches wait for.
  CheckPublished(publisher_->Flush());
  Resume(root, 0);

  for (;;) {
    if (g_stop_signal != 0 && result_.kill_reason == KillReason::kNone) {
      result_.stop_signal = g_stop_signal;
      KillTree(KillReason::kSignal);
    }
    // The tick arrives whether waitpid() is blocked (EINTR) or we are busy with a stop.
    if (g_tick) {
      g_tick = 0;
      Tick();
    }
    got = waitpid(-1, &status, __WALL);
    if (got < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing left to trace or reap
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      HandleExit(got, status);
    } else if (WIFSTOPPED(status)) {
      HandleStop(got, status);
    }
    if (tracees_.empty() && result_.root_reaped && result_.kill_reason == KillReason::kNone) {
      // Untraced leftovers (--follow-forks=false) must not outlive the run: killed here with
      // the init, reaped by ReapRest() once the end of the trace has gone out. ReapRest also
      // kills other children of ours (KillOrphans), off the path of the end of the trace.
      KillSandbox(KillReason::kRootGone);
      break;
    }
  }
  return result_;
}

void PtraceLoop::ReapRest() {
  KillOrphans();
  int status = 0;
  for (;;) {
    if (waitpid(-1, &status, __WALL) >= 0) continue;
    if (errno != EINTR) return;  // ECHILD: nothing left
    if (g_tick) {
      g_tick = 0;
      KillTree(result_.kill_reason);
    }
  }
}

void PtraceLoop::Tick() {
  if (deadline_mono_ns_ != 0 && result_.kill_reason == KillReason::kNone &&
      clock_->MonotonicNs() >= deadline_mono_ns_) {
    KillTree(KillReason::kTimeout);
  }
  if (result_.kill_reason != KillReason::kNone) KillTree(result_.kill_reason);  // stragglers
  CheckPublished(publisher_->FlushIfStale(clock_->RealtimeNs()));
}

void PtraceLoop::KillTree(KillReason reason) {
  KillSandbox(reason);
  KillOrphans();
}

void PtraceLoop::KillSandbox(KillReason reason) {
  if (result_.kill_reason == KillReason::kNone) result_.kill_reason = reason;
  // The init's death takes the whole PID namespace with it. SIGKILL ends ptrace-stops too;
  // ESRCH for a process that is already gone is harmless.
  if (init_ > 0) kill(init_, SIGKILL);
  for (const auto& [tid, t] : tracees_) kill(t.tgid, SIGKILL);
}

void PtraceLoop::KillOrphans() {
  for (pid_t pid : OwnChildren()) kill(pid, SIGKILL);
}

PtraceLoop::Tracee& PtraceLoop::AddTracee(pid_t tid, pid_t tgid) {
  Tracee& t = tracees_[tid];
  t.tid = tid;
  t.tgid = tgid;
  t.pending.captures.reserve(3);
  return t;
}

void PtraceLoop::Publish(const auto& record) { Publish(record, clock_->RealtimeNs()); }

void PtraceLoop::Publish(const auto& record, uint64_t now_ns) {
  CheckPublished(publisher_->Add(record, now_ns));
}

void PtraceLoop::CheckPublished(const Status& sent) {
  if (sent) return;
  if (result_.kill_reason == KillReason::kNone) result_.publish_error = sent.error();
  KillTree(KillReason::kPublishFailed);
}

void PtraceLoop::PublishSoon() {
  if (publisher_->MarkUrgent(clock_->RealtimeNs())) TickIn(Publisher::kUrgentDelayNs);
}

void PtraceLoop::Resume(pid_t pid, int sig) {
  auto it = tracees_.find(pid);
  if (it != tracees_.end()) {
    Resume(it->second, sig);
    return;
  }
  // ESRCH: the tracee was killed meanwhile; its exit is reported by waitpid.
  ptrace(ResumeRequest(false), pid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig)));
}

void PtraceLoop::Resume(const Tracee& t, int sig) {
  // ESRCH: the tracee was killed meanwhile; its exit is reported by waitpid.
  ptrace(ResumeRequest(t.in_syscall), t.tid, nullptr,
         reinterpret_cast<void*>(static_cast<long>(sig)));
}

__ptrace_request PtraceLoop::ResumeRequest(bool in_syscall) const {
  // With the --trace pre-filter a tracee runs freely (PTRACE_CONT) except between a selected
  // syscall's seccomp stop and its exit stop.
  return options_.seccomp_stops && !in_syscall ? PTRACE_CONT : PTRACE_SYSCALL;
}

void PtraceLoop::FinishPending(Tracee& t, bool returned, int64_t ret) {
  if (!t.in_syscall) return;
  const uint64_t now = clock_->MonotonicNs();
  t.pending.returned = returned;
  t.pending.ret = returned ? ret : 0;
  t.pending.duration_ns = now - t.entry_mono_ns;
  t.in_syscall = false;
  Publish(t.pending, clock_->ToRealtimeNs(now));  // no second reading of the clock
}

void PtraceLoop::HandleExit(pid_t pid, int status) {
  if (pid == root_) {
    result_.root_reaped = true;
    result_.root_status = status;
  }
  auto it = tracees_.find(pid);
  if (it == tracees_.end()) return;  // an untraced orphan we reaped as subreaper
  Tracee& t = it->second;
  FinishPending(t, false, 0);
  wire::ExitRecord r;
  r.tid = pid;
  r.tgid = t.tgid;
  r.ts_ns = clock_->RealtimeNs();
  r.signaled = WIFSIGNALED(status);
  r.status = r.signaled ? WTERMSIG(status) : WEXITSTATUS(status);
  r.core_dumped = r.signaled && WCOREDUMP(status);
  Publish(r);
  tracees_.erase(it);
  PublishSoon();  // users watch for process ends
}

void PtraceLoop::HandleStop(pid_t pid, int status) {
  const int sig = WSTOPSIG(status);
  const int event = status >> 16;
  auto it = tracees_.find(pid);
  if (it == tracees_.end()) {
    // A new child whose first stop beat its parent's fork/clone event. Keep it stopped until
    // that event tells us who it is (HandleNewChild resumes it).
    AddTracee(pid, pid);
    if (result_.kill_reason != KillReason::kNone) kill(pid, SIGKILL);
    return;
  }
  Tracee& t = it->second;
  if (sig == (SIGTRAP | 0x80)) {
    HandleSyscallStop(t);
    Resume(t, 0);  // the hot path: no second lookup (HandleSyscallStop adds no tracee)
  } else if (event == PTRACE_EVENT_STOP) {
    if (IsStoppingSignal(sig)) {
      // Group-stop: hold it like a stopped process (SIGCONT wakes it, and us).
      ptrace(PTRACE_LISTEN, pid, nullptr, nullptr);  // ESRCH: killed meanwhile
    } else {
      Resume(pid, 0);  // the first stop of a new tracee, or the end of a listened group-stop
    }
  } else if (sig == SIGTRAP && event != 0) {
    if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
        event == PTRACE_EVENT_CLONE) {
      HandleNewChild(t, event);
    } else if (event == PTRACE_EVENT_EXEC) {
      HandleExec(pid);
    } else if (event == PTRACE_EVENT_SECCOMP) {
      HandleSyscallStop(t);  // a selected syscall's entry
    }
    Resume(pid, 0);
  } else {
    Resume(pid, sig);  // signal-delivery-stop: deliver the signal unchanged
  }
}

void PtraceLoop::HandleSyscallStop(Tracee& t) {
  __ptrace_syscall_info info;
  if (ptrace(PTRACE_GET_SYSCALL_INFO, t.tid, sizeof info, &info) <= 0) return;
  // A seccomp stop carries the entry's number and arguments at the same place.
  if (info.op == PTRACE_SYSCALL_INFO_ENTRY || info.op == PTRACE_SYSCALL_INFO_SECCOMP) {
    const uint64_t now = clock_->MonotonicNs();
    wire::SyscallRecord& r = t.pending;
    r.tid = t.tid;
    r.tgid = t.tgid;
    r.nr = static_cast<int32_t>(info.entry.nr);
    for (int i = 0; i < 6; ++i) r.args[i] = info.entry.args[i];
    r.entry_ns = clock_->ToRealtimeNs(now);
    r.action = wire::Action::kAllow;
    r.captures.clear();
    t.entry_mono_ns = now;
    t.in_syscall = true;
    int denied_errno = 0;
    const CaptureSpec& spec = CapturesFor(r.nr);
    for (uint8_t i = 0; i < spec.count; ++i) {
      const ArgCapture& c = spec.items[i];
      CopiedBytes copy;
      if (c.kind == wire::CaptureKind::kString) {
        copy = ReadString(t.tid, r.args[c.arg], kMaxPath);
      } else if (c.kind == wire::CaptureKind::kSockaddr) {
        const uint64_t len = r.args[c.arg + 1] < kMaxSockaddr ? r.args[c.arg + 1] : kMaxSockaddr;
        if (r.args[c.arg] == 0 || len == 0) continue;  // sendto on a connected socket
        copy = ReadBytes(t.tid, r.args[c.arg], len);
      } else {
        copy = ReadStringArray(t.tid, r.args[c.arg], kMaxArgvItems, kMaxArgvBytes);
      }
      r.captures.push_back({c.arg, c.kind, copy.truncated, std::move(copy.bytes)});
    }
    if (options_.seccomp_stops && options_.seccomp &&
        (denied_errno = launcher::DeniedErrno(*options_.seccomp, r.nr, r.args)) != 0) {
      Cancel(t, denied_errno);  // layer 7 hands its denials to us under --trace
      if (denied_errno != EPERM) r.action = wire::Action::kAllow;  // clone3's ENOSYS
    } else if (options_.seccomp && launcher::IsDeniedByFilter(*options_.seccomp, r.nr, r.args)) {
      r.action = wire::Action::kDeny;  // the kernel's seccomp filter answers EPERM
    } else if (options_.deny_later_execs && command_exec_done_ &&
               (r.nr == SYS_execve || r.nr == SYS_execveat)) {
      Cancel(t, EPERM);  // no pointer contents involved: any execve after the command's own
    } else if (options_.max_tasks != 0 && tracees_.size() >= options_.max_tasks &&
               (r.nr == SYS_fork || r.nr == SYS_vfork || r.nr == SYS_clone)) {
      Cancel(t, EAGAIN);  // as fork(2) fails at RLIMIT_NPROC
    } else if (options_.log_only.Has(r.nr)) {
      r.action = wire::Action::kLogOnly;
    }
    if (r.nr == SYS_clone) {
      t.clone_flags = r.args[0];
    } else if (r.nr == SYS_clone3) {
      CopiedBytes flags = ReadBytes(t.tid, r.args[0], sizeof(uint64_t));
      t.clone_flags = 0;
      if (!flags.truncated) memcpy(&t.clone_flags, flags.bytes.data(), sizeof t.clone_flags);
    } else {
      t.clone_flags = 0;
    }
  } else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
    int64_t ret = info.exit.rval;
    if (options_.landlock_exec_denials && command_exec_done_ && ret == -EACCES &&
        (t.pending.nr == SYS_execve || t.pending.nr == SYS_execveat)) {
      t.pending.action = wire::Action::kDeny;  // Landlock refused a program outside allow_exec
      t.skip_errno = EPERM;
    }
    if (t.skip_errno != 0) {
      ret = -t.skip_errno;
      t.skip_errno = 0;
      ptrace(PTRACE_POKEUSER, t.tid, offsetof(user_regs_struct, rax),
             reinterpret_cast<void*>(static_cast<long>(ret)));
    }
    FinishPending(t, true, ret);
    if (t.exec_pending) {
      t.exec_pending = false;
      Publish(t.exec);
      PublishSoon();
    }
  }
}

// Cancels the syscall at its entry stop (syscall number -1, so the kernel skips it) and makes
// it fail with `error` at its exit stop; the record says `deny`.
void PtraceLoop::Cancel(Tracee& t, int error) {
  t.pending.action = wire::Action::kDeny;
  if (ptrace(PTRACE_POKEUSER, t.tid, offsetof(user_regs_struct, orig_rax),
             reinterpret_cast<void*>(-1L)) == 0) {
    t.skip_errno = error;
  }
}

void PtraceLoop::HandleNewChild(Tracee& parent, int event) {
  unsigned long msg = 0;
  if (ptrace(PTRACE_GETEVENTMSG, parent.tid, nullptr, &msg) != 0) return;
  const pid_t child = static_cast<pid_t>(msg);
  const bool thread = event == PTRACE_EVENT_CLONE && (parent.clone_flags & CLONE_THREAD) != 0;
  const pid_t parent_tid = parent.tid;
  const pid_t tgid = thread ? parent.tgid : child;
  const bool stopped_already = tracees_.count(child) > 0;
  Tracee& t = AddTracee(child, tgid);  // may rehash: `parent` is invalid from here on
  Publish(wire::SpawnRecord{child, tgid, parent_tid, thread, clock_->RealtimeNs()});
  if (result_.kill_reason != KillReason::kNone) kill(child, SIGKILL);
  // Its first stop (PTRACE_EVENT_STOP) was held: release it. Otherwise that stop resumes it.
  if (stopped_already) Resume(t.tid, 0);
}

void PtraceLoop::HandleExec(pid_t pid) {
  unsigned long msg = 0;
  ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &msg);
  const pid_t former = msg != 0 ? static_cast<pid_t>(msg) : pid;
  if (former != pid) {
    // A non-leader thread exec'd: it takes over the leader's tid. The old leader is gone
    // (superseded); a syscall it was blocked in never returns.
    auto leader = tracees_.find(pid);
    if (leader != tracees_.end()) FinishPending(leader->second, false, 0);
    auto execing = tracees_.find(former);
    if (execing != tracees_.end()) {
      Tracee moved = std::move(execing->second);
      tracees_.erase(execing);
      moved.tid = pid;
      tracees_[pid] = std::move(moved);
    }
  }
  Tracee& t = tracees_[pid];
  t.tid = pid;
  t.tgid = pid;
  command_exec_done_ = true;
  t.exec_pending = true;
  const std::string proc = "/proc/" + std::to_string(pid);
  std::string comm = CommOfExec(t.pending);
  if (comm.empty()) comm = ReadSmallFile(proc + "/comm");
  t.exec = wire::ExecRecord{pid, former, clock_->RealtimeNs(), ReadLink(proc + "/exe"),
                            std::move(comm)};
}

}  // namespace sandtrace::tracer
