// Glob syntax and matching (common/glob.h).
#include "common/glob.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace sandtrace {
namespace {

bool Match(std::string_view pattern, std::string_view path) {
  Result<Glob> glob = Glob::Compile(pattern);
  EXPECT_TRUE(glob.ok()) << pattern;
  return glob.ok() && glob->Matches(path);
}

TEST(Glob, StarAndQuestionStayInOneComponent) {
  EXPECT_TRUE(Match("/usr/lib/*.so", "/usr/lib/libc.so"));
  EXPECT_FALSE(Match("/usr/*.so", "/usr/lib/libc.so"));
  EXPECT_TRUE(Match("/tmp/a?c", "/tmp/abc"));
  EXPECT_FALSE(Match("/tmp/a?c", "/tmp/a/c"));
  EXPECT_FALSE(Match("/tmp/a?c", "/tmp/ac"));
  EXPECT_TRUE(Match("/tmp/*", "/tmp/.hidden"));  // leading dots too, unlike the shell
  EXPECT_TRUE(Match("/a/*x*y*", "/a/1x2x3y"));
  EXPECT_FALSE(Match("/a/*x*y", "/a/1x2x3y4"));
}

TEST(Glob, Classes) {
  EXPECT_TRUE(Match("/dev/tty[0-9]", "/dev/tty7"));
  EXPECT_FALSE(Match("/dev/tty[0-9]", "/dev/ttyS"));
  EXPECT_TRUE(Match("/dev/tty[!0-9]", "/dev/ttyS"));
  EXPECT_TRUE(Match("/dev/tty[^0-9]", "/dev/ttyS"));
  EXPECT_TRUE(Match("/a/[]x]", "/a/]"));
  EXPECT_TRUE(Match("/a/[a-]", "/a/-"));
  EXPECT_FALSE(Match("/a/[abc]", "/a/d"));
}

TEST(Glob, Escapes) {
  EXPECT_TRUE(Match("/a/\\*", "/a/*"));
  EXPECT_FALSE(Match("/a/\\*", "/a/b"));
  EXPECT_TRUE(Match("/a/\\[x", "/a/[x"));
  EXPECT_TRUE(Match("/a/b\\{c", "/a/b{c"));
}

TEST(Glob, Braces) {
  EXPECT_TRUE(Match("/usr/bin/{git,make}", "/usr/bin/make"));
  EXPECT_FALSE(Match("/usr/bin/{git,make}", "/usr/bin/gcc"));
  EXPECT_TRUE(Match("/a/{b,{c,d}}", "/a/d"));
  EXPECT_TRUE(Match("**/{venv,.venv}/bin/*", "/p/.venv/bin/python"));
  EXPECT_TRUE(Match("/x/{a/b,c}", "/x/a/b"));
  EXPECT_TRUE(Match("/x/f{,.bak}", "/x/f"));
  EXPECT_TRUE(Match("/x/f{,.bak}", "/x/f.bak"));
  EXPECT_TRUE(Match("/x/[{]", "/x/{"));  // a brace inside a class is a member
}

TEST(Glob, DoubleStarIsZeroOrMoreComponents) {
  EXPECT_TRUE(Match("/home/u/**", "/home/u"));
  EXPECT_TRUE(Match("/home/u/**", "/home/u/a/b/c"));
  EXPECT_FALSE(Match("/home/u/**", "/home/uv"));
  EXPECT_FALSE(Match("/home/u/**", "/home"));
  EXPECT_TRUE(Match("/a/**/z", "/a/z"));
  EXPECT_TRUE(Match("/a/**/z", "/a/b/c/z"));
  EXPECT_FALSE(Match("/a/**/z", "/a/b/c/zz"));
  EXPECT_TRUE(Match("**/.env", "/srv/app/.env"));
  EXPECT_TRUE(Match("**/.env", "/.env"));
  EXPECT_TRUE(Match("**/.env", ".env"));
  EXPECT_FALSE(Match("**/.env", "/srv/app/.envrc"));
  EXPECT_TRUE(Match("**/build*/**", "/src/p/build-release/bin/t"));
  EXPECT_TRUE(Match("**/target/{debug,release}/*", "/w/target/release/app"));
  EXPECT_TRUE(Match("/a/**/b/**/c", "/a/x/b/y/z/c"));
}

TEST(Glob, PatternWithoutSlashMatchesTheBaseName) {
  EXPECT_TRUE(Match("id_rsa", "/home/u/.ssh/id_rsa"));
  EXPECT_TRUE(Match("id_rsa", "id_rsa"));
  EXPECT_TRUE(Match("id_rsa", "../keys/id_rsa"));
  EXPECT_FALSE(Match("id_rsa", "/home/u/id_rsa.pub"));
  EXPECT_FALSE(Match("id_rsa", "/home/u/id_rsa/other"));  // not an ancestor match
  EXPECT_TRUE(Match(".env.*", "/p/.env.production"));
  EXPECT_FALSE(Match(".env.*", "/p/.env"));
  EXPECT_FALSE(Match(".env", "/p/my.env"));
  EXPECT_TRUE(Match("*.pem", "/etc/ssl/k.pem"));
  EXPECT_FALSE(Match("*", "/"));
}

TEST(Glob, APatternAlsoMatchesEverythingBelowWhatItNames) {
  EXPECT_TRUE(Match("/etc/ssh", "/etc/ssh"));
  EXPECT_TRUE(Match("/etc/ssh", "/etc/ssh/sshd_config"));
  EXPECT_FALSE(Match("/etc/ssh", "/etc/sshd"));
  EXPECT_FALSE(Match("/etc/ssh", "/etc"));
  EXPECT_TRUE(Match("/etc/ssh/", "/etc/ssh/x"));
  EXPECT_TRUE(Match("/opt/*/bin", "/opt/node/bin/node"));
  EXPECT_TRUE(Match("/", "/anything/at/all"));
  EXPECT_TRUE(Match("**/.ssh", "/root/.ssh/authorized_keys"));
}

TEST(Glob, AnchoringAndRelativePaths) {
  EXPECT_FALSE(Match("/etc/ssh", "etc/ssh"));  // an unresolved relative path
  EXPECT_TRUE(Match("node_modules/.bin/*", "/p/node_modules/.bin/tsc"));
  EXPECT_TRUE(Match("node_modules/.bin/*", "node_modules/.bin/tsc"));
  EXPECT_TRUE(Match("**/.ssh", ".ssh/config"));
  EXPECT_FALSE(Match("/home/u/.ssh", ".ssh/config"));
}

TEST(Glob, SyntaxErrors) {
  EXPECT_EQ(GlobSyntaxError("/usr/**/lib[0-9]*.so"), "");
  EXPECT_EQ(GlobSyntaxError(""), "empty pattern");
  EXPECT_EQ(GlobSyntaxError("/etc/[ab"), "unclosed '['");
  EXPECT_EQ(GlobSyntaxError("/a/x]"), "unmatched ']'");
  EXPECT_EQ(GlobSyntaxError("/x/{a,b"), "unclosed '{'");
  EXPECT_EQ(GlobSyntaxError("/x/a}"), "unmatched '}'");
  EXPECT_EQ(GlobSyntaxError("/a/\\"), "trailing backslash");
  std::string many = "/x/";
  for (int i = 0; i < 9; ++i) many += "{a,b}";  // 512 alternatives
  EXPECT_EQ(GlobSyntaxError(many), "more than 256 alternatives");
  Result<Glob> bad = Glob::Compile("/etc/[ab");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "glob \"/etc/[ab\": unclosed '['");
}

TEST(Glob, ExpandHome) {
  EXPECT_EQ(ExpandHome("~/.ssh/**", "/home/u"), "/home/u/.ssh/**");
  EXPECT_EQ(ExpandHome("~/.ssh", "/home/u/"), "/home/u/.ssh");
  EXPECT_EQ(ExpandHome("~", "/home/u"), "/home/u");
  EXPECT_EQ(ExpandHome("~/.ssh", "/"), "/.ssh");
  EXPECT_EQ(ExpandHome("~/.ssh", ""), "**/.ssh");
  EXPECT_EQ(ExpandHome("~", ""), "");
  EXPECT_EQ(ExpandHome("/etc/~x", "/home/u"), "/etc/~x");
  EXPECT_EQ(ExpandHome("~other/x", "/home/u"), "~other/x");
  EXPECT_EQ(ExpandHome("~/.ssh", "/home/a*b"), "/home/a\\*b/.ssh");
  EXPECT_TRUE(Match(ExpandHome("~/.ssh", "/home/a*b"), "/home/a*b/.ssh/id"));
  EXPECT_FALSE(Match(ExpandHome("~/.ssh", "/home/a*b"), "/home/axb/.ssh/id"));
}

TEST(Glob, EscapedLiteralMatchesItself) {
  const std::string odd = "/srv/a*b/[x]{y,z}\\?";
  EXPECT_EQ(GlobSyntaxError(GlobEscape(odd)), "");
  EXPECT_TRUE(Match(GlobEscape(odd), odd));
  EXPECT_TRUE(Match(GlobEscape(odd), odd + "/below"));
  EXPECT_FALSE(Match(GlobEscape(odd), "/srv/aXb/[x]{y,z}\\?"));
  EXPECT_EQ(GlobEscape("/home/u/p"), "/home/u/p");
}

std::vector<uint32_t> SetMatches(const GlobSet& set, std::string_view path) {
  std::vector<uint32_t> ids;
  set.Match(path, &ids);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

TEST(GlobSet, FindsEveryMatchingGlobWhateverItsIndex) {
  GlobSet set;
  const char* patterns[] = {
      "id_rsa",            // 0: literal base name
      ".env.*",            // 1: wildcard base name
      "/etc/shadow",       // 2: anchored, literal first component
      "/*/secret",         // 3: anchored, wildcard first component
      "**/.ssh",           // 4: unanchored, literal component
      "**/build*/out",     // 5: unanchored, wildcard component
      "/home/u/{a,.ssh}",  // 6: two alternatives
      "/",                 // 7: everything absolute
  };
  for (uint32_t i = 0; i < std::size(patterns); ++i) {
    Result<Glob> glob = Glob::Compile(patterns[i]);
    ASSERT_TRUE(glob.ok());
    set.Add(*glob, i);
  }
  using Ids = std::vector<uint32_t>;
  EXPECT_EQ(SetMatches(set, "/home/u/.ssh/id_rsa"), (Ids{0, 4, 6, 7}));
  EXPECT_EQ(SetMatches(set, "/p/.env.local"), (Ids{1, 7}));
  EXPECT_EQ(SetMatches(set, "/etc/shadow"), (Ids{2, 7}));
  EXPECT_EQ(SetMatches(set, "/srv/secret/x"), (Ids{3, 7}));
  EXPECT_EQ(SetMatches(set, "/p/build-1/out"), (Ids{5, 7}));
  EXPECT_EQ(SetMatches(set, "/home/u/a"), (Ids{6, 7}));
  EXPECT_EQ(SetMatches(set, ".ssh/config"), (Ids{4}));  // relative: no anchored glob
  EXPECT_EQ(SetMatches(set, "src/main.c"), Ids{});
  EXPECT_TRUE(set.MatchesAny("/usr/lib/libc.so.6"));
  EXPECT_FALSE(set.MatchesAny("lib/libc.so.6"));
  // The same answers as the globs one by one, for a spread of paths.
  for (const char* path : {"/home/u/.ssh", "/etc/shadow-", "/x/.ssh/y/z", "id_rsa", "/id_rsa",
                           "/a/build/out/b", "/etc", "", "/"}) {
    Ids expected;
    for (uint32_t i = 0; i < std::size(patterns); ++i) {
      if (Glob::Compile(patterns[i])->Matches(path)) expected.push_back(i);
    }
    EXPECT_EQ(SetMatches(set, path), expected) << path;
  }
}

TEST(GlobList, AnyMatches) {
  Result<GlobList> list = GlobList::Compile({"/tmp", "/dev/null", "**/out/**"});
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->Matches("/tmp/x"));
  EXPECT_TRUE(list->Matches("/p/out/a.o"));
  EXPECT_FALSE(list->Matches("/home/u/x"));
  EXPECT_FALSE(GlobList::Compile({"/ok", "/bad["}).ok());
}

}  // namespace
}  // namespace sandtrace
