#include "cli/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "cli/path_patterns.h"
#include "cli/sandbox_plan.h"
#include "cli/stage.h"
#include "common/analysis_config.h"
#include "common/endpoint_dir.h"
#include "common/ready_pipe.h"
#include "policy/rules.h"

namespace sandtrace::cli {
namespace {

constexpr int kReadyTimeoutMs = 20'000;
constexpr int kGoFdInTracer = 4;
constexpr int kStageNice = 5;  // analyser and sinks: see StageSpec::nice
constexpr auto kGrace = std::chrono::seconds(5);  // before SIGKILL of a stage told to stop

// The signals that stop a run: the wrapper passes them on to the tracer, which kills the tree
// and finishes the trace.
constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

volatile sig_atomic_t g_signal = 0;

void OnSignal(int sig) { g_signal = sig; }
void OnTick(int) {}

void Say(const std::string& message) { fprintf(stderr, "sandtrace: %s\n", message.c_str()); }

std::string RandomRunId() {
  unsigned char bytes[16];
  if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    for (unsigned char& b : bytes) b = static_cast<unsigned char>(rand());
  }
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 15]);
  }
  return id;
}

std::string HostName() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// PATH lookup like execvp; empty when not found.
std::string ResolveCommand(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t pos = 0;
  for (;;) {
    size_t end = dirs.find(':', pos);
    const std::string dir(dirs, pos, end == std::string::npos ? std::string::npos : end - pos);
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + '/' + name;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return {};
}

bool UseColor(const RunOptions& o) {
  if (o.no_color) return false;
  const char* no_color = getenv("NO_COLOR");
  if (no_color && no_color[0] != '\0') return false;
  return isatty(STDERR_FILENO) == 1;
}

// A private directory for the run's ipc endpoints, removed at the end. It stays locked while
// this `sandtrace` lives, so that a later run can tell it from one a killed run left behind.
class RunDirectory {
 public:
  // In the user's runtime directory, else in /dev/shm, else in /tmp: the first two are tmpfs
  // on most systems, where creating and removing the directory costs no disk journal (on
  // ext4 with `discard` the rmdir alone waits about 0.4 ms for the disk).
  Status Create() {
    std::string tmpl;
    const char* bases[] = {getenv("XDG_RUNTIME_DIR"), "/dev/shm", "/tmp"};
    for (const char* base : bases) {
      if (!base || base[0] != '/') continue;
      tmpl = std::string(base) + "/" + kPrefix + "XXXXXX";
      if (mkdtemp(tmpl.data())) {
        base_ = base;
        path_ = tmpl;
        lock_fd_ = LockEndpointDirectory(path_);
        if (lock_fd_ < 0) return ErrnoError("lock " + path_);
        return {};
      }
    }
    return ErrnoError("mkdtemp " + tmpl);
  }
  ~RunDirectory() {
    if (!path_.empty()) RemoveEndpointDirectory(path_);
    if (lock_fd_ >= 0) close(lock_fd_);
  }
  // Removes the run directories that runs killed with SIGKILL (or by the OOM killer) left next
  // to this one: they could not remove their own.
  void RemoveAbandonedSiblings() const {
    if (!base_.empty()) RemoveAbandonedEndpointDirectories(base_, kPrefix, kAbandonedAfterS);
  }
  std::string Endpoint(const std::string& name) const { return "ipc://" + path_ + "/" + name; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  static constexpr const char* kPrefix = "sandtrace-";
  // Far longer than any run takes from its mkdtemp to its lock.
  static constexpr int kAbandonedAfterS = 60;

  std::string base_;
  std::string path_;
  int lock_fd_ = -1;
};

// Where the command starts: the caller's working directory, unless the restricted view hides
// it (below a hidden directory or a private tmpfs, and no bind mount brings it back); then "/", as
// launcher/mount_view.cc does.
std::string CommandWorkingDirectory(const launcher::SandboxConfig& sandbox, const std::string& cwd) {
  if (sandbox.trace_only || cwd.empty()) return cwd;
  for (const auto* list : {&sandbox.writable_paths, &sandbox.visible_paths}) {
    for (const std::string& bound : *list) {
      if (IsUnder(cwd, bound)) return cwd;
    }
  }
  std::vector<std::string> covered = sandbox.hidden_paths;
  covered.insert(covered.end(), {"/tmp", "/run", "/dev/shm"});
  for (const std::string& dir : covered) {
    if (cwd != dir && IsUnder(cwd, dir)) return "/";  // the mount point itself is still there
  }
  return cwd;
}

class Pipeline {
 public:
  // `session_made`: the run already has a session of its own (RunInOwnSession).
  Pipeline(const RunOptions& options, const policy::Policy& policy, const std::string& source,
           bool session_made)
      : options_(options), policy_(policy), policy_source_(source), session_made_(session_made) {}
  int Run();

 private:
  Status OpenOutputs();
  // Starts the sinks and the analyser without waiting: they start up side by side, while the
  // tracer builds the sandbox, and AwaitStages waits for them all.
  Status StartSinks();
  Status LaunchSink(const StageSpec& spec);
  Status StartAnalyzer();
  Status WriteSandboxConfig(const launcher::SandboxConfig& config);
  // What the analyser's reporting rules need: the policy's rules and lists, final paths.
  AnalysisConfig AnalysisPlan(const launcher::SandboxConfig& sandbox) const;
  Status StartTracer(const std::string& executable);
  // Waits for the sinks' and the analyser's handshakes, then tells the tracer to go on (or to
  // give up).
  Status AwaitStages();
  // After a failed start: tells the tracer to give up (it kills the sandbox it built) and
  // waits up to kGrace for it to exit.
  void StopTracerBeforeGo(const std::string& why);
  int Supervise();
  void Reap(pid_t pid, int status);
  void StopUpstreamFirst();
  void KillAll();

  const RunOptions& options_;
  const policy::Policy& policy_;
  const std::string& policy_source_;
  const bool session_made_;
  RunDirectory dir_;
  std::string run_id_ = RandomRunId();
  std::vector<int> jsonl_fds_;  // per output (-1 for non-JSONL)
  std::vector<std::string> sink_endpoints_;
  Stage tracer_;
  Stage analyzer_;
  std::vector<Stage> sinks_;
  std::vector<int> sink_ready_fds_;  // per sink, its handshake until AwaitStages
  int analyzer_ready_fd_ = -1;  // the analyser's handshake, until AwaitStages
  int go_fd_ = -1;              // the tracer's go pipe, until AwaitStages
  bool aborting_ = false;
  std::string abort_reason_;
  // When the current upstream-most stage was told to stop (for SIGKILL escalation).
  pid_t stopping_pid_ = -1;
  std::chrono::steady_clock::time_point stopping_since_;
};

Status Pipeline::OpenOutputs() {
  for (const Output& out : options_.outputs) {
    int fd = -1;
    if (out.kind == OutputKind::kJsonl) {
      if (out.path == "-") {
        fd = dup(STDOUT_FILENO);
      } else {
        // O_NOCTTY: as the leader of the run's session (RunInOwnSession) we would otherwise
        // make a terminal given as an output the session's controlling terminal.
        fd = open(out.path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
          close(fd);
          errno = EISDIR;
          fd = -1;
        }
      }
      if (fd < 0) return ErrnoError("cannot write --output " + out.path);
    }
    jsonl_fds_.push_back(fd);
  }
  return {};
}

Status Pipeline::StartSinks() {
  for (size_t i = 0; i < options_.outputs.size(); ++i) {
    const Output& out = options_.outputs[i];
    StageSpec spec;
    spec.args = {"--in", dir_.Endpoint("sink-" + std::to_string(i))};
    if (out.kind == OutputKind::kJsonl) {
      spec.name = "JSONL output " + out.path;
      spec.binary = "sandtrace-sink-jsonl";
      spec.fds.emplace_back(jsonl_fds_[i], 4);
      spec.args.insert(spec.args.end(), {"--fd", "4"});
      // Opened without O_TRUNC (OpenOutputs): the sink empties the file once the run starts,
      // off the start-up path (JsonlSink::Begin).
      if (out.path != "-") spec.args.push_back("--empty");
    } else {
      spec.name = "SQLite output " + out.path;
      spec.binary = "sandtrace-sink-sqlite";
      spec.args.insert(spec.args.end(), {"--path", out.path});
    }
    spec.nice = kStageNice;
    sink_endpoints_.push_back(spec.args[1]);
    if (Status s = LaunchSink(spec); !s) return s;
  }
  for (size_t i = 0; i < options_.publish.size(); ++i) {
    const std::string& to = options_.publish[i];
    StageSpec spec{"collector " + to, "sandtrace-sink-publish",
                   {"--in", dir_.Endpoint("publish-" + std::to_string(i)), "--to", to,
                    "--run-id", run_id_, "--host", HostName()}};
    spec.nice = kStageNice;
    sink_endpoints_.push_back(spec.args[1]);
    if (Status s = LaunchSink(spec); !s) return s;
  }
  if (options_.verbosity > 0) {
    StageSpec spec{"terminal view", "sandtrace-sink-term",
                   {"--in", dir_.Endpoint("sink-term"), "--verbosity",
                    std::to_string(options_.verbosity)}};
    if (UseColor(options_)) spec.args.push_back("--color");
    sink_endpoints_.push_back(spec.args[1]);
    if (Status s = LaunchSink(spec); !s) return s;
  }
  for (int fd : jsonl_fds_) {
    if (fd >= 0) close(fd);
  }
  jsonl_fds_.clear();
  return {};
}

Status Pipeline::LaunchSink(const StageSpec& spec) {
  int ready_fd = -1;
  Result<Stage> stage = LaunchStage(spec, &ready_fd);
  if (!stage) return stage.error();
  sinks_.push_back(*stage);
  sink_ready_fds_.push_back(ready_fd);
  return {};
}

Status Pipeline::StartAnalyzer() {
  // SIGKILL when the wrapper dies: it could otherwise wait for ever on a sink that has gone.
  StageSpec spec{"analyzer", "sandtrace-analyzer", {"--in", dir_.Endpoint("raw")}, {}, true,
                 SIGKILL, kStageNice};
  for (const std::string& ep : sink_endpoints_) spec.args.insert(spec.args.end(), {"--out", ep});
  spec.args.insert(spec.args.end(), {"--config", dir_.File("analysis")});
  // Without a terminal view the analyser itself prints high and critical alerts on stderr (a
  // sink that decodes every event only for those would cost CPU on every run).
  if (options_.verbosity == 0) spec.args.push_back("--alert-notices");
  if (!options_.analyzers.empty()) {
    spec.args.insert(spec.args.end(), {"--plugin-dir", dir_.path()});
    for (const std::string& command : options_.analyzers) {
      spec.args.insert(spec.args.end(), {"--plugin", command});
    }
  }
  // Not waited for here: the tracer builds the sandbox meanwhile (StartTracer, AwaitStages).
  Result<Stage> stage = LaunchStage(spec, &analyzer_ready_fd_);
  if (!stage) return stage.error();
  analyzer_ = *stage;
  return {};
}

AnalysisConfig Pipeline::AnalysisPlan(const launcher::SandboxConfig& sandbox) const {
  std::vector<std::string> allowed;
  for (const std::string& p : options_.allow_paths) AddUnique(&allowed, CanonicalPath(p));
  const char* home = getenv("HOME");
  char cwd[PATH_MAX] = {};
  if (!getcwd(cwd, sizeof cwd)) cwd[0] = '\0';
  AnalysisConfig config = policy::BuildAnalysisConfig(
      policy_, policy_source_, home ? home : "", CommandWorkingDirectory(sandbox, cwd), allowed);
  if (options_.allow_exec) config.allow_exec.push_back("/**");  // any program may run
  return config;
}

Status Pipeline::WriteSandboxConfig(const launcher::SandboxConfig& config) {
  const std::string path = dir_.File("sandbox");
  const std::string bytes = launcher::SerializeSandboxConfig(config);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("create " + path);
  const bool ok = write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  close(fd);
  if (!ok) return ErrnoError("write " + path);
  return {};
}

Status Pipeline::StartTracer(const std::string& executable) {
  StageSpec spec{"tracer", "sandtrace-tracer", {}, {}, false, SIGKILL};
  spec.args = {"--out",     dir_.Endpoint("raw"),
               "--run-id",  run_id_,
               "--host",    HostName(),
               "--exec",    executable,
               "--timeout", std::to_string(options_.timeout_s),
               std::string("--follow-forks=") + (options_.follow_forks ? "true" : "false")};
  spec.args.insert(spec.args.end(), {"--sandbox", dir_.File("sandbox")});
  // The tracer builds the sandbox while the analyser starts, and lets the command run only
  // after "ok" on this pipe (AwaitStages).
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  spec.fds.emplace_back(go[0], kGoFdInTracer);
  spec.args.insert(spec.args.end(), {"--go-fd", std::to_string(kGoFdInTracer)});
  spec.args.push_back("--");
  spec.args.insert(spec.args.end(), options_.command.begin(), options_.command.end());
  // Started before the sinks: the outputs they are handed must not leak into the sandbox.
  for (int fd : jsonl_fds_) {
    if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  Result<Stage> stage = StartStage(spec, 0);
  close(go[0]);
  if (!stage) {
    close(go[1]);
    return stage.error();
  }
  tracer_ = *stage;
  go_fd_ = go[1];
  return {};
}

Status Pipeline::AwaitStages() {
  // The sinks first, then the analyser (which sends to them); after a failure the others'
  // handshakes are only closed (KillAll ends those stages).
  std::vector<std::pair<Stage*, int>> waiting;
  for (size_t i = 0; i < sinks_.size(); ++i) waiting.emplace_back(&sinks_[i], sink_ready_fds_[i]);
  waiting.emplace_back(&analyzer_, analyzer_ready_fd_);
  sink_ready_fds_.clear();
  analyzer_ready_fd_ = -1;
  Status ready;
  for (auto& [stage, fd] : waiting) {
    if (ready) {
      ready = AwaitStage(stage, fd, kReadyTimeoutMs);
    } else if (fd >= 0) {
      close(fd);
    }
  }
  if (ready) {
    ReportReady(go_fd_);  // "ok": the tracer connects and the command runs
  } else {
    ReportFailure(go_fd_, ready.error().message());  // the tracer kills the sandbox and exits
  }
  go_fd_ = -1;
  return ready;
}

void Pipeline::StopTracerBeforeGo(const std::string& why) {
  if (go_fd_ >= 0) ReportFailure(go_fd_, why);
  go_fd_ = -1;
  const auto deadline = std::chrono::steady_clock::now() + kGrace;
  while (tracer_.running && std::chrono::steady_clock::now() < deadline) {
    int status;
    const pid_t got = waitpid(tracer_.pid, &status, 0);  // EINTR: the tick, look again
    if (got == tracer_.pid) {
      tracer_.running = false;
      tracer_.status = status;
    } else if (got < 0 && errno != EINTR) {
      break;
    }
  }
}

void Pipeline::Reap(pid_t pid, int status) {
  auto ended = [&](Stage& s) {
    if (s.pid != pid || !s.running) return false;
    s.running = false;
    s.status = status;
    const bool clean = WIFEXITED(status) && (&s == &tracer_ || WEXITSTATUS(status) == 0);
    if (!clean && !aborting_) {
      aborting_ = true;
      abort_reason_ = s.name + (WIFSIGNALED(status)
                                    ? std::string(" died of ") + strsignal(WTERMSIG(status))
                                    : " failed with status " + std::to_string(WEXITSTATUS(status)));
    }
    return true;
  };
  if (ended(tracer_) || ended(analyzer_)) return;
  for (Stage& s : sinks_) {
    if (ended(s)) return;
  }
  // Anything else is an orphan of the traced tree re-parented to us: already reaped.
}

// Shuts a broken pipeline down from upstream to downstream: the upstream-most running stage
// (tracer, else analyser, else all sinks together) is told to stop, and killed if it has not
// stopped within kGrace; the next one follows only when it is gone, so each can still drain.
void Pipeline::StopUpstreamFirst() {
  std::vector<Stage*> group;
  if (tracer_.running) {
    group.push_back(&tracer_);
  } else if (analyzer_.running) {
    group.push_back(&analyzer_);
  } else {
    for (Stage& s : sinks_) {
      if (s.running) group.push_back(&s);
    }
  }
  if (group.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  if (stopping_pid_ != group.front()->pid) {
    stopping_pid_ = group.front()->pid;
    stopping_since_ = now;
    for (Stage* s : group) kill(s->pid, SIGTERM);
  } else if (now - stopping_since_ > kGrace) {
    for (Stage* s : group) kill(s->pid, SIGKILL);
  }
}

int Pipeline::Supervise() {
  auto any_running = [&] {
    if (tracer_.running || analyzer_.running) return true;
    for (const Stage& s : sinks_) {
      if (s.running) return true;
    }
    return false;
  };
  int forwarded = 0;
  while (any_running()) {
    if (g_signal != 0 && forwarded != g_signal && tracer_.running) {
      forwarded = g_signal;
      kill(tracer_.pid, g_signal);  // the tracer kills the tree and finishes the trace
    }
    if (aborting_) StopUpstreamFirst();
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;  // a signal or the tick: look at the state again
      break;
    }
    Reap(pid, status);
  }
  // Orphans of the traced tree re-parented to us must not outlive the run.
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  if (aborting_) {
    Say("pipeline failure: " + abort_reason_);
    return 1;
  }
  return WEXITSTATUS(tracer_.status);
}

void Pipeline::KillAll() {
  // Handshakes never awaited (a later stage failed to start) go with their stages.
  for (int fd : sink_ready_fds_) {
    if (fd >= 0) close(fd);
  }
  sink_ready_fds_.clear();
  if (analyzer_ready_fd_ >= 0) close(analyzer_ready_fd_);
  analyzer_ready_fd_ = -1;
  for (Stage* s : {&tracer_, &analyzer_}) {
    if (s->running) kill(s->pid, SIGKILL);
  }
  for (Stage& s : sinks_) {
    if (s.running) kill(s.pid, SIGKILL);
  }
  while (waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
  }
}

int Pipeline::Run() {
  const std::string executable = ResolveCommand(options_.command[0]);
  if (executable.empty()) {
    Say(options_.command[0] + ": command not found");
    return 127;
  }
  Result<launcher::SandboxConfig> sandbox = BuildSandboxConfig(options_, policy_, policy_source_, executable);
  if (!sandbox) {
    Say(sandbox.error().message());
    return 2;
  }
  sandbox->session_made = session_made_;
  if (Status s = OpenOutputs(); !s) {
    Say(s.error().message());
    return 2;
  }
  if (Status s = dir_.Create(); !s) {
    Say(s.error().message());
    return 1;
  }
  if (Status s = WriteSandboxConfig(*sandbox); !s) {
    Say(s.error().message());
    return 1;
  }
  if (Status s = SaveAnalysisConfig(AnalysisPlan(*sandbox), dir_.File("analysis")); !s) {
    Say(s.error().message());
    return 1;
  }
  // Stages must not die of the terminal's Ctrl-C before the tracer finished the trace; the
  // wrapper's own handlers only record the signal.
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnSignal;
  for (int sig : kStopSignals) sigaction(sig, &sa, nullptr);
  sa.sa_handler = OnTick;  // wakes waitpid() so stopping stages can be escalated to SIGKILL
  sigaction(SIGALRM, &sa, nullptr);
  itimerval tick{{0, 250'000}, {0, 250'000}};
  setitimer(ITIMER_REAL, &tick, nullptr);
  // Orphans of a killed tracer's tree come to us, not to init.
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  // The tracer first: it builds the sandbox while the sinks and the analyser start, and lets
  // the command run only after AwaitStages' go.
  Status started = StartTracer(executable);
  if (started) started = StartSinks();
  if (started) started = StartAnalyzer();
  if (started) started = AwaitStages();
  if (!started) {
    Say(started.error().message());
    StopTracerBeforeGo(started.error().message());
    KillAll();
    return 2;
  }
  // While the command runs, not on the way to its start.
  dir_.RemoveAbandonedSiblings();
  return Supervise();
}

volatile sig_atomic_t g_session_child = 0;

// Set by RunInOwnSession for the sandtrace it executes in its child: the outer sandtrace's
// pid. RunPipeline removes it before anything else (the command must not inherit it).
constexpr char kSessionChildVariable[] = "SANDTRACE_SESSION_CHILD";

// True when this process is the child that RunInOwnSession executed: the variable names our
// parent. Removes the variable either way.
bool TakeSessionChildRole() {
  const char* value = getenv(kSessionChildVariable);
  const bool child = value != nullptr && atol(value) == static_cast<long>(getppid());
  unsetenv(kSessionChildVariable);
  // Executed as /proc/self/exe (the very file the parent runs), which would name it "exe".
  if (child) prctl(PR_SET_NAME, "sandtrace");
  return child;
}

void ForwardToSessionChild(int sig) {
  if (g_session_child > 0) kill(g_session_child, sig);
}

// Enforcing: the command must not share the caller's session (SPEC 5: no TIOCSTI into the
// caller's terminal). The session is made here, for the whole run, and not by the command
// alone: Linux puts each session in a scheduling group of its own (autogroups, on by default
// in most distributions' kernels), and a tracer and a tracee in different groups pay for it
// at every stop. On the benchmark VM a fork/exec-heavy script took 1.5-1.7x the time of the
// same run under --trace-only with the command alone in a new session (docs/benchmarks.md,
// 2026-11-30 01:26). So this process stays in the caller's session and process group, where
// the terminal's Ctrl-C and hang-up reach it, and passes them on; a child makes the new
// session and runs the pipeline in it. The command then only leaves our process group.
// Returns sandtrace's exit status: the child's.
//
// The child executes sandtrace again (`argv`) and makes the session in that new image
// (RunPipeline): a process that calls setsid() straight after fork() took forkexec 1.2-1.3x
// the time of the same run made after an exec on the benchmark VM, whatever else it did
// (docs/benchmarks.md, 2026-11-30 04:19). If the exec fails, the child goes on as it is.
int RunInOwnSession(const std::function<int(bool session_made)>& run, char* const* argv) {
  sigset_t stops, old;
  sigemptyset(&stops);
  for (int sig : kStopSignals) sigaddset(&stops, sig);
  sigprocmask(SIG_BLOCK, &stops, &old);  // none is lost before the forwarding is in place
  fflush(nullptr);                       // nothing buffered is written twice
  const pid_t parent = getpid();
  const pid_t child = fork();
  if (child < 0) {
    sigprocmask(SIG_SETMASK, &old, nullptr);
    return run(false);  // the command makes a session of its own
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, nullptr);
    // Our parent's death (SIGKILL) stops the run as sandtrace's own SIGTERM would: the
    // tracer kills the tree and the outputs are finished.
    prctl(PR_SET_PDEATHSIG, SIGTERM);     // kept across the exec
    if (getppid() != parent) _exit(143);  // it died before the line above
    setenv(kSessionChildVariable, std::to_string(parent).c_str(), 1);
    execv("/proc/self/exe", argv);
    unsetenv(kSessionChildVariable);
    const bool made = setsid() >= 0;  // a child of fork never leads a process group
    exit(run(made));
  }
  g_session_child = child;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = ForwardToSessionChild;
  sa.sa_flags = SA_RESTART;
  for (int sig : kStopSignals) sigaction(sig, &sa, nullptr);
  sigprocmask(SIG_SETMASK, &old, nullptr);
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int RunPipeline(const RunOptions& options, const policy::Policy& policy,
                const std::string& policy_source, char* const* argv) {
  const bool session_child = TakeSessionChildRole();
  auto run = [&](bool session_made) {
    return Pipeline(options, policy, policy_source, session_made).Run();
  };
  // --trace-only: the command stays in the caller's session, as under strace: it may use the
  // terminal.
  if (options.trace_only) return run(false);
  if (session_child) return run(setsid() >= 0);  // RunInOwnSession's child, after the exec
  return RunInOwnSession(run, argv);
}

}  // namespace sandtrace::cli
