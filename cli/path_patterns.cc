#include "cli/path_patterns.h"

#include <dirent.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdlib.h>

namespace sandtrace::cli {
namespace {

bool HasWildcard(const std::string& text) {
  return text.find_first_of("*?[{") != std::string::npos;
}

// The last `count` components of `relative` ("a/b/c", 2 -> "b/c"), or "" if it has fewer.
std::string LastComponents(const std::string& relative, size_t count) {
  size_t at = relative.size();
  for (size_t i = 0; i < count; ++i) {
    const size_t slash = at == 0 ? std::string::npos : relative.rfind('/', at - 1);
    if (i + 1 == count) return slash == std::string::npos ? relative : relative.substr(slash + 1);
    if (slash == std::string::npos) return {};
    at = slash;
  }
  return {};
}

size_t ComponentCount(const std::string& tail) {
  size_t count = 1;
  for (char c : tail) count += c == '/';
  return count;
}

void WalkBelow(const std::string& dir, const std::string& relative, int depth, size_t* budget,
               const PathMatch& match, std::vector<std::string>* out) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = readdir(d)) {
    if (*budget == 0) break;
    --*budget;
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    const std::string rel = relative.empty() ? name : relative + "/" + name;
    if (match(rel)) {
      out->push_back(path);
    } else if (e->d_type == DT_DIR && depth > 0 && name != ".git" && name != "node_modules") {
      WalkBelow(path, rel, depth - 1, budget, match, out);
    }
  }
  closedir(d);
}

// glob(3) for a pattern without "**"; literal paths are returned when they exist.
std::vector<std::string> GlobOne(const std::string& pattern) {
  if (!HasWildcard(pattern)) return {pattern};
  std::vector<std::string> out;
  glob_t matches{};
  if (glob(pattern.c_str(), GLOB_BRACE | GLOB_NOSORT, nullptr, &matches) == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i) out.push_back(matches.gl_pathv[i]);
  }
  globfree(&matches);
  return out;
}

void ExpandOne(const std::string& pattern, const std::vector<std::string>& search_roots,
               std::vector<std::string>* out) {
  std::vector<std::string> raw;
  const size_t stars = pattern.find("**");
  if (stars == std::string::npos) {
    raw = GlobOne(pattern);
  } else {
    // "PREFIX/**" or "PREFIX/**/TAIL" or "**/TAIL".
    const std::string prefix = stars == 0 ? "" : pattern.substr(0, stars - 1);
    const std::string rest = pattern.substr(stars + 2);
    std::vector<std::string> roots = stars == 0 ? search_roots : GlobOne(prefix);
    if (rest.empty() || rest == "/") {
      raw = roots;
    } else if (rest[0] == '/' && rest.find("**") == std::string::npos) {
      const std::string tail = rest.substr(1);
      const size_t components = ComponentCount(tail);
      const PathMatch match = [&](const std::string& relative) {
        const std::string last = LastComponents(relative, components);
        return !last.empty() &&
               fnmatch(tail.c_str(), last.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0;
      };
      for (const std::string& root : roots) {
        for (std::string& path : FindBelow(root, kPatternDepth, match)) raw.push_back(path);
      }
    }
  }
  for (const std::string& path : raw) AddUnique(out, CanonicalPath(path));
}

}  // namespace

std::string CanonicalPath(const std::string& path) {
  char* real = realpath(path.c_str(), nullptr);
  if (!real) return {};
  std::string out = real;
  free(real);
  return out;
}

std::vector<std::string> FindBelow(const std::string& dir, int max_depth, const PathMatch& match) {
  std::vector<std::string> found;
  size_t budget = kPatternWalkBudget;
  WalkBelow(dir, "", max_depth, &budget, match, &found);
  return found;
}

bool IsUnder(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         (dir == "/" || path[dir.size()] == '/'));
}

void AddUnique(std::vector<std::string>* list, const std::string& item) {
  if (item.empty()) return;
  for (const std::string& s : *list) {
    if (s == item) return;
  }
  list->push_back(item);
}

std::vector<std::string> ExpandPathPattern(const std::string& pattern,
                                           const std::vector<std::string>& homes,
                                           const std::vector<std::string>& search_roots) {
  std::vector<std::string> out;
  if (pattern == "~" || pattern.rfind("~/", 0) == 0) {
    for (const std::string& home : homes) {
      ExpandOne(home + pattern.substr(1), search_roots, &out);
    }
  } else if (pattern[0] == '/' || pattern.rfind("**/", 0) == 0) {
    ExpandOne(pattern, search_roots, &out);
  }
  return out;
}

}  // namespace sandtrace::cli
