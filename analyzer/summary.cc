#include "analyzer/summary.h"

#include <algorithm>

namespace sandtrace::analyzer {

SummaryBuilder::SummaryBuilder() : table_counts_(kMaxSyscall + 1) {}

void SummaryBuilder::AddSyscall(const SyscallFacts& facts) {
  ++total_;
  if (facts.denied) ++denied_;
  Counts& counts = CountsOf(facts.nr);
  ++counts.calls;
  if (!facts.success) ++counts.failures;

  if (facts.decoded == nullptr) return;
  const DecodedArgs& decoded = *facts.decoded;
  if (decoded.path) AddPath(*decoded.path);
  if (decoded.path2) AddPath(*decoded.path2);
  if (decoded.addr && network_.size() < kMaxNetworkAttempts) {
    network_.push_back({facts.pid, std::string(facts.name), *decoded.addr, facts.success});
  }
}

SummaryBuilder::Counts& SummaryBuilder::OtherCountsOf(int64_t nr) {
  if (other_counts_.size() < kMaxOtherNumbers || other_counts_.contains(nr)) {
    return other_counts_[nr];
  }
  return overflow_counts_;
}

void SummaryBuilder::AddPath(std::string_view path) {
  if (path.empty()) return;  // AT_EMPTY_PATH: the call names the file by its descriptor
  if (files_.size() < kMaxFilesAccessed && !seen_files_.contains(path)) {
    seen_files_.emplace(path);
    files_.emplace_back(path);
  }
}

void SummaryBuilder::AddAlert(SuspiciousAccess alert) {
  ++alerts_;
  if (suspicious_.size() < kMaxSuspicious) suspicious_.push_back(std::move(alert));
}

uint64_t SummaryBuilder::unique_syscalls() const {
  uint64_t unique = other_counts_.size() + (overflow_counts_.calls > 0);
  for (const Counts& counts : table_counts_) unique += counts.calls > 0;
  return unique;
}

std::vector<SyscallCount> SummaryBuilder::SyscallCounts() const {
  std::vector<SyscallCount> out;
  for (size_t nr = 0; nr < table_counts_.size(); ++nr) {
    const Counts& c = table_counts_[nr];
    if (c.calls > 0) out.push_back({std::string(kSyscallTable[nr].name), c.calls, c.failures});
  }
  for (const auto& [nr, c] : other_counts_) {
    out.push_back({SyscallName(nr), c.calls, c.failures});
  }
  if (overflow_counts_.calls > 0) {
    out.push_back({kOtherNumbersName, overflow_counts_.calls, overflow_counts_.failures});
  }
  std::sort(out.begin(), out.end(), [](const SyscallCount& a, const SyscallCount& b) {
    return a.calls != b.calls ? a.calls > b.calls : a.name < b.name;
  });
  return out;
}

}  // namespace sandtrace::analyzer
