// st-replay-raw: measures the CPU cost of the analyser and the sinks per event, without ptrace.
//
//   st-replay-raw record FILE [--] COMMAND [ARGS...]
//       Runs COMMAND under the real sandtrace-tracer (trace-only defaults, no sandbox file) and
//       stores every message it sends (hello, raw batches, end) in FILE.
//   st-replay-raw replay FILE [--output OUT]... [--runs N] [--repeat K] [--keep]
//       Starts a real sandtrace-analyzer and one real sink per OUT (.jsonl: sandtrace-sink-jsonl
//       --fd, .db: sandtrace-sink-sqlite --path; default: one JSONL file in a temporary
//       directory), wired as `sandtrace run --trace-only -o OUT...` wires them (same flags,
//       nice 5, the default policy's analysis configuration), plays the tracer's side of the
//       wire protocol from FILE as fast as the pipeline takes it, and reports the user+sys CPU
//       time of each stage (wait4) divided by the number of events written. --repeat K sends the
//       raw batches K times (a K-times longer trace, e.g. to watch memory). One line per run:
//         replay run=1 records=R events=E analyzer_cpu_s=.. sink0_cpu_s=.. cpu_s=.. us_per_event=..
//                analyzer_maxrss_kib=.. sink0_maxrss_kib=.. analyzer_minflt=.. sink0_minflt=..
//                wall_s=.. complete=yes|no
//       `complete` says that the first JSONL output has summary total_syscalls = its syscall lines.
//       Each run's temporary directory (/tmp/st-replay.*: endpoints, analysis configuration,
//       default output) is removed at its end; --keep keeps it and names it on stderr.
//       ST_REPLAY_WRAP_ANALYZER / ST_REPLAY_WRAP_SINK: a command prefix for that stage (profilers).
//
// Recording format: "st-raw-1\n", then per message: type (u8), count (u32), body size (u32),
// body bytes; integers in host byte order. The body is the wire body (docs/wire-format.md).
// The stage binaries are taken from the directory of this executable.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/analysis_config.h"
#include "common/endpoint_dir.h"
#include "common/ready_pipe.h"
#include "common/wire/channel.h"
#include "policy/policy.h"
#include "policy/rules.h"

namespace {

using sandtrace::ErrnoError;
using sandtrace::PlainError;
using sandtrace::Result;
using sandtrace::Status;
namespace wire = sandtrace::wire;

constexpr char kMagic[] = "st-raw-1\n";
constexpr int kReadyTimeoutMs = 20'000;
constexpr int kStageNice = 5;  // as cli/supervisor.cc runs the analyser and the sinks

struct Recorded {
  wire::MessageType type;
  uint32_t count;
  std::string body;
};

std::string BinDirectory() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

// A private directory for one recording or replay (its ipc endpoints, the analysis
// configuration, the default output), removed with everything in it when this goes out of
// scope, on every path, unless kept.
class TempDir {
 public:
  static Result<TempDir> Make() {
    char templ[] = "/tmp/st-replay.XXXXXX";
    if (!mkdtemp(templ)) return ErrnoError("mkdtemp");
    return TempDir(templ);
  }
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)), keep_(other.keep_) {
    other.path_.clear();
  }
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    if (!path_.empty() && !keep_) sandtrace::RemoveEndpointDirectory(path_);
  }
  const std::string& path() const { return path_; }
  void Keep() { keep_ = true; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
  bool keep_ = false;
};

// ---- recording ---------------------------------------------------------------------------

Status WriteRecording(const std::string& path, const std::vector<Recorded>& messages) {
  FILE* f = fopen(path.c_str(), "wb");
  if (!f) return ErrnoError("open " + path);
  fwrite(kMagic, 1, sizeof kMagic - 1, f);
  for (const Recorded& m : messages) {
    const uint8_t type = static_cast<uint8_t>(m.type);
    const uint32_t size = static_cast<uint32_t>(m.body.size());
    fwrite(&type, 1, 1, f);
    fwrite(&m.count, 4, 1, f);
    fwrite(&size, 4, 1, f);
    fwrite(m.body.data(), 1, m.body.size(), f);
  }
  if (fclose(f) != 0) return ErrnoError("write " + path);
  return {};
}

Result<std::vector<Recorded>> ReadRecording(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) return ErrnoError("open " + path);
  std::vector<Recorded> messages;
  char magic[sizeof kMagic - 1];
  bool ok = fread(magic, 1, sizeof magic, f) == sizeof magic &&
            memcmp(magic, kMagic, sizeof magic) == 0;
  while (ok) {
    uint8_t type;
    uint32_t size;
    if (fread(&type, 1, 1, f) != 1) break;  // the end of the file
    Recorded m;
    ok = fread(&m.count, 4, 1, f) == 1 && fread(&size, 4, 1, f) == 1;
    if (!ok) break;
    m.type = static_cast<wire::MessageType>(type);
    m.body.resize(size);
    ok = fread(m.body.data(), 1, size, f) == size;
    messages.push_back(std::move(m));
  }
  fclose(f);
  if (!ok) return PlainError(path + ": not a complete st-replay-raw recording");
  if (messages.empty() || messages.back().type != wire::MessageType::kEnd) {
    return PlainError(path + ": the recording does not end with the tracer's end message");
  }
  return messages;
}

// `name` as execvp would find it (the tracer itself does no PATH search).
std::string FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return name;
}

int Record(const std::string& path, std::vector<std::string> command) {
  command[0] = FindProgram(command[0]);
  Result<TempDir> dir = TempDir::Make();
  if (!dir) return fprintf(stderr, "st-replay-raw: %s\n", dir.error().message().c_str()), 1;
  const std::string endpoint = "ipc://" + dir->path() + "/raw";
  Result<wire::Receiver> receiver = wire::Receiver::Bind(endpoint);
  if (!receiver) {
    fprintf(stderr, "st-replay-raw: %s\n", receiver.error().message().c_str());
    return 1;
  }
  std::vector<std::string> args{BinDirectory() + "/sandtrace-tracer", "--out", endpoint,
                                "--run-id", "replay", "--host", "replay", "--timeout", "0", "--"};
  args.insert(args.end(), command.begin(), command.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t tracer = fork();
  if (tracer == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }
  std::vector<Recorded> messages;
  uint64_t records = 0, lost = 0;
  for (;;) {
    wire::Message message;
    Result<bool> got = receiver->Receive(&message, 1000);
    if (!got) {
      fprintf(stderr, "st-replay-raw: %s\n", got.error().message().c_str());
      break;
    }
    if (!*got) {
      if (waitpid(tracer, nullptr, WNOHANG) == tracer) {
        fprintf(stderr, "st-replay-raw: the tracer exited without an end message\n");
        return 1;
      }
      continue;
    }
    lost += message.lost_records;
    if (message.header.type == wire::MessageType::kRawBatch) records += message.header.count;
    messages.push_back({message.header.type, message.header.count, message.body.Take()});
    if (messages.back().type == wire::MessageType::kEnd) break;
  }
  int status = 0;
  waitpid(tracer, &status, 0);
  if (lost > 0) fprintf(stderr, "st-replay-raw: warning: %llu records lost\n", (unsigned long long)lost);
  if (Status s = WriteRecording(path, messages); !s) {
    fprintf(stderr, "st-replay-raw: %s\n", s.error().message().c_str());
    return 1;
  }
  printf("recorded %llu raw records in %zu messages to %s (command exit status %d)\n",
         (unsigned long long)records, messages.size(), path.c_str(),
         WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}

// ---- replaying -----------------------------------------------------------------------------

struct Process {
  std::string name;
  pid_t pid = -1;
  struct rusage usage {};
  int status = 0;
};

// A command prefix from the environment for stage `name`, split at spaces, for profiling:
// ST_REPLAY_WRAP_ANALYZER for sandtrace-analyzer, ST_REPLAY_WRAP_SINK for the sinks, e.g.
// "valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p".
std::vector<std::string> WrapperOf(const std::string& name) {
  const char* text = getenv(name == "sandtrace-analyzer" ? "ST_REPLAY_WRAP_ANALYZER"
                                                         : "ST_REPLAY_WRAP_SINK");
  std::vector<std::string> words;
  std::string word;
  for (const char* c = text ? text : ""; ; ++c) {
    if (*c == ' ' || *c == '\0') {
      if (!word.empty()) words.push_back(word);
      word.clear();
      if (*c == '\0') break;
    } else {
      word.push_back(*c);
    }
  }
  return words;
}

// Starts BIN with --ready-fd 3 (and `out_fd` as fd 4 when >= 0) at nice 5, as the wrapper does.
Result<Process> Launch(const std::string& name, const std::vector<std::string>& tail, int out_fd,
                       int* ready_fd) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  std::vector<std::string> args = WrapperOf(name);
  args.insert(args.end(), {BinDirectory() + "/" + name, "--ready-fd=3"});
  args.insert(args.end(), tail.begin(), tail.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) {
    setpriority(PRIO_PROCESS, 0, kStageNice);
    const int r = fcntl(ready[1], F_DUPFD_CLOEXEC, 100);
    const int o = out_fd >= 0 ? fcntl(out_fd, F_DUPFD_CLOEXEC, 100) : -1;
    if (r < 0 || dup2(r, 3) < 0) _exit(126);
    if (o >= 0 && dup2(o, 4) < 0) _exit(126);
    execvp(argv[0], argv.data());  // a wrapper ("valgrind") is looked up in PATH
    _exit(127);
  }
  close(ready[1]);
  *ready_fd = ready[0];
  return Process{name, pid};
}

void Reap(Process* p) {
  while (wait4(p->pid, &p->status, 0, &p->usage) < 0 && errno == EINTR) {
  }
}

double CpuSeconds(const struct rusage& u) {
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

bool EndsWith(const std::string& s, const char* suffix) {
  const size_t n = strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// Lines of a JSONL trace, its syscall lines and the summary's total_syscalls (-1: none).
struct JsonlCount {
  uint64_t lines = 0, syscalls = 0;
  long long total_syscalls = -1;
};

JsonlCount CountJsonl(const std::string& path) {
  JsonlCount c;
  FILE* f = fopen(path.c_str(), "r");
  if (!f) return c;
  char* line = nullptr;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, f)) > 0) {
    ++c.lines;
    if (strncmp(line, "{\"event_type\":\"syscall\"", 23) == 0) ++c.syscalls;
    if (strncmp(line, "{\"event_type\":\"summary\"", 23) == 0) {
      const char* t = strstr(line, "\"total_syscalls\":");
      if (t) c.total_syscalls = atoll(t + 17);
    }
  }
  free(line);
  fclose(f);
  return c;
}

struct ReplayOptions {
  std::vector<std::string> outputs;
  int runs = 1;
  int repeat = 1;
  bool keep = false;
};

Status SendAll(const std::vector<Recorded>& messages, const std::string& endpoint, int repeat) {
  Result<wire::Sender> sender = wire::Sender::Connect(endpoint);
  if (!sender) return sender.error();
  for (int k = 0; k < repeat; ++k) {
    for (const Recorded& m : messages) {
      if (m.type != wire::MessageType::kRawBatch && (k > 0 || m.type == wire::MessageType::kEnd)) {
        continue;
      }
      if (Status s = sender->Send(m.type, m.count, m.body.data(), m.body.size()); !s) return s;
    }
  }
  const Recorded& end = messages.back();
  if (Status s = sender->Send(end.type, end.count, end.body.data(), end.body.size()); !s) return s;
  return sender->Close(60'000);
}

int ReplayOnce(const std::vector<Recorded>& messages, const ReplayOptions& options, int run,
               uint64_t records) {
  Result<TempDir> dir = TempDir::Make();
  if (!dir) return fprintf(stderr, "st-replay-raw: %s\n", dir.error().message().c_str()), 1;
  if (options.keep) dir->Keep();
  std::vector<std::string> outputs = options.outputs;
  if (outputs.empty()) outputs.push_back(dir->path() + "/trace.jsonl");

  // The analysis configuration `sandtrace run` writes for the built-in policy.
  char cwd[4096] = {};
  if (!getcwd(cwd, sizeof cwd)) cwd[0] = '\0';
  const char* home = getenv("HOME");
  const sandtrace::AnalysisConfig config = sandtrace::policy::BuildAnalysisConfig(
      sandtrace::policy::DefaultPolicy(), "default", home ? home : "", cwd, {});
  const std::string config_path = dir->path() + "/analysis";
  if (Status s = sandtrace::SaveAnalysisConfig(config, config_path); !s) {
    return fprintf(stderr, "st-replay-raw: %s\n", s.error().message().c_str()), 1;
  }

  std::vector<Process> sinks;
  std::vector<std::string> analyzer_args{"--in", "ipc://" + dir->path() + "/raw"};
  int status = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const std::string endpoint = "ipc://" + dir->path() + "/sink-" + std::to_string(i);
    int out_fd = -1, ready = -1;
    Result<Process> sink = PlainError("");
    if (EndsWith(outputs[i], ".db") || EndsWith(outputs[i], ".sqlite")) {
      sink = Launch("sandtrace-sink-sqlite", {"--in", endpoint, "--path", outputs[i]}, -1, &ready);
    } else {
      out_fd = open(outputs[i].c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (out_fd < 0) return fprintf(stderr, "st-replay-raw: cannot write %s\n", outputs[i].c_str()), 1;
      sink = Launch("sandtrace-sink-jsonl", {"--in", endpoint, "--fd", "4"}, out_fd, &ready);
      close(out_fd);
    }
    if (!sink) return fprintf(stderr, "st-replay-raw: %s\n", sink.error().message().c_str()), 1;
    sinks.push_back(*sink);
    if (Status s = sandtrace::AwaitReady(ready, kReadyTimeoutMs, sink->name); !s) {
      return fprintf(stderr, "st-replay-raw: %s\n", s.error().message().c_str()), 1;
    }
    analyzer_args.insert(analyzer_args.end(), {"--out", endpoint});
  }
  analyzer_args.insert(analyzer_args.end(), {"--config", config_path, "--alert-notices"});
  int ready = -1;
  Result<Process> analyzer = Launch("sandtrace-analyzer", analyzer_args, -1, &ready);
  Status analyzer_ready = analyzer ? sandtrace::AwaitReady(ready, kReadyTimeoutMs,
                                                           "sandtrace-analyzer")
                                   : Status(analyzer.error());
  if (!analyzer_ready) {
    fprintf(stderr, "st-replay-raw: %s\n", analyzer_ready.error().message().c_str());
    for (Process& s : sinks) {
      kill(s.pid, SIGKILL);
      Reap(&s);
    }
    return 1;
  }

  const auto start = std::chrono::steady_clock::now();
  Status sent = SendAll(messages, "ipc://" + dir->path() + "/raw", options.repeat);
  if (!sent) {
    fprintf(stderr, "st-replay-raw: sending: %s\n", sent.error().message().c_str());
    status = 1;
  }
  Reap(&*analyzer);
  for (Process& s : sinks) Reap(&s);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  JsonlCount count;
  for (const std::string& out : outputs) {
    if (!EndsWith(out, ".db") && !EndsWith(out, ".sqlite")) {
      count = CountJsonl(out);
      break;
    }
  }
  double cpu = CpuSeconds(analyzer->usage);
  for (const Process& s : sinks) cpu += CpuSeconds(s.usage);
  const bool complete =
      count.total_syscalls >= 0 && static_cast<uint64_t>(count.total_syscalls) == count.syscalls;
  printf("replay run=%d records=%llu events=%llu syscall_events=%llu analyzer_cpu_s=%.3f", run,
         (unsigned long long)(records * options.repeat), (unsigned long long)count.lines,
         (unsigned long long)count.syscalls, CpuSeconds(analyzer->usage));
  for (size_t i = 0; i < sinks.size(); ++i) printf(" sink%zu_cpu_s=%.3f", i, CpuSeconds(sinks[i].usage));
  printf(" cpu_s=%.3f us_per_event=%.3f analyzer_maxrss_kib=%ld", cpu,
         count.lines ? cpu * 1e6 / count.lines : 0.0, analyzer->usage.ru_maxrss);
  for (size_t i = 0; i < sinks.size(); ++i) printf(" sink%zu_maxrss_kib=%ld", i, sinks[i].usage.ru_maxrss);
  printf(" analyzer_minflt=%ld", analyzer->usage.ru_minflt);
  for (size_t i = 0; i < sinks.size(); ++i) printf(" sink%zu_minflt=%ld", i, sinks[i].usage.ru_minflt);
  printf(" wall_s=%.3f complete=%s\n", wall, complete ? "yes" : "no");
  fflush(stdout);
  for (const Process& p : sinks) {
    if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0) status = 1;
  }
  if (!WIFEXITED(analyzer->status) || WEXITSTATUS(analyzer->status) != 0) status = 1;
  if (status != 0) fprintf(stderr, "st-replay-raw: a stage failed\n");
  if (options.keep) fprintf(stderr, "st-replay-raw: kept %s\n", dir->path().c_str());
  return status;
}

int Replay(const std::string& path, const ReplayOptions& options) {
  Result<std::vector<Recorded>> messages = ReadRecording(path);
  if (!messages) return fprintf(stderr, "st-replay-raw: %s\n", messages.error().message().c_str()), 1;
  uint64_t records = 0;
  for (const Recorded& m : *messages) {
    if (m.type == wire::MessageType::kRawBatch) records += m.count;
  }
  int status = 0;
  for (int run = 1; run <= options.runs; ++run) status |= ReplayOnce(*messages, options, run, records);
  return status;
}

int Usage() {
  fprintf(stderr,
          "usage: st-replay-raw record FILE [--] COMMAND [ARGS...]\n"
          "       st-replay-raw replay FILE [--output OUT]... [--runs N] [--repeat K] [--keep]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Usage();
  const std::string mode = argv[1], file = argv[2];
  signal(SIGPIPE, SIG_IGN);
  if (mode == "record") {
    int i = 3;
    if (i < argc && strcmp(argv[i], "--") == 0) ++i;
    if (i >= argc) return Usage();
    return Record(file, std::vector<std::string>(argv + i, argv + argc));
  }
  if (mode != "replay") return Usage();
  ReplayOptions options;
  for (int i = 3; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--output" && has_value) {
      options.outputs.push_back(argv[++i]);
    } else if (a == "--runs" && has_value) {
      options.runs = atoi(argv[++i]);
    } else if (a == "--repeat" && has_value) {
      options.repeat = atoi(argv[++i]);
    } else if (a == "--keep") {
      options.keep = true;
    } else {
      return Usage();
    }
  }
  if (options.runs < 1 || options.repeat < 1) return Usage();
  return Replay(file, options);
}
