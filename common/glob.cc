#include "common/glob.h"

namespace sandtrace {
namespace {

constexpr std::string_view kAnyDepth = "**";

// The index of the ']' closing the class that opens at pattern[open], or npos. The syntax
// CheckGlob has always accepted: an optional '!' or '^', then a ']' that is a member.
size_t ClassEnd(std::string_view pattern, size_t open) {
  size_t j = open + 1;
  if (j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^')) ++j;
  if (j < pattern.size() && pattern[j] == ']') ++j;
  return pattern.find(']', j);
}

// True when `c` is in the class pattern[open..close] ('[' ... ']'); members are literal
// characters and ranges "a-z".
bool InClass(std::string_view pattern, size_t open, size_t close, char c) {
  size_t i = open + 1;
  bool negated = false;
  if (pattern[i] == '!' || pattern[i] == '^') {
    negated = true;
    ++i;
  }
  bool found = false;
  for (; i < close; ++i) {
    const char low = pattern[i];
    if (i + 2 < close && pattern[i + 1] == '-') {
      const char high = pattern[i + 2];
      if (static_cast<unsigned char>(c) >= static_cast<unsigned char>(low) &&
          static_cast<unsigned char>(c) <= static_cast<unsigned char>(high)) {
        found = true;
      }
      i += 2;
    } else if (c == low) {
      found = true;
    }
  }
  return found != negated;
}

// Matches one non-'*' pattern element at pattern[*i] against `c`, advancing *i past it.
bool MatchOne(std::string_view pattern, size_t* i, char c) {
  const char p = pattern[*i];
  if (p == '?') {
    ++*i;
    return true;
  }
  if (p == '\\' && *i + 1 < pattern.size()) {
    *i += 2;
    return pattern[*i - 1] == c;
  }
  if (p == '[') {
    const size_t close = ClassEnd(pattern, *i);
    if (close != std::string_view::npos) {
      const bool in = InClass(pattern, *i, close, c);
      *i = close + 1;
      return in;
    }
  }
  ++*i;
  return p == c;
}

// One component pattern (no '/') against one path component, with backtracking over the
// last '*' only (enough: '*' never has to cross a '/').
bool MatchSegment(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = ++p;
      star_text = t;
      continue;
    }
    if (p < pattern.size()) {
      size_t next = p;
      if (MatchOne(pattern, &next, text[t])) {
        p = next;
        ++t;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    p = star;
    t = ++star_text;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// The index of the '}' closing the brace at pattern[open]; commas at its top level are added
// to `commas`. npos when unclosed. Escapes and classes are skipped as CheckGlob skips them.
size_t BraceEnd(std::string_view pattern, size_t open, std::vector<size_t>* commas) {
  int depth = 0;
  for (size_t i = open; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      ++i;
    } else if (c == '[') {
      const size_t close = ClassEnd(pattern, i);
      if (close == std::string_view::npos) return close;
      i = close;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) return i;
    } else if (c == ',' && depth == 1) {
      commas->push_back(i);
    }
  }
  return std::string_view::npos;
}

// Expands the first top-level brace of `pattern`, recursively; false when the alternatives
// exceed kMaxGlobAlternatives. `pattern` is well-formed.
bool ExpandBraces(std::string_view pattern, std::vector<std::string>* out) {
  size_t open = std::string_view::npos;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      ++i;
    } else if (pattern[i] == '[') {
      const size_t close = ClassEnd(pattern, i);
      if (close != std::string_view::npos) i = close;
    } else if (pattern[i] == '{') {
      open = i;
      break;
    }
  }
  if (open == std::string_view::npos) {
    if (out->size() >= kMaxGlobAlternatives) return false;
    out->emplace_back(pattern);
    return true;
  }
  std::vector<size_t> commas;
  const size_t close = BraceEnd(pattern, open, &commas);
  commas.push_back(close);
  const std::string_view prefix = pattern.substr(0, open);
  const std::string_view suffix = pattern.substr(close + 1);
  size_t start = open + 1;
  for (size_t end : commas) {
    std::string expanded(prefix);
    expanded.append(pattern.substr(start, end - start)).append(suffix);
    if (!ExpandBraces(expanded, out)) return false;
    start = end + 1;
  }
  return true;
}

// Splits a brace-free pattern at the '/'s outside classes (an escaped '/' separates too).
std::vector<std::string> SplitComponents(std::string_view pattern) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '/') {
      parts.emplace_back();
    } else if (c == '\\' && i + 1 < pattern.size()) {
      if (pattern[i + 1] == '/') {
        parts.emplace_back();
      } else {
        parts.back().append(pattern.substr(i, 2));
      }
      ++i;
    } else if (c == '[' && ClassEnd(pattern, i) != std::string_view::npos) {
      const size_t close = ClassEnd(pattern, i);
      parts.back().append(pattern.substr(i, close + 1 - i));
      i = close;
    } else {
      parts.back().push_back(c);
    }
  }
  return parts;
}

// The unescaped text of a component without wildcards, or false when it has some.
bool LiteralText(std::string_view component, std::string* text) {
  text->clear();
  for (size_t i = 0; i < component.size(); ++i) {
    const char c = component[i];
    if (c == '*' || c == '?' || c == '[') return false;
    if (c == '\\' && i + 1 < component.size()) ++i;
    text->push_back(component[i]);
  }
  return true;
}

size_t SkipSlashes(std::string_view path, size_t pos) {
  while (pos < path.size() && path[pos] == '/') ++pos;
  return pos;
}

size_t ComponentEnd(std::string_view path, size_t pos) {
  const size_t slash = path.find('/', pos);
  return slash == std::string_view::npos ? path.size() : slash;
}

std::string_view BaseName(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string GlobSyntaxError(std::string_view pattern) {
  if (pattern.empty()) return "empty pattern";
  int braces = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      if (++i == pattern.size()) return "trailing backslash";
    } else if (c == '[') {
      const size_t close = ClassEnd(pattern, i);
      if (close == std::string_view::npos) return "unclosed '['";
      i = close;
    } else if (c == ']') {
      return "unmatched ']'";
    } else if (c == '{') {
      ++braces;
    } else if (c == '}') {
      if (braces == 0) return "unmatched '}'";
      --braces;
    }
  }
  if (braces > 0) return "unclosed '{'";
  std::vector<std::string> alternatives;
  if (!ExpandBraces(pattern, &alternatives)) {
    return "more than " + std::to_string(kMaxGlobAlternatives) + " alternatives";
  }
  return {};
}

std::string ExpandHome(std::string_view pattern, std::string_view home) {
  if (pattern != "~" && !pattern.starts_with("~/")) return std::string(pattern);
  while (home.size() > 1 && home.back() == '/') home.remove_suffix(1);
  const std::string rest(pattern.substr(1));  // "" or "/..."
  if (home.empty()) return rest.empty() ? std::string() : std::string(kAnyDepth) + rest;
  if (home == "/") return rest.empty() ? std::string("/") : rest;
  return GlobEscape(home) + rest;
}

std::string GlobEscape(std::string_view literal) {
  std::string out;
  out.reserve(literal.size());
  for (char c : literal) {
    if (std::string_view("*?[]{}\\").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

Result<Glob> Glob::Compile(std::string_view pattern) {
  if (std::string problem = GlobSyntaxError(pattern); !problem.empty()) {
    return PlainError("glob \"" + std::string(pattern) + "\": " + problem);
  }
  std::vector<std::string> expanded;
  ExpandBraces(pattern, &expanded);
  Glob glob;
  glob.pattern_ = std::string(pattern);
  for (const std::string& text : expanded) {
    Alternative alt;
    alt.base_name = text.find('/') == std::string::npos;
    alt.anchored = text.starts_with('/');
    for (const std::string& part : SplitComponents(text)) {
      if (part.empty()) continue;
      Component component;
      component.any_depth = part == kAnyDepth && !alt.base_name;  // "**" alone: any base name
      if (!component.any_depth) {
        component.literal = LiteralText(part, &component.text);
        if (!component.literal) component.text = part;
      }
      const bool repeated = component.any_depth && !alt.components.empty() &&
                            alt.components.back().any_depth;
      if (!repeated) alt.components.push_back(std::move(component));
    }
    if (alt.base_name && alt.components.empty()) continue;  // "{,x}": the empty alternative
    if (!alt.base_name && !alt.anchored &&
        (alt.components.empty() || !alt.components.front().any_depth)) {
      alt.components.insert(alt.components.begin(), Component{true, false, {}});
    }
    glob.alternatives_.push_back(std::move(alt));
  }
  return glob;
}

bool Glob::MatchFrom(const Alternative& alt, size_t index, std::string_view path, size_t pos) {
  pos = SkipSlashes(path, pos);
  if (index == alt.components.size()) return true;  // a leading part matched: all below too
  const Component& component = alt.components[index];
  if (component.any_depth) {
    while (true) {
      if (MatchFrom(alt, index + 1, path, pos)) return true;
      if (pos >= path.size()) return false;
      pos = SkipSlashes(path, ComponentEnd(path, pos));
    }
  }
  if (pos >= path.size()) return false;
  const size_t end = ComponentEnd(path, pos);
  const std::string_view text = path.substr(pos, end - pos);
  const bool same = component.literal ? text == component.text : MatchSegment(component.text, text);
  return same && MatchFrom(alt, index + 1, path, end);
}

bool Glob::MatchAlternative(const Alternative& alt, std::string_view path) {
  if (alt.base_name) {
    const std::string_view base = BaseName(path);
    if (base.empty()) return false;
    const Component& c = alt.components.front();
    return c.literal ? base == c.text : MatchSegment(c.text, base);
  }
  if (alt.anchored && !path.starts_with('/')) return false;
  return MatchFrom(alt, 0, path, 0);
}

bool Glob::Matches(std::string_view path) const {
  for (const Alternative& alt : alternatives_) {
    if (MatchAlternative(alt, path)) return true;
  }
  return false;
}

size_t GlobSet::FilterBit(std::string_view key) {
  if (key.empty()) return 0;
  const auto first = static_cast<unsigned char>(key.front());
  const auto last = static_cast<unsigned char>(key.back());
  return ((key.size() & 63) << 6) | ((first * 7u + last) & 63);
}

void GlobSet::AddTo(Index* index, std::string_view key, Entry entry) {
  auto it = index->find(key);
  if (it == index->end()) it = index->emplace(std::string(key), std::vector<Entry>()).first;
  it->second.push_back(entry);
  keys_.set(FilterBit(key));
}

void GlobSet::Add(const Glob& glob, uint32_t id) {
  for (const Glob::Alternative& alt : glob.alternatives_) {
    const Entry entry{static_cast<uint32_t>(alternatives_.size()), id};
    alternatives_.push_back(alt);
    const std::vector<Glob::Component>& c = alt.components;
    if (alt.base_name && c.front().literal) {
      AddTo(&by_base_, c.front().text, entry);
    } else if (alt.anchored && !c.empty() && c.front().literal) {
      AddTo(&by_first_, c.front().text, entry);
    } else if (!alt.base_name && !alt.anchored && c.size() > 1 && c[1].literal) {
      AddTo(&by_component_, c[1].text, entry);
    } else {
      always_.push_back(entry);
    }
  }
}

template <typename F>
bool GlobSet::ForEachMatch(std::string_view path, F&& visit) const {
  const auto test = [&](const std::vector<Entry>& entries) {
    for (const Entry& e : entries) {
      if (Glob::MatchAlternative(alternatives_[e.alternative], path) && visit(e.id)) return true;
    }
    return false;
  };
  const auto lookup = [&](const Index& index, std::string_view key) {
    if (index.empty() || !keys_.test(FilterBit(key))) return false;
    const auto it = index.find(key);
    return it != index.end() && test(it->second);
  };
  if (test(always_)) return true;
  if (lookup(by_base_, BaseName(path))) return true;
  if (path.starts_with('/')) {
    const size_t start = SkipSlashes(path, 0);
    if (lookup(by_first_, path.substr(start, ComponentEnd(path, start) - start))) return true;
  }
  if (by_component_.empty()) return false;
  for (size_t pos = SkipSlashes(path, 0); pos < path.size();) {
    const size_t end = ComponentEnd(path, pos);
    if (lookup(by_component_, path.substr(pos, end - pos))) return true;
    pos = SkipSlashes(path, end);
  }
  return false;
}

void GlobSet::Match(std::string_view path, std::vector<uint32_t>* ids) const {
  ids->clear();
  ForEachMatch(path, [ids](uint32_t id) {
    ids->push_back(id);
    return false;
  });
}

bool GlobSet::MatchesAny(std::string_view path) const {
  return ForEachMatch(path, [](uint32_t) { return true; });
}

Result<GlobList> GlobList::Compile(const std::vector<std::string>& patterns) {
  GlobList list;
  for (const std::string& pattern : patterns) {
    Result<Glob> glob = Glob::Compile(pattern);
    if (!glob) return glob.error();
    list.set_.Add(*glob, 0);
  }
  return list;
}

}  // namespace sandtrace
