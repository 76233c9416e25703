#include "analyzer/names.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>

namespace sandtrace::analyzer {
namespace {

TEST(Names, ErrnoNamesMatchTheCLibrary) {
  EXPECT_EQ(ErrnoName(1), "EPERM");
  EXPECT_EQ(ErrnoName(2), "ENOENT");
  EXPECT_EQ(ErrnoName(133), "EHWPOISON");
  for (int e = 1; e <= 133; ++e) {
    const char* libc = strerrorname_np(e);
    if (libc != nullptr) {
      EXPECT_EQ(ErrnoName(e), libc) << e;
    }
  }
}

TEST(Names, KernelInternalAndUnknownErrnos) {
  EXPECT_EQ(ErrnoName(512), "ERESTARTSYS");
  EXPECT_EQ(ErrnoName(516), "ERESTART_RESTARTBLOCK");
  EXPECT_EQ(ErrnoName(524), "ENOTSUPP");
  EXPECT_EQ(ErrnoName(520), "errno_520");
  EXPECT_EQ(ErrnoName(4000), "errno_4000");
}

TEST(Names, Signals) {
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(SignalName(SIGSYS), "SIGSYS");
  EXPECT_EQ(SignalName(0), "0");
  EXPECT_EQ(SignalName(32), "SIGRTMIN");
  EXPECT_EQ(SignalName(34), "SIGRTMIN+2");
  EXPECT_EQ(SignalName(64), "SIGRTMIN+32");
  EXPECT_EQ(SignalName(65), "SIG_65");
  EXPECT_EQ(SignalName(SIGIO), "SIGIO");  // glibc calls it SIGPOLL; the kernel and strace SIGIO
  for (int s = 1; s < 32; ++s) {
    const char* abbrev = sigabbrev_np(s);
    if (abbrev != nullptr && s != SIGIO) {
      EXPECT_EQ(SignalName(s), std::string("SIG") + abbrev) << s;
    }
  }
}

TEST(Names, Families) {
  EXPECT_EQ(FamilyName(AF_INET), "AF_INET");
  EXPECT_EQ(FamilyName(AF_INET6), "AF_INET6");
  EXPECT_EQ(FamilyName(AF_UNIX), "AF_UNIX");
  EXPECT_EQ(FamilyName(AF_NETLINK), "AF_NETLINK");
  EXPECT_EQ(FamilyName(200), "AF_200");
}

TEST(Names, OpenFlags) {
  EXPECT_EQ(OpenFlagsName(O_RDONLY), "O_RDONLY");
  EXPECT_EQ(OpenFlagsName(O_RDONLY | O_CLOEXEC), "O_RDONLY|O_CLOEXEC");
  EXPECT_EQ(OpenFlagsName(O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC),
            "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC");
  EXPECT_EQ(OpenFlagsName(O_RDWR | O_APPEND), "O_RDWR|O_APPEND");
  EXPECT_EQ(OpenFlagsName(O_RDONLY | O_DIRECTORY | O_NONBLOCK), "O_RDONLY|O_NONBLOCK|O_DIRECTORY");
  EXPECT_EQ(OpenFlagsName(O_WRONLY | O_SYNC), "O_WRONLY|O_SYNC");
  EXPECT_EQ(OpenFlagsName(O_RDWR | O_TMPFILE), "O_RDWR|O_TMPFILE");
  EXPECT_EQ(OpenFlagsName(O_PATH), "O_RDONLY|O_PATH");
  EXPECT_EQ(OpenFlagsName(0100000), "O_RDONLY|O_LARGEFILE");
  EXPECT_EQ(OpenFlagsName(O_RDONLY | 0x80000000u), "O_RDONLY|0x80000000");
}

TEST(Names, WriteAndCreateFlags) {
  EXPECT_FALSE(OpenFlagsWrite(O_RDONLY | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW));
  EXPECT_TRUE(OpenFlagsWrite(O_WRONLY));
  EXPECT_TRUE(OpenFlagsWrite(O_RDWR));
  EXPECT_TRUE(OpenFlagsWrite(O_RDONLY | O_CREAT));
  EXPECT_TRUE(OpenFlagsWrite(O_RDONLY | O_TRUNC));
  EXPECT_TRUE(OpenFlagsWrite(O_RDONLY | O_APPEND));
  EXPECT_TRUE(OpenFlagsCreate(O_WRONLY | O_CREAT));
  EXPECT_TRUE(OpenFlagsCreate(O_RDWR | O_TMPFILE));
  EXPECT_FALSE(OpenFlagsCreate(O_WRONLY | O_TRUNC));
}

TEST(Names, Modes) {
  EXPECT_EQ(ModeName(0644), "0644");
  EXPECT_EQ(ModeName(0755), "0755");
  EXPECT_EQ(ModeName(0), "0000");
  EXPECT_EQ(ModeName(04755), "04755");
  EXPECT_EQ(ModeName(020644), "020644");
}

}  // namespace
}  // namespace sandtrace::analyzer
