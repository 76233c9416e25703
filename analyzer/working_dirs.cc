#include "analyzer/working_dirs.h"

#include "analyzer/decoder.h"

namespace sandtrace::analyzer {
namespace {

// True when the absolute `path` has no empty, "." or ".." component and no trailing slash.
bool IsNormal(std::string_view path) {
  if (path == "/") return true;
  if (path.back() == '/') return false;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '/') continue;
    const std::string_view rest = path.substr(i + 1);
    if (rest.starts_with('/') || rest == "." || rest.starts_with("./") || rest == ".." ||
        rest.starts_with("../")) {
      return false;
    }
  }
  return true;
}

// Appends the components of `path` to the normal absolute *out, folding "." and "..".
void AppendComponents(std::string_view path, std::string* out) {
  size_t pos = 0;
  while (pos < path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      const size_t slash = out->rfind('/');
      out->resize(slash == 0 || slash == std::string::npos ? 1 : slash);
      continue;
    }
    if (out->back() != '/') out->push_back('/');
    out->append(part);
  }
}

}  // namespace

void NormalizeAbsolute(std::string_view path, std::string* out) {
  out->assign(1, '/');
  AppendComponents(path, out);
}

void WorkingDirs::Reset(std::string initial) {
  initial_ = std::move(initial);
  if (!initial_.empty() && initial_[0] != '/') initial_.clear();  // relative: useless
  dirs_.clear();
  thread_tgid_.clear();
}

void WorkingDirs::OnSpawn(int32_t tid, int32_t tgid, int32_t parent_tid, bool thread) {
  if (thread) {
    if (tid != tgid) thread_tgid_[tid] = tgid;
    return;
  }
  const auto parent_thread = thread_tgid_.find(parent_tid);
  const int32_t parent = parent_thread == thread_tgid_.end() ? parent_tid : parent_thread->second;
  const auto inherited = dirs_.find(parent);
  if (inherited != dirs_.end()) {
    dirs_[tgid] = inherited->second;
  } else {
    dirs_.erase(tgid);  // a reused pid: the parent's directory is the initial one
  }
}

void WorkingDirs::OnExit(int32_t tid, int32_t tgid) {
  thread_tgid_.erase(tid);
  if (tid == tgid) dirs_.erase(tgid);
}

void WorkingDirs::OnChdir(int32_t tgid, std::string_view dir, bool resolved) {
  const std::string_view known = resolved ? dir : std::string_view();
  if (known == initial_) {
    dirs_.erase(tgid);
  } else {
    dirs_[tgid].assign(known);
  }
}

std::string_view WorkingDirs::Of(int32_t tgid) const {
  const auto it = dirs_.find(tgid);
  return it == dirs_.end() ? std::string_view(initial_) : std::string_view(it->second);
}

std::string_view WorkingDirs::Resolve(int32_t tgid, std::optional<int32_t> dirfd,
                                      std::string_view path, bool* resolved,
                                      std::string* scratch) const {
  *resolved = false;
  if (path.empty()) return path;
  if (path[0] == '/') {
    *resolved = true;
    if (IsNormal(path)) return path;
    NormalizeAbsolute(path, scratch);
    return *scratch;
  }
  if (dirfd && *dirfd != kAtFdCwd) return path;
  const std::string_view base = Of(tgid);
  if (base.empty()) return path;
  *resolved = true;
  NormalizeAbsolute(base, scratch);
  AppendComponents(path, scratch);
  return *scratch;
}

}  // namespace sandtrace::analyzer
