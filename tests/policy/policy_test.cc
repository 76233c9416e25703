#include "policy/policy.h"

#include <gtest/gtest.h>

#include <cerrno>

#include <string>
#include <vector>

namespace sandtrace::policy {
namespace {

std::string ErrorOf(std::string_view text) {
  Result<Policy> p = ParsePolicy(text, "p.toml");
  EXPECT_FALSE(p.ok()) << text;
  return p.ok() ? "" : p.error().message();
}

class ShippedPolicy : public ::testing::TestWithParam<const char*> {};

TEST_P(ShippedPolicy, Loads) {
  const std::string path = std::string(SANDTRACE_POLICIES_DIR) + "/" + GetParam() + ".toml";
  Result<Policy> p = LoadPolicyFile(path);
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_FALSE(p->filesystem.allow_read.empty());
  EXPECT_FALSE(p->filesystem.deny.empty());
}

INSTANTIATE_TEST_SUITE_P(All, ShippedPolicy,
                         ::testing::Values("strict", "permissive", "npm", "pip", "ci-build"));

TEST(ShippedPolicyContent, StrictAndPackageManagers) {
  Result<Policy> strict = LoadPolicyFile(SANDTRACE_POLICIES_DIR "/strict.toml");
  ASSERT_TRUE(strict.ok());
  EXPECT_FALSE(strict->network.allow);
  EXPECT_TRUE(strict->filesystem.allow_exec.empty());
  EXPECT_EQ(strict->limits.timeout, 300);
  EXPECT_EQ(strict->limits.memory, uint64_t{1} << 30);
  Result<Policy> npm = LoadPolicyFile(SANDTRACE_POLICIES_DIR "/npm.toml");
  ASSERT_TRUE(npm.ok());
  EXPECT_TRUE(npm->network.allow);
  Result<Policy> ci = LoadPolicyFile(SANDTRACE_POLICIES_DIR "/ci-build.toml");
  ASSERT_TRUE(ci.ok());
  EXPECT_FALSE(ci->network.allow);
}

TEST(ParsePolicy, EmptyFileIsTheBuiltInDefault) {
  Result<Policy> p = ParsePolicy("", "empty.toml");
  ASSERT_TRUE(p.ok()) << p.error().message();
  const Policy d = DefaultPolicy();
  EXPECT_FALSE(p->filesystem.allow_read.empty());
  EXPECT_EQ(p->filesystem.allow_read, d.filesystem.allow_read);
  EXPECT_EQ(p->filesystem.allow_write, d.filesystem.allow_write);
  EXPECT_EQ(p->filesystem.deny, d.filesystem.deny);
  EXPECT_TRUE(p->filesystem.allow_exec.empty());
  EXPECT_FALSE(p->network.allow);
  EXPECT_TRUE(p->syscalls.deny.empty());
  EXPECT_TRUE(p->syscalls.log_only.empty());
  EXPECT_FALSE(p->limits.timeout);
  EXPECT_FALSE(p->limits.max_processes);
  EXPECT_FALSE(p->limits.max_file_size);
  EXPECT_FALSE(p->limits.memory);
}

TEST(ParsePolicy, APresentKeyReplacesTheDefaultList) {
  Result<Policy> p = ParsePolicy("[filesystem]\nallow_read = [\"/usr\"]\ndeny = []\n", "x.toml");
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->filesystem.allow_read, std::vector<std::string>{"/usr"});
  EXPECT_TRUE(p->filesystem.deny.empty());
  EXPECT_EQ(p->filesystem.allow_write, DefaultPolicy().filesystem.allow_write);
}

TEST(ParsePolicy, ReadsEveryField) {
  Result<Policy> p = ParsePolicy(R"(
[filesystem]
allow_read = ["/usr", "~/src/**"]
allow_write = ["/tmp"]
allow_exec = ["/usr/bin/{git,make}"]
deny = ["**/.env.*"]
[network]
allow = true
[syscalls]
deny = ["ptrace", "bpf"]
log_only = ["connect"]
[limits]
timeout = 0
max_processes = 3
max_file_size = 4096
memory = "512M"
)",
                                 "p.toml");
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->filesystem.allow_read, (std::vector<std::string>{"/usr", "~/src/**"}));
  EXPECT_EQ(p->filesystem.allow_exec, (std::vector<std::string>{"/usr/bin/{git,make}"}));
  EXPECT_TRUE(p->network.allow);
  EXPECT_EQ(p->syscalls.deny, (std::vector<std::string>{"ptrace", "bpf"}));
  EXPECT_EQ(p->limits.timeout, 0);
  EXPECT_EQ(p->limits.max_processes, 3);
  EXPECT_EQ(p->limits.max_file_size, 4096u);
  EXPECT_EQ(p->limits.memory, uint64_t{512} << 20);
}

TEST(ParsePolicy, UnknownKeyNamesFileLineColumnAndKey) {
  EXPECT_EQ(ErrorOf("[network]\nallow = true\n  allow_udp = true\n"),
            "p.toml:3:3: network.allow_udp: unknown key (expected allow)");
}

TEST(ParsePolicy, UnknownSection) {
  EXPECT_EQ(ErrorOf("\n[filesytem]\n"),
            "p.toml:2:2: filesytem: unknown section (expected filesystem, network, syscalls, "
            "limits or rules)");
}

TEST(ParsePolicy, WrongType) {
  EXPECT_EQ(ErrorOf("[network]\nallow = \"yes\"\n"),
            "p.toml:2:9: network.allow: expected a boolean, found string");
  EXPECT_EQ(ErrorOf("[filesystem]\nallow_read = \"/usr\"\n"),
            "p.toml:2:14: filesystem.allow_read: expected an array of strings, found string");
  EXPECT_EQ(ErrorOf("[filesystem]\nallow_read = [\"/usr\", 3]\n"),
            "p.toml:2:23: filesystem.allow_read: expected an array of strings, found integer");
  EXPECT_EQ(ErrorOf("[limits]\ntimeout = 1.5\n"),
            "p.toml:2:11: limits.timeout: expected an integer, found floating-point");
  EXPECT_EQ(ErrorOf("network = true\n"), "p.toml:1:11: network: expected a table, found boolean");
}

TEST(ParsePolicy, BadGlob) {
  EXPECT_EQ(ErrorOf("[filesystem]\ndeny = [\"/ok\", \"/etc/[ab\"]\n"),
            "p.toml:2:16: filesystem.deny: \"/etc/[ab\": unclosed '['");
  EXPECT_NE(ErrorOf("[filesystem]\nallow_read = [\"\"]\n").find("empty pattern"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[filesystem]\nallow_exec = [\"/x/{a,b\"]\n").find("unclosed '{'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[filesystem]\nallow_exec = [\"/x/a}\"]\n").find("unmatched '}'"),
            std::string::npos);
}

TEST(CheckGlob, Syntax) {
  EXPECT_EQ(CheckGlob("/usr/**/lib[0-9]*.so"), "");
  EXPECT_EQ(CheckGlob("/a/[]x]"), "");  // ']' first in a class is a member
  EXPECT_EQ(CheckGlob("/a/{b,{c,d}}"), "");
  EXPECT_EQ(CheckGlob("/a/\\["), "");
  EXPECT_EQ(CheckGlob("/a/x]"), "unmatched ']'");
  EXPECT_EQ(CheckGlob("/a/\\"), "trailing backslash");
}

TEST(ParsePolicy, BadSyscallName) {
  EXPECT_EQ(ErrorOf("[syscalls]\ndeny = [\"Ptrace\"]\n"),
            "p.toml:2:9: syscalls.deny: \"Ptrace\": not a syscall name (expected [a-z0-9_]+)");
}

TEST(ParsePolicy, BadSizeAndRange) {
  EXPECT_EQ(ErrorOf("[limits]\nmemory = \"12Q\"\n"),
            "p.toml:2:10: limits.memory: \"12Q\" is not a size (bytes, or a number with K, M, G "
            "or T)");
  EXPECT_NE(ErrorOf("[limits]\nmax_file_size = -1\n").find("limits.max_file_size"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[limits]\nmax_processes = 0\n").find("limits.max_processes: 0 is out of"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[limits]\ntimeout = -5\n").find("limits.timeout"), std::string::npos);
}

TEST(ParseByteSize, Units) {
  EXPECT_EQ(ParseByteSize("0"), 0u);
  EXPECT_EQ(ParseByteSize("100"), 100u);
  EXPECT_EQ(ParseByteSize("2K"), 2048u);
  EXPECT_EQ(ParseByteSize("512M"), uint64_t{512} << 20);
  EXPECT_EQ(ParseByteSize("2G"), uint64_t{2} << 30);
  EXPECT_EQ(ParseByteSize("1t"), uint64_t{1} << 40);
  EXPECT_FALSE(ParseByteSize(""));
  EXPECT_FALSE(ParseByteSize("M"));
  EXPECT_FALSE(ParseByteSize("1.5G"));
  EXPECT_FALSE(ParseByteSize("99999999999T"));
}

TEST(ParsePolicy, TomlSyntaxErrorHasPosition) {
  const std::string error = ErrorOf("[network]\nallow = tru\n");
  EXPECT_EQ(error.rfind("p.toml:2:12: ", 0), 0u) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(LoadPolicyFile, MissingFileIsAnErrnoError) {
  Result<Policy> p = LoadPolicyFile("/nonexistent/policy.toml");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message().find("/nonexistent/policy.toml"), std::string::npos);
}

TEST(LoadPolicyFile, DirectoryIsAnError) {
  Result<Policy> p = LoadPolicyFile("/tmp");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, EISDIR);
}

TEST(ParsePolicy, RelativePathPatternIsRefusedWithPosition) {
  const std::string error = ErrorOf("[filesystem]\nallow_write = [\"/ok\", \"build/out\"]\n");
  EXPECT_EQ(error.rfind("p.toml:2:23: filesystem.allow_write: \"build/out\": ", 0), 0u) << error;
  EXPECT_TRUE(ParsePolicy("[filesystem]\ndeny = [\"~/.x\", \"**/.env\", \"~\"]\n", "p").ok());
}

TEST(ParsePolicy, SyscallNamesAreCheckedByTheCallersTable) {
  const SyscallNameCheck known = [](std::string_view name) {
    return name == "uname" ? std::string() : std::string("no such syscall");
  };
  EXPECT_TRUE(ParsePolicy("[syscalls]\ndeny = [\"uname\"]\n", "p", known).ok());
  Result<Policy> p = ParsePolicy("[syscalls]\nlog_only = [\"uname\", \"nope\"]\n", "p.toml", known);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message(), "p.toml:2:22: syscalls.log_only: \"nope\": no such syscall");
  // Without a table only the shape is checked.
  EXPECT_TRUE(ParsePolicy("[syscalls]\nlog_only = [\"nope\"]\n", "p").ok());
}

TEST(DefaultPolicy, MatchesBuiltInPlan) {
  const Policy p = DefaultPolicy();
  EXPECT_EQ(p.filesystem.allow_read.size(), 14u);
  EXPECT_EQ(p.filesystem.allow_write.size(), 8u);
  EXPECT_TRUE(p.filesystem.allow_exec.empty());
  EXPECT_EQ(p.filesystem.deny.size(), 18u);
  EXPECT_FALSE(p.network.allow);
  for (const auto* list :
       {&p.filesystem.allow_read, &p.filesystem.allow_write, &p.filesystem.deny}) {
    for (const std::string& glob : *list) EXPECT_EQ(CheckGlob(glob), "") << glob;
  }
  const std::string line = DescribePolicy(p);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line,
            "filesystem: 14 read, 8 write, 0 exec, 18 deny; network off; syscalls: 0 deny, "
            "0 log_only; limits: timeout=none max_processes=none max_file_size=none "
            "memory=none");
}

}  // namespace
}  // namespace sandtrace::policy
