#include "cli/run_options.h"

#include <gtest/gtest.h>

namespace sandtrace::cli {
namespace {

Result<RunOptions> Parse(std::vector<std::string> args) { return ParseRunOptions(args); }

TEST(RunOptionsTest, Defaults) {
  Result<RunOptions> o = Parse({"ls"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->timeout_s, 30);
  EXPECT_FALSE(o->timeout_given);
  EXPECT_TRUE(o->follow_forks);
  EXPECT_FALSE(o->trace_only);
  EXPECT_EQ(o->verbosity, 0);
  EXPECT_EQ(o->command, std::vector<std::string>{"ls"});
}

TEST(RunOptionsTest, EverythingAfterTheCommandBelongsToIt) {
  Result<RunOptions> o = Parse({"--trace-only", "ls", "-o", "x.jsonl", "--timeout", "5"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->trace_only);
  EXPECT_TRUE(o->outputs.empty());
  EXPECT_EQ(o->timeout_s, 30);
  EXPECT_EQ(o->command, (std::vector<std::string>{"ls", "-o", "x.jsonl", "--timeout", "5"}));
}

TEST(RunOptionsTest, DoubleDashEndsOptions) {
  Result<RunOptions> o = Parse({"-v", "--", "--weird-program", "-x"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->verbosity, 1);
  EXPECT_EQ(o->command, (std::vector<std::string>{"--weird-program", "-x"}));
}

TEST(RunOptionsTest, AllFlags) {
  Result<RunOptions> o = Parse({"--policy", "p.toml", "--allow-path", "/a", "--allow-path=/b",
                                "--allow-net", "--allow-exec", "-o", "t.jsonl", "--output=t.db",
                                "-o-", "--timeout=0", "--trace-only", "--follow-forks=false",
                                "--no-color", "-vv", "prog"});
  ASSERT_TRUE(o.ok()) << o.error().message();
  EXPECT_EQ(*o->policy, "p.toml");
  EXPECT_EQ(o->allow_paths, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_TRUE(o->allow_net);
  EXPECT_TRUE(o->allow_exec);
  ASSERT_EQ(o->outputs.size(), 3u);
  EXPECT_EQ(o->outputs[0].kind, OutputKind::kJsonl);
  EXPECT_EQ(o->outputs[1].kind, OutputKind::kSqlite);
  EXPECT_EQ(o->outputs[2].path, "-");
  EXPECT_EQ(o->timeout_s, 0);
  EXPECT_TRUE(o->timeout_given);
  EXPECT_FALSE(o->follow_forks);
  EXPECT_TRUE(o->no_color);
  EXPECT_EQ(o->verbosity, 2);
}

TEST(RunOptionsTest, VerbosityAddsUpToThree) {
  EXPECT_EQ(Parse({"-v", "-v", "x"})->verbosity, 2);
  EXPECT_EQ(Parse({"-vvv", "-v", "x"})->verbosity, 3);
}

TEST(RunOptionsTest, OutputFormatsByExtension) {
  for (const char* p : {"a.jsonl", "a.ndjson", "a.json", "-"}) {
    EXPECT_EQ(*OutputKindFor(p), OutputKind::kJsonl) << p;
  }
  for (const char* p : {"a.db", "a.sqlite", "a.sqlite3"}) {
    EXPECT_EQ(*OutputKindFor(p), OutputKind::kSqlite) << p;
  }
  Result<OutputKind> bad = OutputKindFor("trace.txt");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find(".jsonl"), std::string::npos);
}

TEST(RunOptionsTest, UsageErrors) {
  EXPECT_FALSE(Parse({}).ok());
  EXPECT_FALSE(Parse({"--trace-only"}).ok());
  EXPECT_FALSE(Parse({"--bogus", "ls"}).ok());
  EXPECT_FALSE(Parse({"--timeout", "abc", "ls"}).ok());
  EXPECT_FALSE(Parse({"--timeout", "-1", "ls"}).ok());
  EXPECT_FALSE(Parse({"--timeout"}).ok());
  EXPECT_FALSE(Parse({"--follow-forks=maybe", "ls"}).ok());
  EXPECT_FALSE(Parse({"-o", "x.txt", "ls"}).ok());
  EXPECT_FALSE(Parse({"-o", "-", "-o", "-", "ls"}).ok());
  EXPECT_FALSE(Parse({"-o", "a.db", "-o", "a.db", "ls"}).ok());
  Result<RunOptions> r = Parse({"--nope", "ls"});
  EXPECT_NE(r.error().message().find("--nope"), std::string::npos);
}

TEST(RunOptionsTest, HelpStopsParsing) {
  Result<RunOptions> o = Parse({"--help"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->help);
}

}  // namespace
}  // namespace sandtrace::cli
