#include "analyzer/decoder.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/analyzer/syscall_records.h"

namespace sandtrace::analyzer {
namespace {

using namespace testing;
using wire::CaptureKind;

constexpr int kOpen = 2, kConnect = 42, kSendto = 44, kBind = 49, kExecve = 59, kKill = 62,
              kRename = 82, kMkdir = 83, kCreat = 85, kOpenat = 257, kRenameat2 = 316,
              kExecveat = 322, kOpenat2 = 437, kTgkill = 234, kRtSigaction = 13, kRead = 0;

DecodedArgs Decode(const wire::SyscallRecord& r) { return DecodeArgs(r, FindSyscall(r.nr)); }

Category CategoryOf(const wire::SyscallRecord& r) {
  return EffectiveCategory(*FindSyscall(r.nr), Decode(r));
}

TEST(Decoder, OpenatPathFlagsAndCwd) {
  auto r = Syscall(kOpenat, {uint64_t(int64_t(-100)), 0x1000, O_RDONLY | O_CLOEXEC, 0}, 3);
  Capture(r, 1, CaptureKind::kString, "/etc/passwd");
  const DecodedArgs d = Decode(r);
  ASSERT_TRUE(d.dirfd && d.path && d.open_flags);
  EXPECT_EQ(*d.dirfd, kAtFdCwd);
  EXPECT_EQ(*d.path, "/etc/passwd");
  EXPECT_EQ(*d.open_flags, uint32_t(O_RDONLY | O_CLOEXEC));
  EXPECT_FALSE(d.mode);  // no O_CREAT: the mode argument is garbage
  EXPECT_FALSE(d.truncated);
  EXPECT_EQ(d.size(), 3);
}

TEST(Decoder, DirfdUsesTheLow32Bits) {
  // A 32-bit AT_FDCWD zero-extended into the register is still AT_FDCWD.
  auto r = Syscall(kOpenat, {0xffffff9cull, 0, O_RDONLY, 0});
  EXPECT_EQ(*Decode(r).dirfd, kAtFdCwd);
  auto fd = Syscall(kOpenat, {7, 0, O_RDONLY, 0});
  EXPECT_EQ(*Decode(fd).dirfd, 7);
}

TEST(Decoder, OpenWithCreateHasAMode) {
  auto r = Syscall(kOpenat, {uint64_t(-100), 0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644});
  Capture(r, 1, CaptureKind::kString, "out.txt");
  const DecodedArgs d = Decode(r);
  ASSERT_TRUE(d.mode);
  EXPECT_EQ(*d.mode, 0644u);
  auto legacy = Syscall(kOpen, {0, O_RDWR | O_CREAT, 0600});
  EXPECT_EQ(*Decode(legacy).mode, 0600u);
}

TEST(Decoder, OpenCategoryFollowsTheWriteFlags) {
  EXPECT_EQ(CategoryOf(Syscall(kOpenat, {uint64_t(-100), 0, O_RDONLY | O_CLOEXEC})),
            Category::kFileRead);
  EXPECT_EQ(CategoryOf(Syscall(kOpenat, {uint64_t(-100), 0, O_RDONLY | O_DIRECTORY})),
            Category::kFileRead);
  for (uint64_t flags : {O_WRONLY, O_RDWR, O_RDONLY | O_CREAT, O_RDONLY | O_TRUNC,
                         O_RDONLY | O_APPEND, O_WRONLY | O_CREAT | O_TRUNC}) {
    EXPECT_EQ(CategoryOf(Syscall(kOpenat, {uint64_t(-100), 0, flags})), Category::kFileWrite)
        << flags;
    EXPECT_EQ(CategoryOf(Syscall(kOpen, {0, flags})), Category::kFileWrite) << flags;
  }
  EXPECT_EQ(CategoryOf(Syscall(kCreat, {0, 0644})), Category::kFileWrite);
  EXPECT_EQ(CategoryOf(Syscall(kOpenat2, {uint64_t(-100), 0, 0x5000, 24})), Category::kFileRead);
  EXPECT_EQ(CategoryOf(Syscall(kRead, {3, 0, 10})), Category::kFileRead);
}

TEST(Decoder, TwoPathsAndMode) {
  auto r = Syscall(kRename, {1, 2});
  Capture(r, 0, CaptureKind::kString, "a.tmp");
  Capture(r, 1, CaptureKind::kString, "a.txt");
  DecodedArgs d = Decode(r);
  EXPECT_EQ(*d.path, "a.tmp");
  EXPECT_EQ(*d.path2, "a.txt");

  auto at = Syscall(kRenameat2, {uint64_t(-100), 1, 5, 2, 0});
  Capture(at, 1, CaptureKind::kString, "old");
  Capture(at, 3, CaptureKind::kString, "new");
  d = Decode(at);
  EXPECT_EQ(*d.path, "old");
  EXPECT_EQ(*d.path2, "new");
  EXPECT_EQ(*d.dirfd, kAtFdCwd);

  auto mk = Syscall(kMkdir, {1, 0755});
  Capture(mk, 0, CaptureKind::kString, "dir", /*truncated=*/true);
  d = Decode(mk);
  EXPECT_EQ(*d.mode, 0755u);
  EXPECT_TRUE(d.truncated);
}

TEST(Decoder, PathsAreBytes) {
  auto r = Syscall(kOpenat, {uint64_t(-100), 1, O_RDONLY});
  Capture(r, 1, CaptureKind::kString, std::string("/tmp/\xff\xfe", 7));
  EXPECT_EQ(*Decode(r).path, std::string("/tmp/\xff\xfe", 7));
}

TEST(Decoder, MissingCaptureLeavesThePathOut) {
  const DecodedArgs d = Decode(Syscall(kOpenat, {uint64_t(-100), 1, O_RDONLY}));
  EXPECT_FALSE(d.path);
  EXPECT_TRUE(d.dirfd);
}

TEST(Decoder, Inet) {
  auto r = Syscall(kConnect, {3, 1, 16}, -111);
  Capture(r, 1, CaptureKind::kSockaddr, Inet("127.0.0.1", 8080));
  const DecodedArgs d = Decode(r);
  ASSERT_TRUE(d.addr);
  EXPECT_EQ(d.addr->family, AF_INET);
  EXPECT_TRUE(d.addr->has_address);
  EXPECT_EQ(d.addr->address, "127.0.0.1");
  EXPECT_EQ(d.addr->port, 8080);
  EXPECT_EQ(*d.fd, 3);
}

TEST(Decoder, Inet6) {
  auto r = Syscall(kSendto, {3, 1, 10, 0, 1, 28});
  Capture(r, 4, CaptureKind::kSockaddr, Inet6("2001:db8::1", 53));
  const DecodedArgs d = Decode(r);
  ASSERT_TRUE(d.addr);
  EXPECT_EQ(d.addr->family, AF_INET6);
  EXPECT_EQ(d.addr->address, "2001:db8::1");
  EXPECT_EQ(d.addr->port, 53);
  EXPECT_EQ(*d.count, 10u);
}

TEST(Decoder, UnixPathAndAbstract) {
  auto r = Syscall(kConnect, {3, 1, 0});
  Capture(r, 1, CaptureKind::kSockaddr, Unix("/run/docker.sock"));
  EXPECT_EQ(Decode(r).addr->address, "/run/docker.sock");
  EXPECT_EQ(Decode(r).addr->family, AF_UNIX);

  auto abstract = Syscall(kBind, {3, 1, 0});
  Capture(abstract, 1, CaptureKind::kSockaddr, Unix(std::string("\0my-socket", 10)));
  EXPECT_EQ(Decode(abstract).addr->address, "@my-socket");
}

TEST(Decoder, OtherFamiliesAndShortAddresses) {
  sockaddr sa{};
  sa.sa_family = AF_NETLINK;
  auto r = Syscall(kBind, {3, 1, 12});
  Capture(r, 1, CaptureKind::kSockaddr, Bytes(&sa, 12));
  DecodedArgs d = Decode(r);
  ASSERT_TRUE(d.addr);
  EXPECT_EQ(d.addr->family, AF_NETLINK);
  EXPECT_FALSE(d.addr->has_address);

  auto truncated = Syscall(kConnect, {3, 1, 4});
  Capture(truncated, 1, CaptureKind::kSockaddr, Inet("10.0.0.1", 80).substr(0, 4));
  d = Decode(truncated);
  ASSERT_TRUE(d.addr);
  EXPECT_EQ(d.addr->family, AF_INET);
  EXPECT_FALSE(d.addr->has_address);

  auto empty = Syscall(kConnect, {3, 1, 0});
  Capture(empty, 1, CaptureKind::kSockaddr, "");
  EXPECT_FALSE(Decode(empty).addr);
}

TEST(Decoder, ExecveArgv) {
  auto r = Syscall(kExecve, {1, 2, 3});
  Capture(r, 0, CaptureKind::kString, "/bin/ls");
  Capture(r, 1, CaptureKind::kStringList, std::string("ls\0-l\0/tmp", 10));
  const DecodedArgs d = Decode(r);
  EXPECT_EQ(*d.path, "/bin/ls");
  EXPECT_EQ(*d.argv, std::string("ls\0-l\0/tmp", 10));

  auto at = Syscall(kExecveat, {4, 1, 2, 3, 0x1000});
  Capture(at, 1, CaptureKind::kString, "");
  Capture(at, 2, CaptureKind::kStringList, "prog");
  const DecodedArgs d2 = Decode(at);
  EXPECT_EQ(*d2.path, "");
  EXPECT_EQ(*d2.argv, "prog");
  EXPECT_EQ(*d2.dirfd, 4);
}

TEST(Decoder, Signals) {
  DecodedArgs d = Decode(Syscall(kKill, {1234, SIGTERM}));
  EXPECT_EQ(*d.target_pid, 1234);
  EXPECT_EQ(*d.signal, SIGTERM);
  d = Decode(Syscall(kKill, {uint64_t(-1), SIGKILL}));
  EXPECT_EQ(*d.target_pid, -1);
  d = Decode(Syscall(kTgkill, {10, 11, SIGUSR1}));
  EXPECT_EQ(*d.target_pid, 11);
  EXPECT_EQ(*d.signal, SIGUSR1);
  d = Decode(Syscall(kRtSigaction, {SIGINT, 1, 0, 8}));
  EXPECT_EQ(*d.signal, SIGINT);
  EXPECT_FALSE(d.target_pid);
}

TEST(Decoder, NumbersOutsideTheTableDecodeNothing) {
  auto r = Syscall(500, {1, 2});
  Capture(r, 0, CaptureKind::kString, "/x");
  EXPECT_EQ(DecodeArgs(r, nullptr).size(), 0);
}

}  // namespace
}  // namespace sandtrace::analyzer
