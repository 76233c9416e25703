#include "common/flags.h"

#include <algorithm>
#include <cstdlib>

namespace sandtrace {

Result<StageFlags> StageFlags::Parse(int argc, char** argv,
                                     const std::vector<std::string>& boolean) {
  StageFlags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) flags.positional_.push_back(argv[i]);
      break;
    }
    if (arg.rfind("--", 0) != 0) {
      flags.positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (std::find(boolean.begin(), boolean.end(), name) != boolean.end()) {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return PlainError("--" + name + " needs a value");
    }
    flags.values_.emplace(name, value);
  }
  return flags;
}

std::string StageFlags::Get(const std::string& name, const std::string& fallback) const {
  auto range = values_.equal_range(name);
  if (range.first == range.second) return fallback;
  return std::prev(range.second)->second;
}

std::vector<std::string> StageFlags::GetAll(const std::string& name) const {
  std::vector<std::string> out;
  auto range = values_.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

Result<long long> StageFlags::GetInt(const std::string& name, long long fallback) const {
  if (!Has(name)) return fallback;
  const std::string text = Get(name);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0) {
    return PlainError("--" + name + ": not an integer: '" + text + "'");
  }
  return v;
}

}  // namespace sandtrace
