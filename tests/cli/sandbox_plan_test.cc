#include "cli/sandbox_plan.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace sandtrace::cli {
namespace {

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Tests with files of their own in a temporary directory (dir()).
class SandboxPlanFilesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(temp_.ok()); }
  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(temp_.File(rel)) << text;
  }
  const std::string& dir() const { return temp_.path(); }
  test_support::TempDir temp_{"/tmp/sandtrace-plan-XXXXXX"};
};

TEST(SandboxPlanTest, ElfInterpreterOfASystemBinary) {
  std::vector<std::string> chain = InterpreterChain("/bin/true");
  ASSERT_EQ(chain.size(), 1u);
  EXPECT_NE(chain[0].find("ld-linux"), std::string::npos) << chain[0];
}

TEST_F(SandboxPlanFilesTest, ScriptInterpreterChain) {
  Write("script", "#!/bin/sh -e\necho hi\n");
  std::vector<std::string> chain = InterpreterChain(dir() + "/script");
  ASSERT_GE(chain.size(), 2u);  // the shell, then the shell's ELF interpreter
  char* sh = realpath("/bin/sh", nullptr);
  EXPECT_EQ(chain[0], sh);
  free(sh);
  EXPECT_NE(chain[1].find("ld-linux"), std::string::npos);
  Write("plain", "no interpreter here");
  EXPECT_TRUE(InterpreterChain(dir() + "/plain").empty());
}

TEST_F(SandboxPlanFilesTest, FindsDotEnvFilesButNotInGitOrNodeModules) {
  ASSERT_EQ(mkdir((dir() + "/a").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir() + "/node_modules").c_str(), 0755), 0);
  Write(".env", "A=1");
  Write("a/.env.local", "B=2");
  Write("a/env", "not a secret");
  Write("node_modules/.env", "skipped");
  std::vector<std::string> found = FindDotEnvFiles(dir(), 4);
  EXPECT_TRUE(Contains(found, dir() + "/.env"));
  EXPECT_TRUE(Contains(found, dir() + "/a/.env.local"));
  EXPECT_FALSE(Contains(found, dir() + "/a/env"));
  EXPECT_FALSE(Contains(found, dir() + "/node_modules/.env"));
  EXPECT_TRUE(FindDotEnvFiles(dir(), 0).size() == 1u);  // depth 0: only the top level
}

TEST(SandboxPlanTest, HidesNonSystemTopLevelDirectories) {
  std::vector<std::string> hidden = HiddenDirectories();
  EXPECT_FALSE(Contains(hidden, "/usr"));
  EXPECT_FALSE(Contains(hidden, "/etc"));
  EXPECT_FALSE(Contains(hidden, "/tmp"));
  struct stat st;
  if (lstat("/home", &st) == 0 && S_ISDIR(st.st_mode)) {
    EXPECT_TRUE(Contains(hidden, "/home"));
  }
  if (lstat("/root", &st) == 0 && S_ISDIR(st.st_mode)) {
    EXPECT_TRUE(Contains(hidden, "/root"));
  }
  if (lstat("/var/tmp", &st) == 0) {
    EXPECT_TRUE(Contains(hidden, "/var/tmp"));
  }
}

TEST_F(SandboxPlanFilesTest, AllowPathMustExistAndIsCanonicalised) {
  RunOptions o;
  o.command = {"/bin/true"};
  o.allow_paths = {dir() + "/missing"};
  Result<launcher::SandboxConfig> bad = BuildSandboxConfig(o, policy::DefaultPolicy(), "default", "/bin/true");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("--allow-path"), std::string::npos);

  ASSERT_EQ(mkdir((dir() + "/p").c_str(), 0755), 0);
  Write("p/.env", "SECRET=1");
  o.allow_paths = {dir() + "/p/../p/"};
  Result<launcher::SandboxConfig> c = BuildSandboxConfig(o, policy::DefaultPolicy(), "default", "/bin/true");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->writable_paths, std::vector<std::string>{dir() + "/p"});
  EXPECT_TRUE(Contains(c->landlock_read_write, dir() + "/p"));
  EXPECT_TRUE(Contains(c->masked_paths, dir() + "/p/.env"));
  EXPECT_FALSE(c->seccomp_program.empty());
  EXPECT_FALSE(c->allow_exec);
  EXPECT_TRUE(c->new_network);
}

TEST_F(SandboxPlanFilesTest, ExecutableUnderPrivateTmpStaysVisible) {
  Write("tool", "#!/bin/sh\n");
  RunOptions o;
  o.command = {dir() + "/tool"};
  Result<launcher::SandboxConfig> c =
      BuildSandboxConfig(o, policy::DefaultPolicy(), "default", dir() + "/tool");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(Contains(c->visible_paths, dir() + "/tool"));
  EXPECT_TRUE(Contains(c->landlock_exec, dir() + "/tool"));
}

TEST(SandboxPlanTest, TraceOnlyCarriesNoEnforcement) {
  RunOptions o;
  o.command = {"/bin/true"};
  o.trace_only = true;
  o.allow_net = true;
  Result<launcher::SandboxConfig> c = BuildSandboxConfig(o, policy::DefaultPolicy(), "default", "/bin/true");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->trace_only);
  EXPECT_FALSE(c->new_network);
  EXPECT_TRUE(c->seccomp_program.empty());
  EXPECT_TRUE(c->landlock_exec.empty());
}

}  // namespace
}  // namespace sandtrace::cli
