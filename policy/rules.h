// Reporting rules of a policy: the built-in rules merged with the policy's [[rules]], and the
// AnalysisConfig (common/analysis_config.h) the wrapper hands to the analyser. The analyser
// never sees TOML or the Policy struct; it gets the effective rules with "~" expanded and the
// facts its "exec" and "write_outside" rules compare against.
#pragma once

#include <string>
#include <vector>

#include "common/analysis_config.h"
#include "policy/policy.h"

namespace sandtrace::policy {

// The built-in rules (sandtrace::DefaultRules()), "~" unexpanded.
std::vector<RuleSpec> DefaultRules();

// Applies one [[rules]] table to `rule`, which holds the built-in of the same id or, for a
// new id, a RuleSpec with only the id set. Returns RuleSpecError() of the result ("" = valid).
std::string MergeRule(const PolicyRule& from, RuleSpec* rule);

// The rules in force, in evaluation order: the policy's new rules first (in file order, so that
// they win over the built-ins for file paths both match), then the built-ins, each replaced by
// the policy's override of the same id; rules with enabled = false are left out. "~" is not
// expanded here.
std::vector<RuleSpec> EffectiveRules(const Policy& policy);

// The analyser's configuration for a run of `policy` (named `policy_name` in alerts and the
// config file). `home` expands "~" ("" when unknown: "~/x" then matches x under any
// directory); `cwd` is the command's working directory; `allow_paths` are the --allow-path
// directories, already canonical. write_allowed = filesystem.allow_write + allow_paths +
// AlwaysWritable(); allow_exec = filesystem.allow_exec. Patterns that expand to nothing ("~"
// with no home) are dropped.
AnalysisConfig BuildAnalysisConfig(const Policy& policy, const std::string& policy_name,
                                   const std::string& home, const std::string& cwd,
                                   const std::vector<std::string>& allow_paths);

}  // namespace sandtrace::policy
