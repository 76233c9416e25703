// Turns `sandtrace run` options and the policy (policy/policy.h) into the compiled sandbox
// configuration the tracer receives (launcher/sandbox_config.h): canonical paths, the masks
// for sensitive files, Landlock rules including the command's own executable and its ELF
// interpreter, and the compiled seccomp program. Everything that can be wrong with the user's
// input is found here, before anything runs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/run_options.h"
#include "common/result.h"
#include "launcher/sandbox_config.h"
#include "policy/policy.h"

namespace sandtrace::cli {

// For the policy loader: "" when `name` is an x86-64 syscall, else what is wrong.
std::string UnknownSyscall(std::string_view name);

// Merges the policy into the command-line options as SPEC section 6 says: the policy's
// [limits] timeout applies unless --timeout was given; network.allow = true acts as --allow-net.
void ApplyPolicyToOptions(const policy::Policy& policy, RunOptions* options);

// `policy` is the loaded (or built-in default) policy, `policy_source` its file name for error
// messages, `executable` the resolved path of the command. --allow-path adds to the policy's
// read and write lists. Errors (a missing --allow-path, a path pattern that is not absolute, an
// unknown syscall name) are usage errors.
Result<launcher::SandboxConfig> BuildSandboxConfig(const RunOptions& options,
                                                   const policy::Policy& policy,
                                                   const std::string& policy_source,
                                                   const std::string& executable);

// The interpreters the kernel opens to exec `path`: a script's "#!" interpreter and the
// PT_INTERP of every ELF file in that chain (canonical paths, may be empty).
std::vector<std::string> InterpreterChain(const std::string& path);

// Directories the restricted view hides: every top-level directory but the system ones, and
// scratch or runtime directories below /var.
std::vector<std::string> HiddenDirectories();

// Files and directories named .env or .env.* under `dir` (at most `max_depth` levels down).
std::vector<std::string> FindDotEnvFiles(const std::string& dir, int max_depth);

}  // namespace sandtrace::cli
