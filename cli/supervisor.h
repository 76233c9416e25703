// `sandtrace run` as a process supervisor: checks the outputs and the command before anything
// runs, starts the tracer (which builds the sandbox meanwhile), the sinks and the analyser
// side by side, lets the command run only once every sink and the analyser answered its
// readiness handshake (the tracer's go), forwards SIGINT/SIGTERM/SIGHUP to the
// tracer, and waits. When a stage dies the pipeline is shut down from upstream to downstream
// (tracer, analyser, sinks) so that each stage can still drain and finish its outputs; the
// tracer's death takes the traced tree with it (PTRACE_O_EXITKILL). An enforcing run does all
// of this in a child that leads a session of its own, shared by every stage and the command;
// the process the caller started stays in the caller's session and passes signals on.
#pragma once

#include <string>

#include "cli/run_options.h"
#include "policy/policy.h"

namespace sandtrace::cli {

// Runs the whole pipeline under `policy` (already merged into `options`, see
// ApplyPolicyToOptions; `policy_source` is its file name or "built-in default"); returns
// sandtrace's exit status. `argv` is sandtrace's own command line: an enforcing run executes
// it again in the child that leads the run's session.
int RunPipeline(const RunOptions& options, const policy::Policy& policy,
                const std::string& policy_source, char* const* argv);

}  // namespace sandtrace::cli
