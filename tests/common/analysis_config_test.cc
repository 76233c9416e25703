// The analyser's run configuration: defaults, MessagePack round trip, strict decoding.
#include "common/analysis_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <msgpack.hpp>
#include <set>

#include "tests/support/temp_dir.h"

namespace sandtrace {
namespace {

AnalysisConfig Sample() {
  AnalysisConfig config;
  config.policy = "policies/npm.toml";
  config.cwd = "/home/u/project";
  config.allow_exec = {"/usr/bin", "**/node_modules/.bin/*"};
  config.write_allowed = {"/tmp", "/home/u/project"};
  RuleSpec file;
  file.id = "secrets";
  file.kind = "file";
  file.severity = "critical";
  file.message = "project secrets";
  file.paths = {"/home/u/project/secrets/**"};
  file.access = "read";
  RuleSpec syscall;
  syscall.id = "tracing";
  syscall.kind = "syscall";
  syscall.syscalls = {"ptrace", "process_vm_readv"};
  config.rules = {file, syscall};
  return config;
}

std::string ErrorOf(const std::string& bytes) {
  Result<AnalysisConfig> config = DecodeAnalysisConfig(bytes);
  EXPECT_FALSE(config.ok());
  return config.ok() ? "" : config.error().message();
}

// `Sample()` encoded, with `edit` applied to the decoded map before re-encoding.
template <typename Edit>
std::string Edited(Edit edit) {
  const std::string bytes = EncodeAnalysisConfig(Sample());
  msgpack::object_handle handle = msgpack::unpack(bytes.data(), bytes.size());
  msgpack::zone& zone = *handle.zone();
  msgpack::object root = handle.get();
  edit(root, zone);
  msgpack::sbuffer out;
  msgpack::pack(out, root);
  return std::string(out.data(), out.size());
}

msgpack::object* Value(msgpack::object& map, std::string_view key) {
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    if (map.via.map.ptr[i].key.as<std::string>() == key) return &map.via.map.ptr[i].val;
  }
  return nullptr;
}

TEST(AnalysisConfig, RoundTrip) {
  const AnalysisConfig config = Sample();
  Result<AnalysisConfig> decoded = DecodeAnalysisConfig(EncodeAnalysisConfig(config));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(*decoded, config);
}

TEST(AnalysisConfig, DefaultsAreValidAndDistinct) {
  std::set<std::string> ids;
  for (const RuleSpec& rule : DefaultRules()) {
    EXPECT_EQ(RuleSpecError(rule), "") << rule.id;
    EXPECT_TRUE(ids.insert(rule.id).second) << rule.id;
    EXPECT_FALSE(rule.message.empty()) << rule.id;
  }
  for (const char* kind : {"file", "network", "exec", "write_outside", "denied"}) {
    bool found = false;
    for (const RuleSpec& rule : DefaultRules()) found |= rule.kind == kind;
    EXPECT_TRUE(found) << kind;
  }
  const AnalysisConfig config = DefaultAnalysisConfig();
  EXPECT_EQ(config.rules.size(), DefaultRules().size());
  Result<AnalysisConfig> decoded = DecodeAnalysisConfig(EncodeAnalysisConfig(config));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(*decoded, config);
  for (const RuleSpec& rule : config.rules) {
    for (const std::string& path : rule.paths) EXPECT_NE(path[0], '~') << rule.id;
  }
}

TEST(AnalysisConfig, RuleSpecErrors) {
  RuleSpec rule;
  rule.id = "Bad-Id";
  rule.kind = "file";
  rule.paths = {"/x"};
  EXPECT_EQ(RuleSpecError(rule), "id: \"Bad-Id\" is not a rule id (expected [a-z0-9_]+)");
  rule.id = "ok";
  rule.kind = "files";
  EXPECT_NE(RuleSpecError(rule).find("kind: \"files\" is not a kind"), std::string::npos);
  rule.kind = "file";
  rule.severity = "urgent";
  EXPECT_NE(RuleSpecError(rule).find("severity: \"urgent\""), std::string::npos);
  rule.severity = "low";
  rule.paths.clear();
  EXPECT_EQ(RuleSpecError(rule), "paths: required for kind \"file\"");
  rule.paths = {"/x/[a"};
  EXPECT_EQ(RuleSpecError(rule), "paths: \"/x/[a\": unclosed '['");
  rule.kind = "network";
  rule.paths.clear();
  rule.access = "write";
  EXPECT_EQ(RuleSpecError(rule), "access: only for kind \"file\"");
  rule.access = "any";
  rule.syscalls = {"connect"};
  EXPECT_EQ(RuleSpecError(rule), "syscalls: only for kind \"syscall\"");
  rule.kind = "syscall";
  rule.syscalls = {"Connect"};
  EXPECT_NE(RuleSpecError(rule).find("not a syscall name"), std::string::npos);
  rule.syscalls = {"connect"};
  EXPECT_EQ(RuleSpecError(rule), "");
}

TEST(AnalysisConfig, DecodeRejectsMalformedInput) {
  EXPECT_EQ(ErrorOf(""), "analysis config: empty");
  EXPECT_NE(ErrorOf("\xc1").find("malformed MessagePack"), std::string::npos);
  EXPECT_NE(ErrorOf("\x92\x01").find("malformed MessagePack"), std::string::npos);  // truncated
  EXPECT_NE(ErrorOf("\xdd\xff\xff\xff\xff").find("malformed MessagePack"), std::string::npos);
  EXPECT_EQ(ErrorOf("\x01"), "analysis config: top level: expected a map");
  const std::string bytes = EncodeAnalysisConfig(Sample());
  EXPECT_EQ(ErrorOf(bytes + "x"), "analysis config: trailing bytes after the object");
  EXPECT_EQ(ErrorOf(Edited([](msgpack::object& root, msgpack::zone&) {
              Value(root, "version")->via.u64 = 2;
            })),
            "analysis config: version: expected 1");
  EXPECT_EQ(ErrorOf(Edited([](msgpack::object& root, msgpack::zone& zone) {
              root.via.map.ptr[1].key = msgpack::object(std::string("polcy"), zone);
            })),
            "analysis config: polcy: unknown key");
  EXPECT_EQ(ErrorOf(Edited([](msgpack::object& root, msgpack::zone&) { --root.via.map.size; })),
            "analysis config: rules: missing");
  EXPECT_EQ(ErrorOf(Edited([](msgpack::object& root, msgpack::zone&) {
              *Value(root, "cwd") = msgpack::object(3);
            })),
            "analysis config: cwd: expected a string");
  EXPECT_EQ(ErrorOf(Edited([](msgpack::object& root, msgpack::zone& zone) {
              msgpack::object& list = *Value(root, "write_allowed");
              list.via.array.ptr[1] = msgpack::object(std::string("/x/{a"), zone);
            })),
            "analysis config: write_allowed[1]: \"/x/{a\": unclosed '{'");
  EXPECT_EQ(ErrorOf(Edited([](msgpack::object& root, msgpack::zone& zone) {
              msgpack::object& rule = Value(root, "rules")->via.array.ptr[0];
              *Value(rule, "severity") = msgpack::object(std::string("urgent"), zone);
            })),
            "analysis config: rules[0].severity: \"urgent\" is not a severity (expected low, "
            "medium, high or critical)");
  EXPECT_EQ(ErrorOf(Edited([](msgpack::object& root, msgpack::zone&) {
              msgpack::object& rule = Value(root, "rules")->via.array.ptr[1];
              *Value(rule, "syscalls") = msgpack::object(true);
            })),
            "analysis config: rules[1].syscalls: expected an array of strings");
}

TEST(AnalysisConfig, DecodeNeverThrowsOnTruncations) {
  const std::string bytes = EncodeAnalysisConfig(Sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeAnalysisConfig(bytes.substr(0, n)).ok()) << n;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
    (void)DecodeAnalysisConfig(flipped);  // must return, whatever it returns
  }
}

TEST(AnalysisConfig, SaveAndLoad) {
  test_support::TempDir dir("/tmp/analysis_config_test.XXXXXX");
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.File("config.msgpack");
  ASSERT_TRUE(SaveAnalysisConfig(Sample(), path).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<AnalysisConfig> loaded = LoadAnalysisConfig(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(*loaded, Sample());
  ASSERT_EQ(truncate(path.c_str(), 3), 0);
  Result<AnalysisConfig> broken = LoadAnalysisConfig(path);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().message().rfind(path + ": analysis config: ", 0), 0u);
  Result<AnalysisConfig> missing = LoadAnalysisConfig(dir.File("none"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("No such file"), std::string::npos);
  EXPECT_FALSE(SaveAnalysisConfig(Sample(), dir.File("no/such/dir")).ok());
}

}  // namespace
}  // namespace sandtrace
