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

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
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
  friend class GlobSet;
  struct Component {
    bool any_depth = false;  // "**"
    bool literal = false;    // no wildcards: compared with ==
    std::string text;        // unescaped when literal
  };
  struct Alternative {
    bool base_name = false;  // no '/': matches the last component
    bool anchored = false;   // starts with '/'
    std::vector<Component> components;  // unanchored ones start with "**"
  };

  static bool MatchAlternative(const Alternative& alt, std::string_view path);
  static bool MatchFrom(const Alternative& alt, size_t index, std::string_view path, size_t pos);

  std::string pattern_;
  std::vector<Alternative> alternatives_;
};

// Many globs, each under an id, indexed so that a path is compared only with the few
// alternatives that can match it: those whose base name, first component (anchored) or first
// literal component after a leading "**" (unanchored) is one of the path's, plus the
// alternatives that start with a wildcard. Lookups never allocate.
class GlobSet {
 public:
  void Add(const Glob& glob, uint32_t id);
  // Appends to *ids the id of every glob that matches `path` (an id may appear more than
  // once); *ids is cleared first.
  void Match(std::string_view path, std::vector<uint32_t>* ids) const;
  // True when some glob matches `path`.
  bool MatchesAny(std::string_view path) const;
  bool empty() const { return alternatives_.empty(); }

 private:
  struct Entry {
    uint32_t alternative;  // index into alternatives_
    uint32_t id;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string, std::vector<Entry>, Hash, std::equal_to<>>;
  // A cheap pre-check before hashing a component: its length and first and last characters.
  static size_t FilterBit(std::string_view key);

  // Calls visit(id) for each match until it returns true; returns whether one did.
  template <typename F>
  bool ForEachMatch(std::string_view path, F&& visit) const;
  void AddTo(Index* index, std::string_view key, Entry entry);

  std::vector<Glob::Alternative> alternatives_;
  Index by_base_, by_first_, by_component_;
  std::vector<Entry> always_;
  std::bitset<4096> keys_;  // FilterBit of every key of the three indexes
};

// A list of globs; matches when any of them does.
class GlobList {
 public:
  // Compiles every pattern; the first bad one is the error.
  static Result<GlobList> Compile(const std::vector<std::string>& patterns);
  bool Matches(std::string_view path) const { return set_.MatchesAny(path); }
  bool empty() const { return set_.empty(); }

 private:
  GlobSet set_;
};

}  // namespace sandtrace
