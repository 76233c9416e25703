// Glob patterns over paths, as policies and reporting rules write them. One syntax, checked by
// GlobSyntaxError (policy::CheckGlob uses it) and matched by Glob:
//   *        any run of characters within one component (leading dots included)
//   ?        one character other than '/'
//   [a-z] [!x] [^x]   a character class; a ']' right after '[' (or '[!') is a member
//   \c       the character c itself
//   {a,b}    alternatives (nestable; may contain '/'); at most kMaxGlobAlternatives in all
//   **       as a whole component: zero or more components
// How a pattern is anchored:
//   - without any '/' it matches the base name of a path anywhere ("id_rsa", ".env.*");
//   - starting with '/' it matches from the root;
//   - any other pattern with a '/' ("**/.env", "node_modules/.bin/*") matches at any depth;
//   - a pattern with a '/' matches a path or any directory above it, so "/etc/ssh" and
//     "/opt/*/bin" also match everything below them, and "/home/u/**" matches /home/u itself.
// Paths are matched as given: callers pass absolute paths normalised lexically (no ".", "..",
// "//"), or relative paths they could not resolve, which only unanchored patterns can match.
// Matching never allocates.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sandtrace {

inline constexpr size_t kMaxGlobAlternatives = 256;

// Empty when `pattern` is a well-formed glob, else what is wrong with it ("unclosed '['").
std::string GlobSyntaxError(std::string_view pattern);

// "~" -> home, "~/x" -> home + "/x". With an empty (unknown) home, "~/x" becomes "**/x" (the
// same file under any directory) and "~" alone becomes "" (nothing). Other patterns unchanged.
std::string ExpandHome(std::string_view pattern, std::string_view home);

// A pattern that matches exactly `literal` (and, like any pattern with a '/', what is below
// it): the metacharacters *?[]{}\ are escaped.
std::string GlobEscape(std::string_view literal);

class Glob {
 public:
  // A compiled pattern; the error is GlobSyntaxError's text, prefixed with the pattern.
  static Result<Glob> Compile(std::string_view pattern);

  // True when `path` matches (see the top of this file).
  bool Matches(std::string_view path) const;
  const std::string& pattern() const { return pattern_; }

 private:
  struct Component {
    bool any_depth = false;  // "**"
    bool literal = false;    // no wildcards: compared with ==
    std::string text;        // unescaped when literal
  };
  struct Alternative {
    bool base_name = false;  // no '/': matches the last component
    bool anchored = false;   // starts with '/'
    std::vector<Component> components;
  };

  bool MatchFrom(const Alternative& alt, size_t index, std::string_view path, size_t pos) const;

  std::string pattern_;
  std::vector<Alternative> alternatives_;
};

// A list of globs; matches when any of them does.
class GlobList {
 public:
  // Compiles every pattern; the first bad one is the error.
  static Result<GlobList> Compile(const std::vector<std::string>& patterns);
  bool Matches(std::string_view path) const;
  bool empty() const { return globs_.empty(); }

 private:
  std::vector<Glob> globs_;
};

}  // namespace sandtrace
