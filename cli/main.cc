// sandtrace: the user-facing command. `sandtrace run ...` parses the command line and runs the
// pipeline (cli/supervisor.h), `sandtrace query ...` reads a SQLite output (cli/query.h),
// `sandtrace collect ...` execs the collector (sinks/collector.h); nothing else lives here.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/query.h"
#include "cli/run_options.h"
#include "cli/sandbox_plan.h"
#include "cli/stage.h"
#include "cli/supervisor.h"

namespace {

constexpr char kUsage[] = R"(usage: sandtrace COMMAND ...

Commands:
  run [OPTIONS] [--] PROGRAM [ARGS...]   run PROGRAM sandboxed and traced (see: sandtrace run --help)
  query DB 'SQL' | --report NAME         read-only SQL and reports over a SQLite output
                                         (see: sandtrace query --help)
  collect --listen ENDPOINT -o FILE.db   receive the traces of `run --publish ENDPOINT` runs
                                         (see: sandtrace collect --help)

Options:
  -h, --help      this text
  --version       print the version
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    puts("sandtrace 0.1.0");
    return 0;
  }
  if (args[0] == "query") {
    args.erase(args.begin());
    sandtrace::Result<sandtrace::cli::QueryOptions> query =
        sandtrace::cli::ParseQueryOptions(args);
    if (!query) {
      fprintf(stderr, "sandtrace: %s\n", query.error().message().c_str());
      return 2;
    }
    if (query->help) {
      fputs(sandtrace::cli::QueryUsage(), stdout);
      return 0;
    }
    if (sandtrace::Status s = sandtrace::cli::RunQuery(*query, stdout); !s) {
      fprintf(stderr, "sandtrace: query: %s\n", s.error().message().c_str());
      return 2;
    }
    return 0;
  }
  if (args[0] == "collect") {
    // The collector is its own long-lived process; it parses the arguments itself.
    const std::string binary = sandtrace::cli::StageDirectory() + "/sandtrace-collector";
    std::vector<char*> argv_collect{const_cast<char*>(binary.c_str())};
    for (int i = 2; i < argc; ++i) argv_collect.push_back(argv[i]);
    argv_collect.push_back(nullptr);
    execv(binary.c_str(), argv_collect.data());
    fprintf(stderr, "sandtrace: %s: %s\n", binary.c_str(), strerror(errno));
    return 1;
  }
  if (args[0] != "run") {
    fprintf(stderr, "sandtrace: unknown command '%s'\n%s", args[0].c_str(), kUsage);
    return 2;
  }
  args.erase(args.begin());
  sandtrace::Result<sandtrace::cli::RunOptions> options = sandtrace::cli::ParseRunOptions(args);
  if (!options) {
    fprintf(stderr, "sandtrace: %s\n", options.error().message().c_str());
    return 2;
  }
  if (options->help) {
    fputs(sandtrace::cli::RunUsage(), stdout);
    return 0;
  }
  sandtrace::policy::Policy policy = sandtrace::policy::DefaultPolicy();
  std::string policy_source = "built-in default policy";
  if (options->policy) {
    sandtrace::Result<sandtrace::policy::Policy> loaded =
        sandtrace::policy::LoadPolicyFile(*options->policy, sandtrace::cli::UnknownSyscall);
    if (!loaded) {
      fprintf(stderr, "sandtrace: policy: %s\n", loaded.error().message().c_str());
      return 2;
    }
    policy = *loaded;
    policy_source = *options->policy;
  }
  sandtrace::cli::ApplyPolicyToOptions(policy, &*options);
  return sandtrace::cli::RunPipeline(*options, policy, policy_source, argv);
}
