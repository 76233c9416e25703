#include "tracer/capture_table.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>

namespace sandtrace::tracer {
namespace {

TEST(CaptureTableTest, PathArguments) {
  const CaptureSpec& openat = CapturesFor(SYS_openat);
  ASSERT_EQ(openat.count, 1);
  EXPECT_EQ(openat.items[0].arg, 1);
  EXPECT_EQ(openat.items[0].kind, wire::CaptureKind::kString);
  const CaptureSpec& renameat2 = CapturesFor(SYS_renameat2);
  ASSERT_EQ(renameat2.count, 2);
  EXPECT_EQ(renameat2.items[1].arg, 3);
}

TEST(CaptureTableTest, ExecveAndSockets) {
  const CaptureSpec& execve = CapturesFor(SYS_execve);
  ASSERT_EQ(execve.count, 2);
  EXPECT_EQ(execve.items[1].kind, wire::CaptureKind::kStringList);
  EXPECT_EQ(CapturesFor(SYS_connect).items[0].kind, wire::CaptureKind::kSockaddr);
  EXPECT_EQ(CapturesFor(SYS_sendto).items[0].arg, 4);
}

TEST(CaptureTableTest, NothingForPlainOrUnknownSyscalls) {
  EXPECT_EQ(CapturesFor(SYS_getpid).count, 0);
  EXPECT_EQ(CapturesFor(-1).count, 0);
  EXPECT_EQ(CapturesFor(100000).count, 0);
  EXPECT_EQ(CapturesFor(0x40000000 | SYS_openat).count, 0);
}

}  // namespace
}  // namespace sandtrace::tracer
