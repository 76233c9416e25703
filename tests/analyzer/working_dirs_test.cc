// Working directories of traced processes and the resolution of path arguments.
#include "analyzer/working_dirs.h"

#include <gtest/gtest.h>

#include "analyzer/decoder.h"

namespace sandtrace::analyzer {
namespace {

std::string Normal(std::string_view path) {
  std::string out;
  NormalizeAbsolute(path, &out);
  return out;
}

// The resolved path, or "?" + the path when unresolved.
std::string Resolve(const WorkingDirs& dirs, int32_t tgid, std::string_view path,
                    std::optional<int32_t> dirfd = std::nullopt) {
  std::string scratch;
  bool resolved = false;
  const std::string_view out = dirs.Resolve(tgid, dirfd, path, &resolved, &scratch);
  std::string text(resolved ? "" : "?");  // append: GCC 12 warns (-Wrestrict) on "?" + string
  text.append(out);
  return text;
}

TEST(NormalizeAbsolute, FoldsDotsAndSlashes) {
  EXPECT_EQ(Normal("/"), "/");
  EXPECT_EQ(Normal("//"), "/");
  EXPECT_EQ(Normal("/a/b/"), "/a/b");
  EXPECT_EQ(Normal("/a//b/./c"), "/a/b/c");
  EXPECT_EQ(Normal("/a/b/../c"), "/a/c");
  EXPECT_EQ(Normal("/../../etc/shadow"), "/etc/shadow");
  EXPECT_EQ(Normal("/a/.."), "/");
  EXPECT_EQ(Normal("/a/..b/.c"), "/a/..b/.c");
}

TEST(WorkingDirs, ResolvesAgainstTheInitialDirectory) {
  WorkingDirs dirs;
  dirs.Reset("/home/u");
  EXPECT_EQ(Resolve(dirs, 1, ".ssh/id_rsa"), "/home/u/.ssh/id_rsa");
  EXPECT_EQ(Resolve(dirs, 1, "../v/x"), "/home/v/x");
  EXPECT_EQ(Resolve(dirs, 1, "."), "/home/u");
  EXPECT_EQ(Resolve(dirs, 1, "/etc/passwd"), "/etc/passwd");
  EXPECT_EQ(Resolve(dirs, 1, "/etc/../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(Resolve(dirs, 1, "x", kAtFdCwd), "/home/u/x");
  EXPECT_EQ(Resolve(dirs, 1, "x", 3), "?x");
  EXPECT_EQ(Resolve(dirs, 1, "/abs", 3), "/abs");
  EXPECT_EQ(Resolve(dirs, 1, ""), "?");
}

TEST(WorkingDirs, UnknownInitialDirectory) {
  WorkingDirs dirs;
  dirs.Reset("");
  EXPECT_EQ(Resolve(dirs, 1, "x"), "?x");
  dirs.Reset("relative/dir");  // not usable as a base
  EXPECT_EQ(Resolve(dirs, 1, "x"), "?x");
  dirs.OnChdir(1, "/srv", true);
  EXPECT_EQ(Resolve(dirs, 1, "x"), "/srv/x");
}

TEST(WorkingDirs, ChdirForkThreadsAndExit) {
  WorkingDirs dirs;
  dirs.Reset("/w");
  dirs.OnChdir(10, "/a", true);
  EXPECT_EQ(dirs.Of(10), "/a");
  EXPECT_EQ(dirs.Of(11), "/w");
  dirs.OnSpawn(12, 10, 10, true);  // a thread of 10
  dirs.OnSpawn(20, 20, 12, false);  // a process forked by that thread: 10's directory
  EXPECT_EQ(dirs.Of(20), "/a");
  dirs.OnChdir(20, "/b", true);
  EXPECT_EQ(dirs.Of(10), "/a");
  dirs.OnFchdir(10);
  EXPECT_EQ(dirs.Of(10), "");
  EXPECT_EQ(Resolve(dirs, 10, "x"), "?x");
  dirs.OnChdir(10, "/w", true);  // back to the initial one
  EXPECT_EQ(dirs.Of(10), "/w");
  dirs.OnExit(20, 20);
  dirs.OnSpawn(20, 20, 1, false);  // the pid reused by a child of a process in /w
  EXPECT_EQ(dirs.Of(20), "/w");
}

}  // namespace
}  // namespace sandtrace::analyzer
