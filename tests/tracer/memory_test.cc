// Reads the memory of a real forked child with process_vm_readv.
#include "tracer/memory.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace sandtrace::tracer {
namespace {

// A child that shares our address layout (fork) and waits to be killed.
class ChildTest : public ::testing::Test {
 protected:
  void StartChild() {
    child_ = fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
      for (;;) pause();
    }
  }
  void TearDown() override {
    if (child_ > 0) {
      kill(child_, SIGKILL);
      waitpid(child_, nullptr, 0);
    }
  }
  pid_t child_ = -1;
};

TEST_F(ChildTest, ReadsStringsAcrossPagesUpToTheEndOfAMapping) {
  // Two pages; the string ends exactly at the end of the second, the third is unmapped.
  char* map = static_cast<char*>(
      mmap(nullptr, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(map, MAP_FAILED);
  munmap(map + 2 * 4096, 4096);
  std::string expected(6000, 'a');
  char* start = map + 2 * 4096 - 6001;
  memcpy(start, expected.c_str(), 6001);
  StartChild();
  CopiedBytes s = ReadString(child_, reinterpret_cast<uint64_t>(start), 8192);
  EXPECT_FALSE(s.truncated);
  EXPECT_EQ(s.bytes, expected);

  CopiedBytes capped = ReadString(child_, reinterpret_cast<uint64_t>(start), 100);
  EXPECT_TRUE(capped.truncated);
  EXPECT_EQ(capped.bytes, std::string(100, 'a'));

  // Without its NUL before the unmapped page: truncated, not an error.
  map[2 * 4096 - 1] = 'x';
  pid_t first = child_;
  kill(first, SIGKILL);
  waitpid(first, nullptr, 0);
  StartChild();
  CopiedBytes unterminated = ReadString(child_, reinterpret_cast<uint64_t>(start), 8192);
  EXPECT_TRUE(unterminated.truncated);
  EXPECT_EQ(unterminated.bytes.size(), 6001u);
  munmap(map, 2 * 4096);
}

TEST_F(ChildTest, BadPointersAreTruncatedNotFatal) {
  StartChild();
  EXPECT_TRUE(ReadString(child_, 0, 10).truncated);
  EXPECT_TRUE(ReadString(child_, 16, 10).truncated);
  CopiedBytes b = ReadBytes(child_, 16, 8);
  EXPECT_TRUE(b.truncated);
  EXPECT_TRUE(b.bytes.empty());
}

TEST_F(ChildTest, ReadsStringArrays) {
  const char* argv[] = {"ls", "-l", "", "/tmp", nullptr};
  StartChild();
  CopiedBytes list = ReadStringArray(child_, reinterpret_cast<uint64_t>(argv), 16, 1024);
  EXPECT_FALSE(list.truncated);
  EXPECT_EQ(list.bytes, std::string("ls\0-l\0\0/tmp", 11));
  CopiedBytes few = ReadStringArray(child_, reinterpret_cast<uint64_t>(argv), 2, 1024);
  EXPECT_TRUE(few.truncated);
  EXPECT_EQ(few.bytes, std::string("ls\0-l", 5));
}

// Pointer arrays are read a page at a time: the pointers on either side of a page boundary,
// aligned or not, and an array that ends where its mapping ends.
TEST_F(ChildTest, ReadsStringArraysAcrossPagesAndUpToTheEndOfAMapping) {
  char* map = static_cast<char*>(
      mmap(nullptr, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(map, MAP_FAILED);
  munmap(map + 2 * 4096, 4096);
  static const char* const kItems[] = {"a", "bb", "ccc", "dddd", "eeeee"};
  const std::string joined("a\0bb\0ccc\0dddd\0eeeee", 19);
  auto put = [&](char* at, bool terminated) {
    for (size_t i = 0; i < 5; ++i) memcpy(at + i * 8, &kItems[i], 8);
    if (terminated) memset(at + 5 * 8, 0, 8);
  };
  // Aligned, two pointers before the boundary and the rest (and the NULL) after it.
  char* const across = map + 4096 - 2 * 8;
  put(across, true);
  // Misaligned by 3 bytes: the third pointer straddles the boundary (written over `across`
  // for a second child).
  char* const straddling = map + 4096 - 2 * 8 - 3;
  // Ending exactly at the end of the mapping: the NULL is its last 8 bytes.
  char* const at_end = map + 2 * 4096 - 6 * 8;
  put(at_end, true);
  // Cut off by the unmapped page: no NULL before it.
  char* const cut = map + 2 * 4096 - 5 * 8;
  // The whole array is read, and it is truncated only when its NULL could not be.
  auto expect_all_read = [&](const char* at, bool truncated) {
    CopiedBytes read = ReadStringArray(child_, reinterpret_cast<uint64_t>(at), 16, 1024);
    EXPECT_EQ(read.truncated, truncated) << static_cast<const void*>(at);
    EXPECT_EQ(read.bytes, joined) << static_cast<const void*>(at);
  };
  StartChild();
  expect_all_read(across, false);
  expect_all_read(at_end, false);
  kill(child_, SIGKILL);
  waitpid(child_, nullptr, 0);
  child_ = -1;
  put(straddling, true);
  put(cut, false);  // overwrites at_end's array: its last five slots are this one
  StartChild();
  expect_all_read(straddling, false);
  expect_all_read(cut, true);
  munmap(map, 2 * 4096);
}

}  // namespace
}  // namespace sandtrace::tracer
