// The sandbox configuration the wrapper hands to the tracer (launcher/sandbox_config.h): every
// field survives the trip, and a damaged file is refused rather than read as a weaker sandbox.
#include "launcher/sandbox_config.h"

#include <gtest/gtest.h>

namespace sandtrace::launcher {
namespace {

SandboxConfig Enforcing() {
  SandboxConfig c;
  c.trace_only = false;
  c.session_made = true;
  c.new_network = false;
  c.allow_exec = true;
  c.exec_allowlist = true;
  c.max_processes = 77;
  c.max_file_size = 1 << 20;
  c.memory = 3ull << 30;
  c.log_only = {59, 322};
  c.trace_filter = std::string("\x20\x00\x00\x00", 4);
  c.writable_paths = {"/work/out"};
  c.masked_paths = {"/etc/shadow"};
  c.visible_paths = {"/tmp/tool"};
  c.hidden_paths = {"/home", "/srv"};
  c.landlock_read = {"/usr", "/etc"};
  c.landlock_read_write = {"/work/out"};
  c.landlock_exec = {"/usr/bin/make"};
  c.landlock_optional = {"/lib64"};
  c.seccomp_program = std::string("\x06\x00\x00\x00\x00\x00\xff\x7f", 8);
  return c;
}

TEST(SandboxConfigTest, EveryFieldSurvivesTheTrip) {
  const SandboxConfig in = Enforcing();
  Result<SandboxConfig> out = DeserializeSandboxConfig(SerializeSandboxConfig(in));
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_EQ(out->trace_only, in.trace_only);
  EXPECT_EQ(out->session_made, in.session_made);
  EXPECT_EQ(out->new_network, in.new_network);
  EXPECT_EQ(out->allow_exec, in.allow_exec);
  EXPECT_EQ(out->exec_allowlist, in.exec_allowlist);
  EXPECT_EQ(out->max_processes, in.max_processes);
  EXPECT_EQ(out->max_file_size, in.max_file_size);
  EXPECT_EQ(out->memory, in.memory);
  EXPECT_EQ(out->log_only, in.log_only);
  EXPECT_EQ(out->trace_filter, in.trace_filter);
  EXPECT_EQ(out->writable_paths, in.writable_paths);
  EXPECT_EQ(out->masked_paths, in.masked_paths);
  EXPECT_EQ(out->visible_paths, in.visible_paths);
  EXPECT_EQ(out->hidden_paths, in.hidden_paths);
  EXPECT_EQ(out->landlock_read, in.landlock_read);
  EXPECT_EQ(out->landlock_read_write, in.landlock_read_write);
  EXPECT_EQ(out->landlock_exec, in.landlock_exec);
  EXPECT_EQ(out->landlock_optional, in.landlock_optional);
  EXPECT_EQ(out->seccomp_program, in.seccomp_program);
}

TEST(SandboxConfigTest, TheCommandMakesItsOwnSessionUnlessTold) {
  // A tracer started without the wrapper (or a wrapper whose fork failed) gets a config in
  // which the command itself leaves the caller's session.
  EXPECT_FALSE(SandboxConfig().session_made);
  SandboxConfig c = Enforcing();
  c.session_made = false;
  Result<SandboxConfig> out = DeserializeSandboxConfig(SerializeSandboxConfig(c));
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_FALSE(out->session_made);
  EXPECT_FALSE(out->trace_only);
}

TEST(SandboxConfigTest, ATruncatedConfigIsRefused) {
  const std::string bytes = SerializeSandboxConfig(Enforcing());
  for (size_t size : {size_t{0}, size_t{1}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_FALSE(DeserializeSandboxConfig(bytes.substr(0, size))) << "size " << size;
  }
}

TEST(SandboxConfigTest, AnotherVersionIsRefused) {
  std::string bytes = SerializeSandboxConfig(Enforcing());
  // The first element of the array (a positive fixint) is the version.
  ASSERT_EQ(bytes[3], '\x01');
  bytes[3] = '\x02';
  Result<SandboxConfig> out = DeserializeSandboxConfig(bytes);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message().find("version"), std::string::npos) << out.error().message();
}

}  // namespace
}  // namespace sandtrace::launcher
