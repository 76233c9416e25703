#include "analyzer/syscall_table.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

namespace sandtrace::analyzer {
namespace {

constexpr char kUnistdHeader[] = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";

std::map<int, std::string> HeaderNames() {
  std::map<int, std::string> names;
  std::ifstream header(kUnistdHeader);
  const std::regex define(R"(#define __NR_(\w+)\s+(\d+))");
  std::string line;
  std::smatch m;
  while (std::getline(header, line)) {
    if (std::regex_search(line, m, define)) names[std::stoi(m[2])] = m[1];
  }
  return names;
}

TEST(SyscallTable, NamesEverySyscallOfThisMachinesHeaders) {
  const std::map<int, std::string> names = HeaderNames();
  if (names.empty()) GTEST_SKIP() << kUnistdHeader << " is not installed";
  EXPECT_GT(names.size(), 350u);
  for (const auto& [nr, name] : names) {
    EXPECT_EQ(SyscallName(nr), name) << "number " << nr;
  }
}

TEST(SyscallTable, NamesTheSyscallsUpToKernel618) {
  const std::map<int, std::string> newer = {
      {451, "cachestat"},         {452, "fchmodat2"},        {453, "map_shadow_stack"},
      {454, "futex_wake"},        {455, "futex_wait"},       {456, "futex_requeue"},
      {457, "statmount"},         {458, "listmount"},        {459, "lsm_get_self_attr"},
      {460, "lsm_set_self_attr"}, {461, "lsm_list_modules"}, {462, "mseal"},
      {463, "setxattrat"},        {464, "getxattrat"},       {465, "listxattrat"},
      {466, "removexattrat"},     {467, "open_tree_attr"},   {468, "file_getattr"},
      {469, "file_setattr"},
  };
  for (const auto& [nr, name] : newer) EXPECT_EQ(SyscallName(nr), name);
}

TEST(SyscallTable, EveryAssignedNumberHasAName) {
  for (int nr = 0; nr <= kMaxSyscall; ++nr) {
    const bool assigned = nr <= 334 || nr >= 424;
    EXPECT_EQ(SyscallName(nr).starts_with("syscall_"), !assigned) << nr;
    EXPECT_EQ(kSyscallTable[nr].name, SyscallName(nr));
  }
}

TEST(SyscallTable, NamesAreUnique) {
  std::set<std::string_view> seen;
  for (const SyscallInfo& info : kSyscallTable) {
    EXPECT_TRUE(seen.insert(info.name).second) << "duplicate " << info.name;
  }
}

TEST(SyscallTable, UnassignedNumbersAreSyscallN) {
  EXPECT_EQ(SyscallName(335), "syscall_335");
  EXPECT_EQ(SyscallName(423), "syscall_423");
  EXPECT_EQ(SyscallName(470), "syscall_470");
  EXPECT_EQ(SyscallName(100000), "syscall_100000");
  EXPECT_EQ(SyscallName(-1), "syscall_-1");
  EXPECT_EQ(FindSyscall(470), nullptr);
  EXPECT_EQ(FindSyscall(-1), nullptr);
  EXPECT_EQ(SyscallCategory(470), Category::kOther);
}

TEST(SyscallTable, X32NumbersNameTheX32Syscall) {
  EXPECT_EQ(SyscallName(kX32Bit | 0), "x32:read");
  EXPECT_EQ(SyscallName(kX32Bit | 257), "x32:openat");
  EXPECT_EQ(SyscallName(kX32Bit | 512), "x32:rt_sigaction");
  EXPECT_EQ(SyscallName(kX32Bit | 520), "x32:execve");
  EXPECT_EQ(SyscallName(kX32Bit | 547), "x32:pwritev2");
  EXPECT_EQ(SyscallName(kX32Bit | 59), "syscall_1073741883");  // execve is 520 on x32
  EXPECT_EQ(SyscallName(kX32Bit | 548), "syscall_1073742372");
  EXPECT_EQ(SyscallCategory(kX32Bit | 520), Category::kProcess);
  EXPECT_EQ(SyscallCategory(kX32Bit | 42), Category::kNetwork);
}

TEST(SyscallTable, Categories) {
  auto category = [](int nr) { return FindSyscall(nr)->category; };
  EXPECT_EQ(category(0), Category::kFileRead);       // read
  EXPECT_EQ(category(1), Category::kFileWrite);      // write
  EXPECT_EQ(category(257), Category::kFileRead);     // openat, without flags
  EXPECT_EQ(category(87), Category::kFileWrite);     // unlink
  EXPECT_EQ(category(82), Category::kFileWrite);     // rename
  EXPECT_EQ(category(4), Category::kFileMetadata);   // stat
  EXPECT_EQ(category(21), Category::kFileMetadata);  // access
  EXPECT_EQ(category(83), Category::kDirectory);     // mkdir
  EXPECT_EQ(category(217), Category::kDirectory);    // getdents64
  EXPECT_EQ(category(9), Category::kMemory);         // mmap
  EXPECT_EQ(category(59), Category::kProcess);       // execve
  EXPECT_EQ(category(56), Category::kProcess);       // clone
  EXPECT_EQ(category(42), Category::kNetwork);       // connect
  EXPECT_EQ(category(62), Category::kSignal);        // kill
  EXPECT_EQ(category(13), Category::kSignal);        // rt_sigaction
  EXPECT_EQ(category(22), Category::kIpc);           // pipe
  EXPECT_EQ(category(202), Category::kIpc);          // futex
  EXPECT_EQ(category(228), Category::kSystem);       // clock_gettime
  EXPECT_EQ(category(3), Category::kOther);          // close
  EXPECT_STREQ(CategoryName(Category::kFileMetadata), "file_metadata");
}

TEST(SyscallTable, ArgumentKinds) {
  const SyscallInfo& openat = kSyscallTable[257];
  EXPECT_EQ(openat.args[0], ArgKind::kDirFd);
  EXPECT_EQ(openat.args[1], ArgKind::kPath);
  EXPECT_EQ(openat.args[2], ArgKind::kOpenFlags);
  EXPECT_EQ(openat.args[3], ArgKind::kCreateMode);
  EXPECT_EQ(openat.args[4], ArgKind::kNone);
  EXPECT_EQ(kSyscallTable[44].args[4], ArgKind::kSockaddr);  // sendto's dest_addr
  EXPECT_EQ(kSyscallTable[322].args[2], ArgKind::kArgv);     // execveat
}

// DecodeArgs stops at the first kNone.
TEST(SyscallTable, NoArgumentAfterTheFirstNone) {
  for (const SyscallInfo& info : kSyscallTable) {
    bool none_seen = false;
    for (ArgKind kind : info.args) {
      EXPECT_FALSE(none_seen && kind != ArgKind::kNone) << info.name;
      none_seen = none_seen || kind == ArgKind::kNone;
    }
  }
}

}  // namespace
}  // namespace sandtrace::analyzer
