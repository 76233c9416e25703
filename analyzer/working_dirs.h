// The working directory of each traced process, as far as the stream tells it, and the
// resolution of the path arguments of syscalls against it. A process starts in its parent's
// directory (the root: the command's initial one, from the analysis config); a successful
// chdir moves it; fchdir, or a chdir to a path that cannot be resolved, makes it unknown.
// Threads share their process's directory. Paths are resolved lexically: "." and ".." are
// folded without looking at the file system, so symbolic links are not followed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sandtrace::analyzer {

// `path` with "." and ".." folded and repeated or trailing slashes removed, into *out
// ("/" for the root). `path` must be absolute.
void NormalizeAbsolute(std::string_view path, std::string* out);

class WorkingDirs {
 public:
  // Forgets every process; `initial` is the root process's directory ("" when unknown).
  void Reset(std::string initial);

  void OnSpawn(int32_t tid, int32_t tgid, int32_t parent_tid, bool thread);
  void OnExit(int32_t tid, int32_t tgid);
  // After a successful chdir of process `tgid` to `dir` (as SyscallView resolved it).
  void OnChdir(int32_t tgid, std::string_view dir, bool resolved);
  // After a successful fchdir: the directory is unknown from now on.
  void OnFchdir(int32_t tgid) { OnChdir(tgid, {}, false); }

  // The directory of process `tgid`; empty when unknown.
  std::string_view Of(int32_t tgid) const;

  // `path` made absolute and normalised for process `tgid`. `dirfd` is the directory fd the
  // path is relative to (kAtFdCwd or none: the working directory). Returns `path` itself when
  // it is absolute and already normal, else a view of *scratch; *resolved is false (and
  // `path` returned) when the path is relative to an unknown directory or another dirfd.
  std::string_view Resolve(int32_t tgid, std::optional<int32_t> dirfd, std::string_view path,
                           bool* resolved, std::string* scratch) const;

 private:
  std::string initial_;
  std::unordered_map<int32_t, std::string> dirs_;     // processes not in initial_ ("" unknown)
  std::unordered_map<int32_t, int32_t> thread_tgid_;  // non-leader threads -> their process
};

}  // namespace sandtrace::analyzer
