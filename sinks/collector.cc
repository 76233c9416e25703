#include "sinks/collector.h"

#include <limits.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <unordered_map>
#include <zmq.hpp>

#include "common/malloc_tuning.h"
#include "common/output_kind.h"
#include "common/wire/codec.h"
#include "sinks/event_fields.h"
#include "sinks/event_stream.h"
#include "sinks/jsonl_sink.h"
#include "sinks/sqlite_sink.h"

namespace sandtrace::sinks {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kCollectorUsage[] =
    R"(usage: sandtrace collect --listen ENDPOINT -o FILE.db [-o FILE.jsonl ...] [OPTIONS]

Receives the traces of any number of `sandtrace run --publish ENDPOINT` runs, from any host,
and writes them all into one SQLite database (required: it also holds the collector's
progress) and optionally JSONL files (appended to; every line carries its run_id). Runs until
SIGINT or SIGTERM; a collector that is stopped or killed and started again with the same
outputs continues where its last commit left off, and the runs resend the rest.

Options:
  --listen ENDPOINT     where publishers connect: tcp://ADDRESS:PORT (e.g. tcp://0.0.0.0:7300)
                        or ipc://PATH
  -o, --output FILE     repeatable: exactly one .db/.sqlite/.sqlite3, any .jsonl/.ndjson/.json
  --abandon-after N     finish a run whose publisher sent nothing for N seconds with an
                        incomplete summary (default 600; 0 = never)
  -q, --quiet           no line on stderr per finished run
  -h, --help            this text
)";

constexpr int kMessagesPerTurn = 256;
constexpr int kIdlePollMs = 500;
constexpr char kCollectorStage[] = "publisher->collector";

volatile std::sig_atomic_t g_stop = 0;

void OnStop(int) { g_stop = 1; }

void Say(const std::string& message) {
  std::fprintf(stderr, "sandtrace collect: %s\n", message.c_str());
}

// What a run's EventStream writes to: the shared database (the run's own SqliteSink in the
// shared store) and every JSONL file, each line tagged with the run id.
class RunOutputs : public Sink {
 public:
  RunOutputs(std::unique_ptr<SqliteSink> db, std::vector<JsonlSink*> jsonl, std::string run_id)
      : db_(std::move(db)), jsonl_(std::move(jsonl)), run_id_(std::move(run_id)) {}

  Status Write(const msgpack::object& event) override {
    if (Status s = db_->Write(event); !s) return s;
    for (JsonlSink* j : jsonl_) {
      if (Status s = j->Write(event, run_id_); !s) return s;
    }
    return {};
  }
  Status Flush() override { return {}; }  // the collector commits for every run at once
  Status Close() override { return db_->Close(); }

 private:
  std::unique_ptr<SqliteSink> db_;
  std::vector<JsonlSink*> jsonl_;
  std::string run_id_;
};

struct Run {
  std::string run_id;
  std::string host;
  uint64_t next_seq = 0;    // the message expected next
  uint64_t next_index = 0;  // the event index expected next
  uint64_t durable_seq = 0; // what the last commit holds
  bool finished = false;
  bool failed = false;      // an output refused its events: the rest is acknowledged, not kept
  bool dirty = false;       // changed since the last commit
  std::string reply_to;     // ROUTER identity of the publisher's latest message
  Clock::time_point last_message = Clock::now();
  std::unique_ptr<RunOutputs> outputs;
  std::unique_ptr<EventStream> stream;
};

class Collector {
 public:
  explicit Collector(const CollectorOptions& options) : options_(options) {}

  Status Open();
  // Receives and commits until told to stop; returns an output failure.
  Status Loop();
  // Commits what is pending and reports the runs still open.
  Status Stop();

 private:
  Status Prepare();
  // Loads the runs the database has open (a restart) so that their publishers can resume and
  // idle ones are abandoned in time.
  Status ResumeOpenRuns();
  Result<Run*> NewRun(const std::string& run_id, const std::string& host, bool resume,
                      uint64_t next_seq, uint64_t next_index);
  // Receives one message if there is one: false when none was waiting.
  Result<bool> ReceiveOne();
  Status Handle(const std::string& identity, const wire::RemoteHeader& header,
                zmq::message_t&& body);
  // The run of `header`, loading it from the database if needed; nullptr for a finished run
  // (acknowledged again here).
  Result<Run*> FindRun(const std::string& identity, const wire::RemoteHeader& header);
  void Finish(Run* run, std::string_view reason);
  void Fail(Run* run, const Error& error);
  void Reply(const std::string& identity, const std::string& run_id, uint64_t durable,
             uint64_t wanted, bool resend);
  Status Commit();
  void AbandonIdleRuns();
  // One line on stderr: the run's outcome as the database has it.
  void ReportFinished(const Run& run);

  const CollectorOptions& options_;
  std::shared_ptr<SqliteStore> store_;
  std::vector<std::unique_ptr<JsonlSink>> jsonl_;
  std::vector<std::string> jsonl_keys_;  // canonical paths, the key in collector_files
  Statement find_stream_;
  Statement save_stream_;
  Statement find_file_;
  Statement save_file_;
  Statement run_summary_;
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::unordered_map<std::string, std::unique_ptr<Run>> runs_;
  std::unordered_map<std::string, uint64_t> finished_;  // run id -> its last seq + 1
  bool dirty_ = false;
  Clock::time_point dirty_since_;
  uint64_t finished_count_ = 0;
};

Status Collector::Prepare() {
  Database* db = store_->db();
  const std::pair<Statement*, const char*> all[] = {
      {&find_stream_,
       "SELECT host, next_seq, next_index, finished FROM streams WHERE run_id = ?1"},
      {&save_stream_,
       "INSERT OR REPLACE INTO streams (run_id, host, next_seq, next_index, finished, updated) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
      {&find_file_, "SELECT size FROM collector_files WHERE path = ?1"},
      {&save_file_, "INSERT OR REPLACE INTO collector_files (path, size) VALUES (?1, ?2)"},
      {&run_summary_,
       "SELECT outcome, exit_code, total_syscalls, incomplete FROM runs WHERE run_id = ?1"},
  };
  for (const auto& [statement, sql] : all) {
    Result<Statement> prepared = db->Prepare(sql);
    if (!prepared) return prepared.error();
    *statement = std::move(*prepared);
  }
  return {};
}

Status Collector::Open() {
  Result<std::shared_ptr<SqliteStore>> store = SqliteStore::Open(options_.database);
  if (!store) return store.error();
  store_ = std::move(*store);
  if (Status s = Prepare(); !s) return s;
  for (const std::string& path : options_.jsonl) {
    Result<std::unique_ptr<JsonlSink>> sink = JsonlSink::OpenAppend(path);
    if (!sink) return sink.error();
    char resolved[PATH_MAX];
    const std::string key = realpath(path.c_str(), resolved) ? resolved : path;
    // The size at the last commit, if this file was an output before: what follows it is sent
    // again by the publishers.
    find_file_.BindText(1, key);
    Result<bool> row = find_file_.Step();
    if (!row) return row.error();
    const std::optional<uint64_t> committed =
        *row ? std::optional<uint64_t>(static_cast<uint64_t>(find_file_.ColumnInt(0)))
             : std::nullopt;
    find_file_.Reset();
    if (committed) {
      if (Status s = (*sink)->CutBack(*committed); !s) return s;
    }
    jsonl_.push_back(std::move(*sink));
    jsonl_keys_.push_back(key);
  }
  if (Status s = ResumeOpenRuns(); !s) return s;
  try {
    socket_ = zmq::socket_t(context_, zmq::socket_type::router);
    socket_.set(zmq::sockopt::rcvhwm, 64);
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind(options_.listen);
  } catch (const zmq::error_t& e) {
    return Error{e.num(), "cannot listen on " + options_.listen};
  }
  return {};
}

Status Collector::ResumeOpenRuns() {
  Result<Statement> open = store_->db()->Prepare(
      "SELECT run_id, host, next_seq, next_index FROM streams WHERE finished = 0");
  if (!open) return open.error();
  for (;;) {
    Result<bool> row = open->Step();
    if (!row) return row.error();
    if (!*row) break;
    Result<Run*> run = NewRun(open->ColumnText(0), open->ColumnText(1), true,
                              static_cast<uint64_t>(open->ColumnInt(2)),
                              static_cast<uint64_t>(open->ColumnInt(3)));
    if (!run) return run.error();
  }
  if (!runs_.empty()) {
    Say(std::to_string(runs_.size()) + " unfinished run(s) in " + options_.database +
        " continue when their publishers resend");
  }
  return {};
}

Result<Run*> Collector::NewRun(const std::string& run_id, const std::string& host, bool resume,
                               uint64_t next_seq, uint64_t next_index) {
  auto run = std::make_unique<Run>();
  run->run_id = run_id;
  run->host = host;
  run->next_seq = run->durable_seq = next_seq;
  run->next_index = next_index;
  std::unique_ptr<SqliteSink> db = SqliteSink::InStore(store_, run_id, host);
  if (resume) {
    if (Status s = db->Resume(run_id); !s) return s.error();
  }
  std::vector<JsonlSink*> jsonl;
  for (const auto& j : jsonl_) jsonl.push_back(j.get());
  run->outputs = std::make_unique<RunOutputs>(std::move(db), std::move(jsonl), run_id);
  run->stream = std::make_unique<EventStream>(
      run->outputs.get(), [id = run_id](const std::string& message) {
        Say("run " + id + ": " + message);
      });
  run->stream->set_run_id(run_id);
  Run* raw = run.get();
  runs_[run_id] = std::move(run);
  return raw;
}

void Collector::Reply(const std::string& identity, const std::string& run_id, uint64_t durable,
                      uint64_t wanted, bool resend) {
  const std::string ack = wire::EncodeRemoteAck({run_id, durable, wanted, resend});
  try {
    // ROUTER drops a reply to a publisher that is gone; it resends and gets a new one.
    if (socket_.send(zmq::buffer(identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      socket_.send(zmq::buffer(ack), zmq::send_flags::dontwait);
    }
  } catch (const zmq::error_t&) {
  }
}

Result<Run*> Collector::FindRun(const std::string& identity, const wire::RemoteHeader& header) {
  if (auto it = runs_.find(header.run_id); it != runs_.end()) return it->second.get();
  if (auto it = finished_.find(header.run_id); it != finished_.end()) {
    Reply(identity, header.run_id, it->second, it->second, false);
    return static_cast<Run*>(nullptr);
  }
  find_stream_.BindText(1, header.run_id);
  Result<bool> row = find_stream_.Step();
  if (!row) return row.error();
  if (*row && find_stream_.ColumnInt(3) != 0) {
    const auto end = static_cast<uint64_t>(find_stream_.ColumnInt(1));
    find_stream_.Reset();
    finished_[header.run_id] = end;
    Reply(identity, header.run_id, end, end, false);
    return static_cast<Run*>(nullptr);
  }
  find_stream_.Reset();
  // Open runs were all loaded at start; this one is new.
  return NewRun(header.run_id, header.host, false, 0, 0);
}

void Collector::Fail(Run* run, const Error& error) {
  Say("run " + run->run_id + " from " + run->host + ": " + error.message() +
      "; the rest of this run is acknowledged but not recorded");
  run->failed = true;
}

void Collector::Finish(Run* run, std::string_view reason) {
  if (!run->failed) {
    if (Status s = run->stream->Finish(reason); !s) Fail(run, s.error());
  }
  run->finished = true;
  run->dirty = true;
}

Status Collector::Handle(const std::string& identity, const wire::RemoteHeader& header,
                         zmq::message_t&& body) {
  Result<Run*> found = FindRun(identity, header);
  if (!found) return found.error();
  Run* run = *found;
  if (run == nullptr) return {};
  run->last_message = Clock::now();
  run->reply_to = identity;
  if (!header.host.empty()) run->host = header.host;
  if (header.seq < run->next_seq) {  // a resend of what this collector already has
    Reply(identity, run->run_id, run->durable_seq, run->next_seq, false);
    return {};
  }
  if (header.seq > run->next_seq) {
    if (header.oldest_seq <= run->next_seq || header.seq != header.oldest_seq) {
      // Something before this message went missing on the way: ask for it again.
      Reply(identity, run->run_id, run->durable_seq, run->next_seq, true);
      return {};
    }
    // The publisher no longer holds next_seq .. oldest_seq-1: lost for good, say so.
    if (!run->failed) {
      const uint64_t lost_records =
          header.first_index > run->next_index ? header.first_index - run->next_index : 0;
      Status s = run->stream->DeliverGap(lost_records, header.seq - run->next_seq,
                                         kCollectorStage);
      if (!s) Fail(run, s.error());
    }
  }
  if (header.type != wire::MessageType::kHello && !run->failed) {
    wire::Message message;
    message.header = {header.type, header.seq, header.first_index, header.count};
    message.body.Adopt(std::move(body));
    message.lost_records = header.lost_records;
    message.lost_messages = header.lost_messages;
    if (Status s = run->stream->Deliver(message); !s) Fail(run, s.error());
  }
  run->next_seq = header.seq + 1;
  run->next_index = header.first_index + header.count;
  run->dirty = true;
  if (!dirty_) dirty_since_ = Clock::now();
  dirty_ = true;
  if (header.type == wire::MessageType::kEnd) {
    Finish(run, "the run's stream ended without a summary");
  }
  return {};
}

Result<bool> Collector::ReceiveOne() {
  zmq::message_t identity;
  zmq::message_t head;
  zmq::message_t body;
  try {
    if (!socket_.recv(identity, zmq::recv_flags::dontwait)) return false;
    // A ROUTER delivers whole messages: once the first frame is here, so are the others.
    zmq::message_t* frames[] = {&head, &body};
    bool more = identity.more();
    for (zmq::message_t* frame : frames) {
      if (!more) break;
      (void)socket_.recv(*frame);
      more = frame->more();
    }
    zmq::message_t extra;
    while (more) {  // drop frames a newer publisher may add
      (void)socket_.recv(extra);
      more = extra.more();
    }
    if (head.size() == 0) {
      Say("dropping a malformed message (expected a header and a body frame)");
      return true;
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return false;
    return Error{e.num(), "zmq recv on " + options_.listen};
  }
  Result<wire::RemoteHeader> header = wire::DecodeRemoteHeader(head.data(), head.size());
  if (!header) {
    Say("dropping a message: " + header.error().message());
    return true;
  }
  if (Status s = Handle(identity.to_string(), *header, std::move(body)); !s) return s.error();
  return true;
}

Status Collector::Commit() {
  if (!dirty_ && !store_->in_transaction()) return {};
  if (Status s = store_->Begin(); !s) return s;
  for (size_t i = 0; i < jsonl_.size(); ++i) {
    if (Status s = jsonl_[i]->WriteOut(); !s) return s;
    Result<uint64_t> size = jsonl_[i]->FileSize();
    if (!size) return size.error();
    save_file_.BindText(1, jsonl_keys_[i]);
    save_file_.BindInt(2, static_cast<int64_t>(*size));
    if (Status s = save_file_.Run(); !s) return s;
  }
  const std::string now = NowTimestamp();
  for (auto& [id, run] : runs_) {
    if (!run->dirty) continue;
    save_stream_.BindText(1, run->run_id);
    save_stream_.BindText(2, run->host);
    save_stream_.BindInt(3, static_cast<int64_t>(run->next_seq));
    save_stream_.BindInt(4, static_cast<int64_t>(run->next_index));
    save_stream_.BindInt(5, run->finished ? 1 : 0);
    save_stream_.BindText(6, now);
    if (Status s = save_stream_.Run(); !s) return s;
  }
  if (Status s = store_->Commit(); !s) return s;
  // Durable now: tell the publishers, forget finished runs.
  for (auto it = runs_.begin(); it != runs_.end();) {
    Run& run = *it->second;
    if (run.dirty) {
      run.dirty = false;
      run.durable_seq = run.next_seq;
      if (!run.reply_to.empty()) {
        Reply(run.reply_to, run.run_id, run.durable_seq, run.next_seq, false);
      }
    }
    if (!run.finished) {
      ++it;
      continue;
    }
    ++finished_count_;
    if (!options_.quiet) ReportFinished(run);
    finished_[run.run_id] = run.next_seq;
    it = runs_.erase(it);
  }
  dirty_ = false;
  return {};
}

void Collector::ReportFinished(const Run& run) {
  std::string what = "finished";
  run_summary_.BindText(1, run.run_id);
  if (Result<bool> row = run_summary_.Step(); row && *row) {
    what = run_summary_.ColumnText(0) + ", exit " + run_summary_.ColumnText(1) + ", " +
           run_summary_.ColumnText(2) + " syscalls" +
           (run_summary_.ColumnInt(3) != 0 ? ", incomplete" : "");
  }
  run_summary_.Reset();
  Say("run " + run.run_id + " from " + (run.host.empty() ? "?" : run.host) + ": " + what +
      (run.failed ? " (not recorded completely: see above)" : ""));
}

void Collector::AbandonIdleRuns() {
  if (options_.abandon_after_s <= 0) return;
  const auto limit = std::chrono::seconds(options_.abandon_after_s);
  const auto now = Clock::now();
  for (auto& [id, run] : runs_) {
    if (run->finished || now - run->last_message < limit) continue;
    Finish(run.get(), "the publisher sent nothing for " +
                          std::to_string(options_.abandon_after_s) + " s");
    if (!dirty_) dirty_since_ = now;
    dirty_ = true;
  }
}

Status Collector::Loop() {
  auto last_abandon_check = Clock::now();
  while (!g_stop) {
    const bool pending = dirty_ || store_->in_transaction();
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, milliseconds(pending ? kCollectorCommitMs : kIdlePollMs));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) return Error{e.num(), "zmq poll"};
    }
    int received = 0;
    while (received < kMessagesPerTurn && store_->rows() < kCommitRows) {
      Result<bool> got = ReceiveOne();
      if (!got) return got.error();
      if (!*got) break;
      ++received;
    }
    const auto now = Clock::now();
    if (now - last_abandon_check > std::chrono::seconds(1)) {
      AbandonIdleRuns();
      last_abandon_check = now;
    }
    const bool due = received == 0 || store_->rows() >= kCommitRows ||
                     now - dirty_since_ >= milliseconds(kCollectorCommitMs) ||
                     (store_->in_transaction() && store_->age() >= milliseconds(kCollectorCommitMs));
    if ((dirty_ || store_->in_transaction()) && due) {
      if (Status s = Commit(); !s) return s;
    }
  }
  return {};
}

Status Collector::Stop() {
  Status committed = Commit();
  size_t open = 0;
  for (const auto& [id, run] : runs_) open += run->finished ? 0 : 1;
  Say("stopped after " + std::to_string(finished_count_) + " finished run(s)" +
      (open > 0 ? "; " + std::to_string(open) +
                      " run(s) stay open and continue when the collector runs again"
                : ""));
  for (auto& j : jsonl_) (void)j->Close();  // flushed by the commit
  return committed;
}

}  // namespace

const char* CollectorUsage() { return kCollectorUsage; }

Result<CollectorOptions> ParseCollectorOptions(const std::vector<std::string>& args, bool* help) {
  CollectorOptions o;
  *help = false;
  std::vector<std::string> outputs;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool has_value = false;
    if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos) {
      value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
      has_value = true;
    }
    auto take_value = [&]() -> Result<std::string> {
      if (has_value) return value;
      if (i + 1 >= args.size()) return PlainError(arg + " needs a value");
      return args[++i];
    };
    if (arg == "-h" || arg == "--help") {
      *help = true;
      return o;
    }
    if (arg == "-q" || arg == "--quiet") {
      o.quiet = true;
    } else if (arg == "--listen" || arg == "--output" || arg == "-o" || arg == "--abandon-after") {
      Result<std::string> v = take_value();
      if (!v) return v.error();
      if (arg == "--listen") {
        o.listen = *v;
      } else if (arg == "--abandon-after") {
        char* end = nullptr;
        const long n = std::strtol(v->c_str(), &end, 10);
        if (v->empty() || *end != '\0' || n < 0 || n > 365L * 24 * 3600) {
          return PlainError("--abandon-after: '" + *v + "' is not a number of seconds");
        }
        o.abandon_after_s = static_cast<int>(n);
      } else {
        outputs.push_back(*v);
      }
    } else {
      return PlainError("collect: unknown argument '" + args[i] +
                        "' (see: sandtrace collect --help)");
    }
  }
  if (o.listen.empty()) return PlainError("collect: --listen ENDPOINT is required");
  if (o.listen.rfind("tcp://", 0) != 0 && o.listen.rfind("ipc://", 0) != 0) {
    return PlainError("--listen " + o.listen + ": use tcp://ADDRESS:PORT or ipc://PATH");
  }
  for (const std::string& out : outputs) {
    if (out == "-") return PlainError("--output -: the collector writes files only");
    const std::optional<OutputKind> kind = OutputKindOfName(out);
    if (kind == OutputKind::kSqlite) {
      if (!o.database.empty()) {
        return PlainError("--output " + out + ": only one database (already " + o.database + ")");
      }
      o.database = out;
    } else if (kind == OutputKind::kJsonl) {
      for (const std::string& j : o.jsonl) {
        if (j == out) return PlainError("--output " + out + ": given twice");
      }
      o.jsonl.push_back(out);
    } else {
      return PlainError("--output " + out +
                        ": unknown format; use .db, .sqlite or .sqlite3 (SQLite) or .jsonl, "
                        ".ndjson or .json (JSONL)");
    }
  }
  if (o.database.empty()) {
    return PlainError("collect: a database output (-o FILE.db) is required: it also keeps the "
                      "collector's progress");
  }
  return o;
}

int RunCollector(const CollectorOptions& options) {
  struct sigaction action {};
  action.sa_handler = OnStop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  TuneMallocForBatches();

  Collector collector(options);
  if (Status s = collector.Open(); !s) {
    Say(s.error().message());
    return 1;
  }
  std::string outputs = options.database;
  for (const std::string& j : options.jsonl) outputs += ", " + j;
  Say("listening on " + options.listen + "; writing " + outputs);
  Status looped = collector.Loop();
  if (!looped) Say(looped.error().message() + "; stopping (publishers keep what is uncommitted)");
  Status stopped = looped ? collector.Stop() : Status{};
  if (!stopped) Say(stopped.error().message());
  return looped && stopped ? 0 : 1;
}

}  // namespace sandtrace::sinks
