#include "cli/trace_selection.h"

#include <sys/syscall.h>

#include <algorithm>
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
    {"file_read", Category::kFileRead},  {"file_write", Category::kFileWrite},
    {"file_metadata", Category::kFileMetadata}, {"directory", Category::kDirectory},
    {"process", Category::kProcess},     {"network", Category::kNetwork},
    {"memory", Category::kMemory},       {"signal", Category::kSignal},
    {"ipc", Category::kIpc},             {"system", Category::kSystem},
    {"other", Category::kOther},
};

// Opens that the analyser files under file_write when their flags write.
constexpr int kOpens[] = {SYS_open, SYS_openat, SYS_openat2, SYS_creat};
constexpr int kAlwaysTraced[] = {SYS_execve, SYS_execveat, SYS_fork,
                                 SYS_vfork,  SYS_clone,    SYS_clone3};

void AddCategory(Category category, std::vector<int>* out) {
  for (int nr = 0; nr <= analyzer::kMaxSyscall; ++nr) {
    const analyzer::SyscallInfo* info = analyzer::FindSyscall(nr);
    if (info && !info->name.empty() && info->category == category) out->push_back(nr);
  }
  if (category == Category::kFileWrite) out->insert(out->end(), std::begin(kOpens), std::end(kOpens));
}

// strace's %file: every syscall that takes a file name (a path argument), whatever it does
// with it (open, stat, exec, mount, ...); calls on a descriptor (read, getdents64) are not in it.
void AddTakesPath(std::vector<int>* out) {
  for (int nr = 0; nr <= analyzer::kMaxSyscall; ++nr) {
    const analyzer::SyscallInfo* info = analyzer::FindSyscall(nr);
    if (info == nullptr || info->name.empty()) continue;
    if (std::find(info->args.begin(), info->args.end(), analyzer::ArgKind::kPath) !=
        info->args.end()) {
      out->push_back(nr);
    }
  }
}

int NumberOf(std::string_view name) {
  for (int nr = 0; nr <= analyzer::kMaxSyscall; ++nr) {
    const analyzer::SyscallInfo* info = analyzer::FindSyscall(nr);
    if (info && info->name == name) return nr;
  }
  return -1;
}

void SortUnique(std::vector<int>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

}  // namespace

Result<std::vector<int>> SelectSyscalls(const std::string& selection) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos <= selection.size()) {
    size_t end = selection.find(',', pos);
    if (end == std::string::npos) end = selection.size();
    std::string_view item(selection.data() + pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    if (item.front() == '%') item.remove_prefix(1);
    if (item == "all") return std::vector<int>{};
    bool known = false;
    if (item == "file") {
      AddTakesPath(&out);
      known = true;
    }
    for (const ClassName& c : kClasses) {
      if (item == c.name) {
        AddCategory(c.category, &out);
        known = true;
      }
    }
    if (!known) {
      const int nr = NumberOf(item);
      if (nr < 0) {
        return PlainError("--trace: unknown class or syscall \"" + std::string(item) +
                          "\" (classes: file, file_read, file_write, file_metadata, directory, "
                          "process, network, memory, signal, ipc, system, other, all)");
      }
      out.push_back(nr);
    }
  }
  SortUnique(&out);
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
