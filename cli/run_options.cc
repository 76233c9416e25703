#include "cli/run_options.h"

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace sandtrace::cli {
namespace {

Result<int> ParseTimeout(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < 0 || v > INT_MAX) {
    return PlainError("--timeout: expected a whole number of seconds (0 = no limit), got '" +
                      text + "'");
  }
  return static_cast<int>(v);
}

Result<bool> ParseBool(const std::string& flag, const std::string& text) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  return PlainError(flag + ": expected true or false, got '" + text + "'");
}

}  // namespace

Result<OutputKind> OutputKindFor(const std::string& path) {
  if (path == "-") return OutputKind::kJsonl;
  if (std::optional<OutputKind> kind = OutputKindOfName(path)) return *kind;
  return PlainError("--output " + path +
                    ": unknown format; use a name ending in .jsonl, .ndjson or .json (JSONL), "
                    ".db, .sqlite or .sqlite3 (SQLite), or - for JSONL on stdout");
}

Result<RunOptions> ParseRunOptions(const std::vector<std::string>& args) {
  RunOptions o;
  size_t i = 0;
  // Value of an option given as "--name VALUE" or "--name=VALUE".
  auto value_of = [&](const std::string& arg, const std::string& name,
                      std::string* out) -> Result<bool> {
    if (arg == name) {
      if (i + 1 >= args.size()) return PlainError(name + " needs a value");
      *out = args[++i];
      return true;
    }
    if (arg.rfind(name + "=", 0) == 0) {
      *out = arg.substr(name.size() + 1);
      return true;
    }
    return false;
  };
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string value;
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.empty() || arg[0] != '-' || arg == "-") break;  // the command starts here
    if (arg == "-h" || arg == "--help") {
      o.help = true;
      return o;
    }
    if (arg == "--allow-net") {
      o.allow_net = true;
    } else if (arg == "--allow-exec") {
      o.allow_exec = true;
    } else if (arg == "--trace-only") {
      o.trace_only = true;
    } else if (arg == "--no-color") {
      o.no_color = true;
    } else if (arg == "--follow-forks") {
      o.follow_forks = true;
    } else if (arg.rfind("--follow-forks=", 0) == 0) {
      Result<bool> b = ParseBool("--follow-forks", arg.substr(15));
      if (!b) return b.error();
      o.follow_forks = *b;
    } else if (arg == "-v" || arg == "-vv" || arg == "-vvv") {
      o.verbosity += static_cast<int>(arg.size()) - 1;
      if (o.verbosity > 3) o.verbosity = 3;
    } else if (arg.rfind("-o", 0) == 0 && arg.size() > 2) {
      o.outputs.push_back({OutputKind::kJsonl, arg.substr(2)});
    } else if (arg == "-o") {
      if (i + 1 >= args.size()) return PlainError("-o needs a value");
      o.outputs.push_back({OutputKind::kJsonl, args[++i]});
    } else if (Result<bool> r = value_of(arg, "--output", &value); !r || *r) {
      if (!r) return r.error();
      o.outputs.push_back({OutputKind::kJsonl, value});
    } else if (Result<bool> r = value_of(arg, "--policy", &value); !r || *r) {
      if (!r) return r.error();
      o.policy = value;
    } else if (Result<bool> r = value_of(arg, "--trace", &value); !r || *r) {
      if (!r) return r.error();
      o.trace = value;
    } else if (Result<bool> r = value_of(arg, "--publish", &value); !r || *r) {
      if (!r) return r.error();
      if (value.rfind("tcp://", 0) != 0 && value.rfind("ipc://", 0) != 0) {
        return PlainError("--publish " + value +
                          ": use tcp://HOST:PORT (or ipc://PATH) of a `sandtrace collect`");
      }
      for (const std::string& p : o.publish) {
        if (p == value) return PlainError("--publish " + value + ": given twice");
      }
      o.publish.push_back(value);
    } else if (Result<bool> r = value_of(arg, "--analyzer", &value); !r || *r) {
      if (!r) return r.error();
      if (value.empty()) return PlainError("--analyzer: empty command");
      o.analyzers.push_back(value);
    } else if (Result<bool> r = value_of(arg, "--allow-path", &value); !r || *r) {
      if (!r) return r.error();
      o.allow_paths.push_back(value);
    } else if (Result<bool> r = value_of(arg, "--timeout", &value); !r || *r) {
      if (!r) return r.error();
      Result<int> t = ParseTimeout(value);
      if (!t) return t.error();
      o.timeout_s = *t;
      o.timeout_given = true;
    } else {
      return PlainError("unknown option " + arg + " (see sandtrace run --help)");
    }
  }
  o.command.assign(args.begin() + static_cast<long>(i), args.end());
  if (!o.trace.empty() && !o.follow_forks) {
    // Untraced children inherit the pre-filter, and with no tracer a selected call fails.
    return PlainError("--trace needs --follow-forks (the default): the children of an untraced "
                      "process would see ENOSYS for every selected syscall");
  }
  if (o.command.empty()) return PlainError("no command given (see sandtrace run --help)");
  bool stdout_taken = false;
  for (size_t a = 0; a < o.outputs.size(); ++a) {
    Output& out = o.outputs[a];
    if (out.path.empty()) return PlainError("--output: empty file name");
    Result<OutputKind> kind = OutputKindFor(out.path);
    if (!kind) return kind.error();
    out.kind = *kind;
    if (out.path == "-") {
      if (stdout_taken) return PlainError("--output -: given twice");
      stdout_taken = true;
    }
    for (size_t b = 0; b < a; ++b) {
      if (o.outputs[b].path == out.path) return PlainError("--output " + out.path + ": given twice");
    }
  }
  return o;
}

const char* RunUsage() {
  return R"(usage: sandtrace run [OPTIONS] [--] COMMAND [ARGS...]

Run COMMAND in the sandbox and record every syscall it makes.

  --policy FILE         TOML policy (default: built-in policy)
  --allow-path PATH     allow read+write access to PATH (repeatable; must exist)
  --allow-net           keep the host network
  --allow-exec          allow COMMAND to execute other programs
  -o, --output FILE     write the trace (repeatable): .jsonl/.ndjson/.json -> JSONL,
                        .db/.sqlite/.sqlite3 -> SQLite (appends a run), - -> JSONL on stdout
  --publish ENDPOINT    also send the trace to a collector (`sandtrace collect --listen
                        ENDPOINT`, e.g. tcp://10.0.0.5:7300; repeatable); it must answer
                        within 5 s or the command does not run
  --analyzer CMD        also run CMD (a shell command) as an external analyser: it receives
                        the events and may send alerts back (repeatable; docs/plugins.md)
  --timeout N           kill the whole process tree after N seconds (default 30; 0 = none)
  --trace CLASSES       trace only these syscalls (like strace -e trace=): a comma list of
                        file, desc, process, network, memory, signal, ipc, ... or syscall
                        names, none or all; a leading ! traces all but those; others never
                        stop the tracer (seccomp pre-filter)
  --trace-only          no enforcement (sandbox layers 6-7 skipped, nothing denied)
  --follow-forks[=BOOL] trace children and threads (default true)
  --no-color            no colours on the terminal (also: NO_COLOR, or stderr not a terminal)
  -v, -vv, -vvv         terminal view on stderr: activity / every syscall / decoded arguments

Exit status: COMMAND's own; 128+N if it died of signal N; 124 timeout; 130/143 interrupted
(SIGINT/SIGTERM); 125 sandbox set-up failed; 126 not executable; 127 not found; 2 usage or
policy error.
)";
}

}  // namespace sandtrace::cli
