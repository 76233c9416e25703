#include "analyzer/syscall_table.h"

#include <gtest/gtest.h>

TEST(SyscallTable, Placeholder) { EXPECT_EQ(sandtrace::analyzer::SyscallName(0), "read"); }
