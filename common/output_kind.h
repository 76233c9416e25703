// Which output format a file name asks for, from its extension: the one rule `sandtrace run -o`
// and `sandtrace collect -o` both follow (README, SPEC section 2).
#pragma once

#include <optional>
#include <string_view>

namespace sandtrace {

enum class OutputKind { kJsonl, kSqlite };

// .jsonl/.ndjson/.json -> JSONL, .db/.sqlite/.sqlite3 -> SQLite, anything else nullopt.
inline std::optional<OutputKind> OutputKindOfName(std::string_view path) {
  auto ends_with = [path](std::string_view suffix) {
    return path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
  };
  for (std::string_view ext : {".jsonl", ".ndjson", ".json"}) {
    if (ends_with(ext)) return OutputKind::kJsonl;
  }
  for (std::string_view ext : {".db", ".sqlite", ".sqlite3"}) {
    if (ends_with(ext)) return OutputKind::kSqlite;
  }
  return std::nullopt;
}

}  // namespace sandtrace
