// Turns the glob patterns of a policy's [filesystem] lists into the existing host paths that
// the mount view and Landlock can use (both work on concrete paths, not patterns). Patterns:
//   "/etc/ssh"              a literal path (kept when it exists)
//   "~/.aws"                "~" is each given home directory
//   "/opt/*/bin", "{a,b}"   glob(3) wildcards and braces within components
//   "/srv/app/**"           the directory itself (Landlock and mounts cover what is below)
//   "/srv/app/**/secret*"   every match below /srv/app, up to kPatternDepth levels down
//   "**/.env"               every match below each search root (the allowed directories)
// Results are canonical (symlinks resolved), without duplicates, in pattern order. Walks skip
// .git and node_modules directories and stop after kPatternWalkBudget entries per pattern.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace sandtrace::cli {

inline constexpr int kPatternDepth = 4;
inline constexpr size_t kPatternWalkBudget = 20000;

// Existing paths matching `pattern`. `homes` replace a leading "~" (each one is tried);
// `search_roots` are the directories a leading "**/" searches.
std::vector<std::string> ExpandPathPattern(const std::string& pattern,
                                           const std::vector<std::string>& homes,
                                           const std::vector<std::string>& search_roots);

// Matches a path relative to the walked directory ("a/b/.env").
using PathMatch = std::function<bool(const std::string& relative)>;

// Entries below `dir` (at most `max_depth` levels down) that `match` accepts; a matching
// directory is not entered. Skips .git and node_modules; stops after kPatternWalkBudget entries.
std::vector<std::string> FindBelow(const std::string& dir, int max_depth, const PathMatch& match);

// True when `path` is `dir` or lies below it (lexically; both canonical).
bool IsUnder(const std::string& path, const std::string& dir);

// realpath(3) as a string; empty when `path` does not exist.
std::string CanonicalPath(const std::string& path);

// Appends `item` unless it is empty or already present.
void AddUnique(std::vector<std::string>* list, const std::string& item);

}  // namespace sandtrace::cli
