// Minimal command-line parsing for the internal stage executables (tracer, analyser, sinks),
// which are started by the `sandtrace` wrapper, not by users. Accepts "--name value" and
// "--name=value"; everything after "--" is positional.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace sandtrace {

class StageFlags {
 public:
  // Parses argv; `boolean` names flags that take no value.
  static Result<StageFlags> Parse(int argc, char** argv, const std::vector<std::string>& boolean);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // Last value given for `name`, or `fallback`.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // Every value given for a repeatable flag, in order.
  std::vector<std::string> GetAll(const std::string& name) const;
  // Integer value, or an error naming the flag.
  Result<long long> GetInt(const std::string& name, long long fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace sandtrace
