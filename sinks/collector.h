// `sandtrace collect --listen ENDPOINT -o runs.db [-o runs.jsonl ...]`: a long-lived process
// (sandtrace-collector) that receives the event streams of many runs at once, from
// `sandtrace run --publish ENDPOINT` on any number of hosts (publisher.h), and writes them all
// into one SQLite database and optional JSONL files.
//
// Analysis stays with each run (its policy, rules and working directories are there); the
// collector does per run what a local sink process does (an EventStream per run: gap events,
// the summary last, a fallback summary for a run that never ends) and keeps the outputs
// consistent across runs and restarts:
// - A ZeroMQ ROUTER socket takes messages from every publisher; each carries its run id, host
//   and sequence number (wire::RemoteHeader). Messages of a run are processed strictly in
//   order: an old one (already committed) is acknowledged again and dropped, a later one is
//   dropped with a request to resend from the one expected.
// - One SQLite transaction covers all runs. At each commit (every kCollectorCommitMs of
//   activity, kCommitRows rows, or a pause) the JSONL files are written out first, then each
//   run's next expected message and each JSONL file's size go into the tables `streams` and
//   `collector_files` in the same transaction, and only after COMMIT are the publishers
//   acknowledged. A collector killed at any point restarts from its last commit: JSONL files
//   are cut back to their committed size and the publishers resend the rest.
// - Loss the publisher reports (from the analyser, or messages it no longer holds) becomes a
//   `gap` event of its run ("analyzer->sink" / "publisher->collector").
// - A run whose publisher sends nothing for `abandon_after_s` is finished with a fallback
//   summary ("incomplete": true). SIGINT/SIGTERM commit and stop; unfinished runs stay open in
//   the database and continue when their publishers resend.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace sandtrace::sinks {

inline constexpr int kCollectorCommitMs = 100;
inline constexpr int kCollectorAbandonAfterS = 600;

struct CollectorOptions {
  std::string listen;                    // ZeroMQ endpoint to bind, e.g. tcp://0.0.0.0:7300
  std::string database;                  // the SQLite output (required: it holds the progress)
  std::vector<std::string> jsonl;        // JSONL outputs, appended to
  int abandon_after_s = kCollectorAbandonAfterS;  // 0: never
  bool quiet = false;                    // no line per finished run on stderr
};

// Parses `sandtrace collect` arguments (after "collect"); usage errors name the problem.
// Sets *help when -h/--help was given.
Result<CollectorOptions> ParseCollectorOptions(const std::vector<std::string>& args, bool* help);
const char* CollectorUsage();

// Runs the collector until SIGINT/SIGTERM; returns the exit status (0 after a clean stop, 1
// when an output failed or the endpoint could not be bound).
int RunCollector(const CollectorOptions& options);

}  // namespace sandtrace::sinks
