#include "cli/trace_selection.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <algorithm>

namespace sandtrace::cli {
namespace {

bool Has(const std::vector<int>& v, int nr) { return std::binary_search(v.begin(), v.end(), nr); }

TEST(TraceSelection, FileIsStraceFileClassTheCallsThatTakeAFileName) {
  auto file = SelectSyscalls("file");
  ASSERT_TRUE(file) << file.error().message();
  for (int nr : {SYS_open, SYS_openat, SYS_openat2, SYS_newfstatat, SYS_statx, SYS_access,
                 SYS_execve, SYS_execveat, SYS_unlink, SYS_unlinkat, SYS_rename, SYS_mkdir,
                 SYS_rmdir, SYS_readlink, SYS_chdir, SYS_statfs, SYS_mount, SYS_truncate,
                 SYS_inotify_add_watch, SYS_getxattr}) {
    EXPECT_TRUE(Has(*file, nr)) << nr;
  }
  for (int nr : {SYS_read, SYS_write, SYS_close, SYS_getdents64, SYS_fstat, SYS_fchdir,
                 SYS_ftruncate, SYS_mmap, SYS_getppid, SYS_connect}) {
    EXPECT_FALSE(Has(*file, nr)) << nr;
  }
  auto percent = SelectSyscalls("%file");
  ASSERT_TRUE(percent);
  EXPECT_EQ(*percent, *file);
}

TEST(TraceSelection, ProcessIsStraceProcessClassAProcessLife) {
  auto process = SelectSyscalls("process");
  ASSERT_TRUE(process) << process.error().message();
  for (int nr : {SYS_clone, SYS_clone3, SYS_fork, SYS_vfork, SYS_execve, SYS_execveat, SYS_exit,
                 SYS_exit_group, SYS_wait4, SYS_waitid, SYS_kill, SYS_tkill, SYS_tgkill,
                 SYS_rt_sigqueueinfo, SYS_rt_tgsigqueueinfo, SYS_pidfd_send_signal}) {
    EXPECT_TRUE(Has(*process, nr)) << nr;
  }
  // In the JSONL category `process`, not in strace's class: every program's start-up makes
  // the first five.
  for (int nr : {SYS_arch_prctl, SYS_set_tid_address, SYS_set_robust_list, SYS_rseq, SYS_prlimit64,
                 SYS_getpid, SYS_setuid, SYS_prctl, SYS_sched_yield}) {
    EXPECT_FALSE(Has(*process, nr)) << nr;
  }
  auto percent = SelectSyscalls("%process");
  ASSERT_TRUE(percent);
  EXPECT_EQ(*percent, *process);
}

TEST(TraceSelection, CategoryClassesAndNamesCombineSortedAndUnique) {
  auto sel = SelectSyscalls("file_read,getdents64,read,,openat");
  ASSERT_TRUE(sel) << sel.error().message();
  EXPECT_TRUE(std::is_sorted(sel->begin(), sel->end()));
  EXPECT_EQ(std::adjacent_find(sel->begin(), sel->end()), sel->end());
  EXPECT_TRUE(Has(*sel, SYS_read));
  EXPECT_TRUE(Has(*sel, SYS_getdents64));
  EXPECT_TRUE(Has(*sel, SYS_openat));
  EXPECT_FALSE(Has(*sel, SYS_write));
  // open/openat count as file_write too (a write flag reclassifies them).
  auto write = SelectSyscalls("file_write");
  ASSERT_TRUE(write);
  EXPECT_TRUE(Has(*write, SYS_write));
  EXPECT_TRUE(Has(*write, SYS_openat));
}

TEST(TraceSelection, AllMeansNoPreFilterAndUnknownNamesAreRefused) {
  auto all = SelectSyscalls("file,all");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());
  auto bad = SelectSyscalls("file,opnat");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("\"opnat\""), std::string::npos);
}

TEST(TraceSelection, TheTracerAlwaysSeesExecAndTheForkFamily) {
  auto sel = SelectSyscalls("network");
  ASSERT_TRUE(sel);
  const std::vector<int> traced = TracedSyscalls(*sel, {SYS_uname});
  for (int nr : {SYS_execve, SYS_execveat, SYS_fork, SYS_vfork, SYS_clone, SYS_clone3,
                 SYS_uname, SYS_connect}) {
    EXPECT_TRUE(Has(traced, nr)) << nr;
  }
  EXPECT_FALSE(Has(traced, SYS_openat));
}

TEST(TraceSelection, DescIsStraceDescClassTheCallsThatTakeADescriptor) {
  auto desc = SelectSyscalls("%desc");
  ASSERT_TRUE(desc) << desc.error().message();
  for (int nr : {SYS_read, SYS_write, SYS_close, SYS_getdents64, SYS_fstat, SYS_openat,
                 SYS_newfstatat, SYS_fchdir, SYS_mmap, SYS_ioctl, SYS_connect, SYS_sendto}) {
    EXPECT_TRUE(Has(*desc, nr)) << nr;
  }
  for (int nr : {SYS_open, SYS_stat, SYS_getppid, SYS_execve, SYS_kill, SYS_pipe2}) {
    EXPECT_FALSE(Has(*desc, nr)) << nr;
  }
  auto net = SelectSyscalls("%net");
  auto network = SelectSyscalls("network");
  ASSERT_TRUE(net && network);
  EXPECT_EQ(*net, *network);
  EXPECT_TRUE(Has(*net, SYS_connect));
}

// As strace's `-e trace=!set`: every syscall the table names but those in the set.
TEST(TraceSelection, LeadingBangSelectsEverySyscallButTheListedOnes) {
  auto but = SelectSyscalls("!read,write,%file");
  ASSERT_TRUE(but) << but.error().message();
  auto file = SelectSyscalls("file");
  ASSERT_TRUE(file);
  EXPECT_TRUE(std::is_sorted(but->begin(), but->end()));
  for (int nr : {SYS_read, SYS_write, SYS_openat, SYS_newfstatat, SYS_execve}) {
    EXPECT_FALSE(Has(*but, nr)) << nr;
  }
  for (int nr : {SYS_close, SYS_getdents64, SYS_getppid, SYS_mmap, SYS_clone, SYS_exit_group}) {
    EXPECT_TRUE(Has(*but, nr)) << nr;
  }
  // Together with the set itself, the complement covers every syscall of either.
  std::vector<int> both = *but;
  for (int nr : *file) EXPECT_FALSE(Has(*but, nr)) << nr;
  both.insert(both.end(), file->begin(), file->end());
  both.push_back(SYS_read);
  both.push_back(SYS_write);
  std::sort(both.begin(), both.end());
  auto none_excluded = SelectSyscalls("!none");
  ASSERT_TRUE(none_excluded);
  EXPECT_EQ(both, *none_excluded);
  auto bad = SelectSyscalls("!reed");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("\"reed\""), std::string::npos);
}

TEST(TraceSelection, NoneSelectsOnlyWhatIsTracedAnyway) {
  for (const char* nothing : {"none", "%none", "!all", "!%all,read"}) {
    auto sel = SelectSyscalls(nothing);
    ASSERT_TRUE(sel) << nothing;
    ASSERT_FALSE(sel->empty()) << nothing << ": an empty list would mean every syscall";
    EXPECT_EQ(TracedSyscalls(*sel, {}), TracedSyscalls({SYS_execve}, {})) << nothing;
  }
  auto empty = SelectSyscalls(",");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());  // an empty selection: every syscall
  auto none_read = SelectSyscalls("none,read");
  ASSERT_TRUE(none_read);
  EXPECT_EQ(*none_read, std::vector<int>{SYS_read});
}

}  // namespace
}  // namespace sandtrace::cli
