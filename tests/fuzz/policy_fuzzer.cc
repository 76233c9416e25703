// libFuzzer target for the policy loader. ParsePolicy reads files a user may have written by
// hand (or been handed), so any byte string must come back as a Policy or an Error: no
// exception, crash or sanitizer report. An accepted policy must also satisfy the loader's own
// validation rules (well-formed globs, syscall names, limits in range, distinct rule ids), and
// the analyser configuration built from it must survive the analyser's strict decoding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/analysis_config.h"
#include "policy/policy.h"
#include "policy/rules.h"

namespace {

using sandtrace::policy::Policy;

// Aborts (a finding for libFuzzer) when an invariant does not hold.
void Expect(bool condition) {
  if (!condition) std::abort();
}

bool IsSyscallName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

void CheckAccepted(const Policy& policy) {
  for (const std::vector<std::string>* list :
       {&policy.filesystem.allow_read, &policy.filesystem.allow_write,
        &policy.filesystem.allow_exec, &policy.filesystem.deny}) {
    for (const std::string& pattern : *list) {
      Expect(sandtrace::policy::CheckGlob(pattern).empty());
    }
  }
  for (const std::vector<std::string>* list : {&policy.syscalls.deny, &policy.syscalls.log_only}) {
    for (const std::string& name : *list) Expect(IsSyscallName(name));
  }
  Expect(!policy.limits.timeout || *policy.limits.timeout >= 0);
  Expect(!policy.limits.max_processes || *policy.limits.max_processes >= 1);
  Expect(!policy.limits.memory || *policy.limits.memory >= 1);
  Expect(!sandtrace::policy::DescribePolicy(policy).empty());
  std::set<std::string> ids;
  for (const sandtrace::policy::PolicyRule& rule : policy.rules) {
    Expect(ids.insert(rule.id).second);
  }
  const sandtrace::AnalysisConfig config =
      sandtrace::policy::BuildAnalysisConfig(policy, "fuzz.toml", "/home/fuzz", "/work", {"/src"});
  for (const sandtrace::RuleSpec& rule : config.rules) {
    Expect(sandtrace::RuleSpecError(rule).empty());
  }
  const std::string encoded = sandtrace::EncodeAnalysisConfig(config);
  sandtrace::Result<sandtrace::AnalysisConfig> decoded = sandtrace::DecodeAnalysisConfig(encoded);
  Expect(decoded.ok() && *decoded == config);
}

}  // namespace

// Entry point called by libFuzzer once per input; the input is the whole policy file.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sandtrace::Result<Policy> policy = sandtrace::policy::ParsePolicy(text, "fuzz.toml");
  if (policy.ok()) {
    CheckAccepted(*policy);
  } else {
    Expect(policy.error().context.rfind("fuzz.toml:", 0) == 0);
  }
  sandtrace::policy::ParseByteSize(text);
  sandtrace::policy::CheckGlob(text);
  return 0;
}
