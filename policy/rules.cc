#include "policy/rules.h"

#include <algorithm>

#include "common/glob.h"

namespace sandtrace::policy {
namespace {

using Strings = std::vector<std::string>;

void AddExpanded(const Strings& patterns, const std::string& home, Strings* out) {
  for (const std::string& pattern : patterns) {
    std::string expanded = ExpandHome(pattern, home);
    if (expanded.empty()) continue;
    if (std::find(out->begin(), out->end(), expanded) == out->end()) {
      out->push_back(std::move(expanded));
    }
  }
}

const PolicyRule* FindRule(const Policy& policy, const std::string& id) {
  for (const PolicyRule& rule : policy.rules) {
    if (rule.id == id) return &rule;
  }
  return nullptr;
}

}  // namespace

std::vector<RuleSpec> DefaultRules() { return sandtrace::DefaultRules(); }

std::string MergeRule(const PolicyRule& from, RuleSpec* rule) {
  rule->id = from.id;
  if (from.kind && *from.kind != rule->kind) {
    // A different kind makes the built-in's kind-specific keys meaningless.
    rule->kind = *from.kind;
    rule->paths.clear();
    rule->syscalls.clear();
    rule->access = "any";
  }
  if (from.severity) rule->severity = *from.severity;
  if (from.message) rule->message = *from.message;
  if (from.access) rule->access = *from.access;
  if (from.paths) rule->paths = *from.paths;
  if (from.syscalls) rule->syscalls = *from.syscalls;
  if (rule->kind.empty()) return "kind: required for a rule that is not built in";
  return RuleSpecError(*rule);
}

std::vector<RuleSpec> EffectiveRules(const Policy& policy) {
  const std::vector<RuleSpec> defaults = DefaultRules();
  std::vector<RuleSpec> rules;
  for (const PolicyRule& from : policy.rules) {
    const bool built_in = std::any_of(defaults.begin(), defaults.end(),
                                      [&](const RuleSpec& d) { return d.id == from.id; });
    if (built_in || !from.enabled) continue;
    RuleSpec rule;
    MergeRule(from, &rule);
    rules.push_back(std::move(rule));
  }
  for (RuleSpec rule : defaults) {
    const PolicyRule* from = FindRule(policy, rule.id);
    if (from != nullptr && !from->enabled) continue;
    if (from != nullptr) MergeRule(*from, &rule);
    rules.push_back(std::move(rule));
  }
  return rules;
}

AnalysisConfig BuildAnalysisConfig(const Policy& policy, const std::string& policy_name,
                                   const std::string& home, const std::string& cwd,
                                   const std::vector<std::string>& allow_paths) {
  AnalysisConfig config;
  config.policy = policy_name;
  config.cwd = cwd;
  for (RuleSpec rule : EffectiveRules(policy)) {
    Strings paths;
    AddExpanded(rule.paths, home, &paths);
    if (rule.kind == "file" && paths.empty()) continue;  // only "~" with no home: matches nothing
    rule.paths = std::move(paths);
    config.rules.push_back(std::move(rule));
  }
  AddExpanded(policy.filesystem.allow_exec, home, &config.allow_exec);
  AddExpanded(policy.filesystem.allow_write, home, &config.write_allowed);
  Strings directories;
  for (const std::string& path : allow_paths) directories.push_back(GlobEscape(path));
  AddExpanded(directories, "", &config.write_allowed);
  AddExpanded(AlwaysWritable(), home, &config.write_allowed);
  return config;
}

}  // namespace sandtrace::policy
