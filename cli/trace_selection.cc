#include "cli/trace_selection.h"

#include <sys/syscall.h>

#include <algorithm>
#include <initializer_list>
#include <string_view>

#include "analyzer/syscall_table.h"

namespace sandtrace::cli {
namespace {

using analyzer::Category;

struct ClassName {
  std::string_view name;
  Category category;
};

constexpr ClassName kClasses[] = {
    {"file_read", Category::kFileRead},
    {"file_write", Category::kFileWrite},
    {"file_metadata", Category::kFileMetadata},
    {"directory", Category::kDirectory},
    {"network", Category::kNetwork},
    {"memory", Category::kMemory},
    {"signal", Category::kSignal},
    {"ipc", Category::kIpc},
    {"system", Category::kSystem},
    {"other", Category::kOther},
};

// Opens that the analyser files under file_write when their flags write.
constexpr int kOpens[] = {SYS_open, SYS_openat, SYS_openat2, SYS_creat};
// strace's %process (its TP flag): a process's life, from its creation and exec to its end, the
// waits for it and the signals sent to it. Not the rest of the JSONL category `process` (ids,
// credentials, limits, scheduling, arch_prctl, rseq, ...), which every program's start-up calls.
constexpr int kProcessLife[] = {SYS_clone,
                                SYS_clone3,
                                SYS_fork,
                                SYS_vfork,
                                SYS_execve,
                                SYS_execveat,
                                SYS_exit,
                                SYS_exit_group,
                                SYS_wait4,
                                SYS_waitid,
                                SYS_kill,
                                SYS_tkill,
                                SYS_tgkill,
                                SYS_rt_sigqueueinfo,
                                SYS_rt_tgsigqueueinfo,
                                SYS_pidfd_send_signal};
constexpr int kAlwaysTraced[] = {SYS_execve, SYS_execveat, SYS_fork,
                                 SYS_vfork,  SYS_clone,    SYS_clone3};

// Appends the number of every syscall the table names for which `wanted(nr, info)` holds.
template <typename Predicate>
void AddNamed(Predicate wanted, std::vector<int>* out) {
  for (int nr = 0; nr <= analyzer::kMaxSyscall; ++nr) {
    const analyzer::SyscallInfo& info = analyzer::kSyscallTable[static_cast<size_t>(nr)];
    if (!info.name.empty() && wanted(nr, info)) out->push_back(nr);
  }
}

void AddCategory(Category category, std::vector<int>* out) {
  AddNamed([&](int, const analyzer::SyscallInfo& info) { return info.category == category; },
           out);
  if (category == Category::kFileWrite) out->insert(out->end(), std::begin(kOpens), std::end(kOpens));
}

// The syscalls with an argument of one of `kinds`. strace's %file: those that take a file
// name (a path argument), whatever they do with it (open, stat, exec, mount, ...), not the calls
// on a descriptor (read, getdents64); strace's %desc: those that take a descriptor.
void AddTaking(std::initializer_list<analyzer::ArgKind> kinds, std::vector<int>* out) {
  AddNamed(
      [&](int, const analyzer::SyscallInfo& info) {
        return std::find_first_of(info.args.begin(), info.args.end(), kinds.begin(),
                                  kinds.end()) != info.args.end();
      },
      out);
}

void SortUnique(std::vector<int>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

}  // namespace

Result<std::vector<int>> SelectSyscalls(const std::string& selection) {
  std::string_view rest = selection;
  const bool negated = !rest.empty() && rest.front() == '!';
  if (negated) rest.remove_prefix(1);
  std::vector<int> out;
  bool all = false;
  bool none = false;
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t end = rest.find(',', pos);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view item = rest.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    if (item.front() == '%') item.remove_prefix(1);
    if (item == "all") {
      all = true;
      continue;
    }
    if (item == "none") {
      none = true;
      continue;
    }
    if (item == "net") item = "network";  // strace's name of the class
    bool known = false;
    if (item == "file") {
      AddTaking({analyzer::ArgKind::kPath}, &out);
      known = true;
    } else if (item == "desc") {
      AddTaking({analyzer::ArgKind::kFd, analyzer::ArgKind::kDirFd}, &out);
      known = true;
    } else if (item == "process") {
      out.insert(out.end(), std::begin(kProcessLife), std::end(kProcessLife));
      known = true;
    }
    for (const ClassName& c : kClasses) {
      if (item == c.name) {
        AddCategory(c.category, &out);
        known = true;
      }
    }
    if (!known) {
      const int nr = analyzer::SyscallNumber(item);
      if (nr < 0) {
        return PlainError("--trace: unknown class or syscall \"" + std::string(item) +
                          "\" (classes: file, desc, file_read, file_write, file_metadata, "
                          "directory, process, network, memory, signal, ipc, system, other, "
                          "all, none; a leading ! selects every syscall but those)");
      }
      out.push_back(nr);
    }
  }
  SortUnique(&out);
  if (negated) {
    // Every syscall the table names but the listed ones ("!all": none of them).
    std::vector<int> others;
    if (!all) {
      AddNamed(
          [&](int nr, const analyzer::SyscallInfo&) {
            return !std::binary_search(out.begin(), out.end(), nr);
          },
          &others);
    }
    out = std::move(others);
  } else if (all || (out.empty() && !none)) {
    return std::vector<int>{};  // "all", or an empty selection
  }
  // Nothing selected ("none", "!all"): the calls traced anyway stand for it, since an empty
  // list means every syscall.
  if (out.empty()) out.assign(std::begin(kAlwaysTraced), std::end(kAlwaysTraced));
  return out;
}

std::vector<int> TracedSyscalls(const std::vector<int>& selected, const std::vector<int>& extra) {
  std::vector<int> out = selected;
  out.insert(out.end(), std::begin(kAlwaysTraced), std::end(kAlwaysTraced));
  out.insert(out.end(), extra.begin(), extra.end());
  SortUnique(&out);
  return out;
}

}  // namespace sandtrace::cli
