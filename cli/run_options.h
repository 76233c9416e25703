// `sandtrace run` command line: parsed once into RunOptions (SPEC section 2). Parsing stops at
// the first argument that is not an option, or after "--": everything from there on is the
// command and its arguments. Errors are usage errors (exit status 2).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/output_kind.h"
#include "common/result.h"

namespace sandtrace::cli {

using sandtrace::OutputKind;

struct Output {
  OutputKind kind = OutputKind::kJsonl;
  std::string path;  // "-" for stdout
};

struct RunOptions {
  std::optional<std::string> policy;
  std::vector<std::string> allow_paths;
  bool allow_net = false;
  bool allow_exec = false;
  std::vector<Output> outputs;
  std::vector<std::string> publish;    // --publish: collector endpoints
  std::vector<std::string> analyzers;  // --analyzer: external analyser commands (sh -c)
  std::string trace;  // --trace: the selection of cli/trace_selection.h ("" = everything)
  int timeout_s = 30;
  bool timeout_given = false;
  bool trace_only = false;
  bool follow_forks = true;
  bool no_color = false;
  int verbosity = 0;
  bool help = false;
  std::vector<std::string> command;
};

// Parses the arguments that follow "run".
Result<RunOptions> ParseRunOptions(const std::vector<std::string>& args);

// The format an output path asks for, from its extension; an error names the accepted ones.
Result<OutputKind> OutputKindFor(const std::string& path);

// Usage text of `sandtrace run`.
const char* RunUsage();

}  // namespace sandtrace::cli
