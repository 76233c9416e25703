// Reporting rules in policies: [[rules]] parsing, merging with the built-in rules, and the
// AnalysisConfig built for the analyser.
#include "policy/rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/glob.h"

namespace sandtrace::policy {
namespace {

std::string ErrorOf(std::string_view text) {
  Result<Policy> p = ParsePolicy(text, "p.toml");
  EXPECT_FALSE(p.ok()) << text;
  return p.ok() ? "" : p.error().message();
}

Policy Parse(std::string_view text) {
  Result<Policy> p = ParsePolicy(text, "p.toml");
  EXPECT_TRUE(p.ok()) << p.error().message();
  return p.ok() ? *p : Policy{};
}

const RuleSpec* Find(const std::vector<RuleSpec>& rules, std::string_view id) {
  for (const RuleSpec& rule : rules) {
    if (rule.id == id) return &rule;
  }
  return nullptr;
}

std::vector<std::string> Ids(const std::vector<RuleSpec>& rules) {
  std::vector<std::string> ids;
  for (const RuleSpec& rule : rules) ids.push_back(rule.id);
  return ids;
}

TEST(ParseRules, ReadsEveryKey) {
  const Policy p = Parse(R"(
[[rules]]
id = "secrets"
kind = "file"
severity = "critical"
message = "project secrets"
paths = ["~/project/secrets/**", "*.key"]
access = "read"

[[rules]]
id = "tracing"
kind = "syscall"
syscalls = ["ptrace", "process_vm_readv"]
enabled = false
)");
  ASSERT_EQ(p.rules.size(), 2u);
  const PolicyRule& secrets = p.rules[0];
  EXPECT_EQ(secrets.id, "secrets");
  EXPECT_EQ(secrets.kind, "file");
  EXPECT_EQ(secrets.severity, "critical");
  EXPECT_EQ(secrets.message, "project secrets");
  EXPECT_EQ(secrets.paths, (std::vector<std::string>{"~/project/secrets/**", "*.key"}));
  EXPECT_EQ(secrets.access, "read");
  EXPECT_FALSE(secrets.syscalls);
  EXPECT_TRUE(secrets.enabled);
  EXPECT_EQ(p.rules[1].syscalls, (std::vector<std::string>{"ptrace", "process_vm_readv"}));
  EXPECT_FALSE(p.rules[1].enabled);
  EXPECT_FALSE(p.rules[1].severity);
}

TEST(ParseRules, InlineTablesAndEmptyListAreAccepted) {
  EXPECT_EQ(Parse("rules = []\n").rules.size(), 0u);
  EXPECT_EQ(Parse("rules = [{id = \"network_attempt\", severity = \"low\"}]\n").rules.size(), 1u);
}

TEST(ParseRules, Errors) {
  EXPECT_EQ(ErrorOf("rules = 3\n"),
            "p.toml:1:9: rules: expected an array of tables ([[rules]]), found integer");
  EXPECT_EQ(ErrorOf("[rules]\nid = \"x\"\n"),
            "p.toml:1:1: rules: expected an array of tables ([[rules]]), found table");
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"x\"\nkind = \"file\"\npath = [\"/x\"]\n"),
            "p.toml:4:1: rules[0].path: unknown key (expected id, kind, severity, message, "
            "paths, access, syscalls or enabled)");
  EXPECT_EQ(ErrorOf("[[rules]]\nkind = \"network\"\n"), "p.toml:1:1: rules[0].id: missing");
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"Bad-Id\"\n"),
            "p.toml:2:6: rules[0].id: \"Bad-Id\": not a rule id (expected [a-z0-9_]+)");
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"x\"\nkind = \"files\"\n"),
            "p.toml:3:8: rules[0].kind: \"files\": expected file, network, exec, write_outside, "
            "denied or syscall");
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"x\"\nkind = \"network\"\nseverity = \"urgent\"\n"),
            "p.toml:4:12: rules[0].severity: \"urgent\": expected low, medium, high or critical");
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"x\"\nkind = \"file\"\npaths = [\"/a\"]\naccess = \"rw\"\n"),
            "p.toml:5:10: rules[0].access: \"rw\": expected read, write or any");
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"x\"\nkind = \"network\"\nenabled = \"no\"\n"),
            "p.toml:4:11: rules[0].enabled: expected a boolean, found string");
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"x\"\nkind = \"file\"\npaths = \"/a\"\n"),
            "p.toml:4:9: rules[0].paths: expected an array of strings, found string");
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"x\"\nkind = \"file\"\npaths = [\"/a/[b\"]\n"),
            "p.toml:4:10: rules[0].paths: \"/a/[b\": unclosed '['");
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"x\"\nkind = \"syscall\"\nsyscalls = [\"Ptrace\"]\n"),
            "p.toml:4:13: rules[0].syscalls: \"Ptrace\": not a syscall name (expected "
            "[a-z0-9_]+)");
  EXPECT_EQ(ErrorOf("[[rules]]\nid = 7\n"),
            "p.toml:2:6: rules[0].id: expected a string, found integer");
}

TEST(ParseRules, IncompleteRulesNameTheMissingKey) {
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"mine\"\nseverity = \"low\"\n"),
            "p.toml:1:1: rules[0].kind: required for a rule that is not built in");
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"mine\"\nkind = \"file\"\n"),
            "p.toml:1:1: rules[0].paths: required for kind \"file\"");
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"mine\"\nkind = \"syscall\"\n"),
            "p.toml:1:1: rules[0].syscalls: required for kind \"syscall\"");
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"mine\"\nkind = \"network\"\npaths = [\"/x\"]\n"),
            "p.toml:4:9: rules[0].paths: only for kind \"file\"");
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"network_attempt\"\naccess = \"read\"\n"),
            "p.toml:3:10: rules[0].access: only for kind \"file\"");
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"ssh_key\"\npaths = []\n"),
            "p.toml:3:9: rules[0].paths: required for kind \"file\"");
  // A disabled rule of one's own need not be complete.
  EXPECT_EQ(Parse("[[rules]]\nid = \"draft\"\nenabled = false\n").rules.size(), 1u);
}

TEST(ParseRules, DuplicateIds) {
  EXPECT_EQ(ErrorOf("[[rules]]\nid = \"x\"\nkind = \"network\"\n\n[[rules]]\nid = \"x\"\n"
                    "kind = \"denied\"\n"),
            "p.toml:6:6: rules[1].id: \"x\" is defined twice");
}

TEST(EffectiveRules, DefaultsWithoutPolicyRules) {
  EXPECT_EQ(EffectiveRules(Policy{}), DefaultRules());
  EXPECT_EQ(DefaultRules(), sandtrace::DefaultRules());
}

TEST(EffectiveRules, OverridesKeepTheirPlaceAndInheritKeys) {
  const Policy p = Parse(R"(
[[rules]]
id = "network_attempt"
severity = "low"

[[rules]]
id = "ssh_key"
message = "key!"
paths = ["id_*"]

[[rules]]
id = "shell_rc_read"
enabled = false

[[rules]]
id = "mine"
kind = "file"
paths = ["/srv/secret"]
)");
  const std::vector<RuleSpec> rules = EffectiveRules(p);
  const std::vector<RuleSpec> defaults = DefaultRules();
  ASSERT_EQ(rules.size(), defaults.size());  // one added, one removed
  EXPECT_EQ(rules[0].id, "mine");             // new rules come first
  EXPECT_EQ(rules[0].severity, "medium");
  EXPECT_EQ(rules[0].access, "any");
  EXPECT_EQ(Find(rules, "shell_rc_read"), nullptr);
  const RuleSpec* network = Find(rules, "network_attempt");
  ASSERT_NE(network, nullptr);
  EXPECT_EQ(network->severity, "low");
  EXPECT_EQ(network->message, Find(defaults, "network_attempt")->message);
  const RuleSpec* ssh = Find(rules, "ssh_key");
  EXPECT_EQ(ssh->paths, (std::vector<std::string>{"id_*"}));
  EXPECT_EQ(ssh->message, "key!");
  EXPECT_EQ(ssh->severity, "high");
  // The built-ins keep their relative order.
  std::vector<std::string> expected;
  for (const RuleSpec& d : defaults) {
    if (d.id != "shell_rc_read") expected.push_back(d.id);
  }
  std::vector<std::string> ids = Ids(rules);
  ids.erase(ids.begin());
  EXPECT_EQ(ids, expected);
}

TEST(EffectiveRules, ChangingTheKindOfABuiltInDropsItsKindSpecificKeys) {
  const Policy p = Parse("[[rules]]\nid = \"ssh_key\"\nkind = \"syscall\"\nsyscalls = [\"ptrace\"]\n");
  const std::vector<RuleSpec> rules = EffectiveRules(p);
  const RuleSpec* rule = Find(rules, "ssh_key");
  ASSERT_NE(rule, nullptr);
  EXPECT_TRUE(rule->paths.empty());
  EXPECT_EQ(rule->syscalls, (std::vector<std::string>{"ptrace"}));
  EXPECT_EQ(RuleSpecError(*rule), "");
}

TEST(BuildAnalysisConfig, ExpandsHomeAndCollectsTheFacts) {
  Policy p = Parse(R"(
[filesystem]
allow_write = ["/tmp", "~/.cache"]
allow_exec = ["/usr/bin", "~/.local/bin"]

[[rules]]
id = "secrets"
kind = "file"
paths = ["~/.secret/**"]
)");
  const AnalysisConfig config =
      BuildAnalysisConfig(p, "my.toml", "/home/u", "/home/u/project", {"/home/u/project", "/srv/a*"});
  EXPECT_EQ(config.policy, "my.toml");
  EXPECT_EQ(config.cwd, "/home/u/project");
  EXPECT_EQ(config.allow_exec, (std::vector<std::string>{"/usr/bin", "/home/u/.local/bin"}));
  std::vector<std::string> writable = {"/tmp", "/home/u/.cache", "/home/u/project", "/srv/a\\*"};
  for (const std::string& path : AlwaysWritable()) writable.push_back(path);
  EXPECT_EQ(config.write_allowed, writable);
  EXPECT_EQ(Find(config.rules, "secrets")->paths, (std::vector<std::string>{"/home/u/.secret/**"}));
  const std::vector<std::string>& cloud = Find(config.rules, "cloud_credentials")->paths;
  EXPECT_EQ(cloud.front(), "/home/u/.aws");
  EXPECT_EQ(cloud.back(), "**/.aws/credentials");
  for (const RuleSpec& rule : config.rules) {
    EXPECT_EQ(RuleSpecError(rule), "") << rule.id;
    for (const std::string& path : rule.paths) EXPECT_NE(path[0], '~') << rule.id;
  }
  // What the analyser decodes is what was built.
  Result<AnalysisConfig> decoded = DecodeAnalysisConfig(EncodeAnalysisConfig(config));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(*decoded, config);
}

TEST(BuildAnalysisConfig, UnknownHome) {
  Policy p = Parse(R"(
[filesystem]
allow_write = ["~", "/tmp"]

[[rules]]
id = "home_itself"
kind = "file"
paths = ["~"]
)");
  const AnalysisConfig config = BuildAnalysisConfig(p, "p", "", "", {});
  EXPECT_EQ(config.write_allowed.front(), "/tmp");  // "~" alone expands to nothing
  EXPECT_EQ(Find(config.rules, "home_itself"), nullptr);
  EXPECT_EQ(Find(config.rules, "cloud_credentials")->paths.front(), "**/.aws");
}

TEST(BuildAnalysisConfig, TheBuiltInPolicyGivesTheAnalyserDefaults) {
  const AnalysisConfig built = BuildAnalysisConfig(DefaultPolicy(), "default", "", "", {});
  const AnalysisConfig defaults = DefaultAnalysisConfig();
  EXPECT_EQ(built.write_allowed, defaults.write_allowed);
  EXPECT_EQ(built.allow_exec, defaults.allow_exec);
  EXPECT_EQ(Ids(built.rules), Ids(defaults.rules));
  EXPECT_EQ(built, defaults);
}

class ShippedPolicyRules : public ::testing::TestWithParam<const char*> {};

TEST_P(ShippedPolicyRules, BuildAValidAnalysisConfig) {
  const std::string path = std::string(SANDTRACE_POLICIES_DIR) + "/" + GetParam() + ".toml";
  Result<Policy> p = LoadPolicyFile(path);
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_FALSE(p->rules.empty());
  const AnalysisConfig config = BuildAnalysisConfig(*p, path, "/home/u", "/home/u/p", {});
  Result<AnalysisConfig> decoded = DecodeAnalysisConfig(EncodeAnalysisConfig(config));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  for (const std::string& glob : config.allow_exec) EXPECT_EQ(GlobSyntaxError(glob), "");
}

INSTANTIATE_TEST_SUITE_P(All, ShippedPolicyRules,
                         ::testing::Values("strict", "permissive", "npm", "pip", "ci-build"));

TEST(ShippedPolicyRulesContent, WhatEachPolicyChanges) {
  const auto rules = [](const char* name) {
    Result<Policy> p = LoadPolicyFile(std::string(SANDTRACE_POLICIES_DIR) + "/" + name + ".toml");
    EXPECT_TRUE(p.ok());
    return p.ok() ? EffectiveRules(*p) : std::vector<RuleSpec>{};
  };
  EXPECT_EQ(Find(rules("strict"), "network_attempt")->severity, "high");
  EXPECT_NE(Find(rules("strict"), "browser_profile"), nullptr);
  EXPECT_EQ(Find(rules("permissive"), "shell_rc_read"), nullptr);
  EXPECT_EQ(Find(rules("npm"), "network_attempt")->severity, "low");
  const std::vector<std::string> npm_credentials = Find(rules("npm"), "credential_file")->paths;
  EXPECT_EQ(std::count(npm_credentials.begin(), npm_credentials.end(), ".npmrc"), 0);
  EXPECT_NE(Find(rules("pip"), "git_hooks"), nullptr);
  EXPECT_EQ(Find(rules("ci-build"), "network_attempt")->severity, "high");
}

}  // namespace
}  // namespace sandtrace::policy
