// Reporting rules in the analyser: each kind firing and not firing, the `alert` event, path
// resolution, deduplication and the cap.
#include "analyzer/rules_analyzer.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "analyzer/analyzer.h"
#include "tests/analyzer/event_reader.h"
#include "tests/analyzer/syscall_records.h"

namespace sandtrace::analyzer {
namespace {

using namespace testing;
using wire::CaptureKind;

constexpr int kOpenat = 257, kOpen = 2, kStat = 4, kConnect = 42, kBind = 49, kExecve = 59,
              kRename = 82, kChdir = 80, kFchdir = 81, kUnlink = 87, kSymlink = 88, kMkdir = 83,
              kPtrace = 101, kGetpid = 39, kRenameat = 264;
constexpr uint64_t kAtFdCwdArg = uint64_t(-100);

RuleSpec FileRule(std::string id, std::vector<std::string> paths, std::string access = "any",
                  std::string severity = "high") {
  RuleSpec rule;
  rule.id = std::move(id);
  rule.kind = "file";
  rule.paths = std::move(paths);
  rule.access = std::move(access);
  rule.severity = std::move(severity);
  return rule;
}

RuleSpec KindRule(std::string id, std::string kind, std::string severity = "medium") {
  RuleSpec rule;
  rule.id = std::move(id);
  rule.kind = std::move(kind);
  rule.severity = std::move(severity);
  return rule;
}

class RulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    wire::Hello hello;
    hello.run_id = "feedfacefeedfacefeedfacefeedface";
    hello.start_ns = kBaseNs;
    hello.root_pid = 100;
    analyzer_.OnHello(hello);
    analyzer_.events().Clear();
  }
  void Configure(AnalysisConfig config) { analyzer_.Configure(config); }
  void Openat(const std::string& path, uint32_t flags = O_RDONLY, int64_t ret = 3,
              int32_t tid = 100, uint64_t dirfd = kAtFdCwdArg) {
    auto r = Syscall(kOpenat, {dirfd, 1, flags, 0644}, ret, tid, tid);
    Capture(r, 1, CaptureKind::kString, path);
    analyzer_.OnRecord(r);
  }
  void PathCall(int nr, const std::string& path, int64_t ret = 0, int32_t tid = 100) {
    auto r = Syscall(nr, {1, 0755}, ret, tid, tid);
    Capture(r, 0, CaptureKind::kString, path);
    analyzer_.OnRecord(r);
  }
  void Connect(const std::string& sockaddr, int nr = kConnect) {
    auto r = Syscall(nr, {3, 1, 16}, 0);
    Capture(r, 1, CaptureKind::kSockaddr, sockaddr);
    analyzer_.OnRecord(r);
  }
  Events Take() {
    EventWriter& w = analyzer_.events();
    Events events(w.data(), w.size(), w.count());
    w.Clear();
    return events;
  }
  // "rule subject" for each alert event since the last Take, from its message's tail.
  std::vector<std::string> Alerts() {
    Events events = Take();
    std::vector<std::string> out;
    for (const msgpack::object* alert : events.OfType("alert")) out.push_back(Str(*alert, "rule"));
    return out;
  }
  Analyzer analyzer_;
};

using Ids = std::vector<std::string>;

TEST_F(RulesTest, AlertEventFollowsItsTriggerAndNestsIt) {
  Openat("/home/u/.ssh/id_rsa", O_RDONLY, -13, 101);
  Events events = Take();
  ASSERT_EQ(events.size(), 2u);
  const msgpack::object& alert = events[1];
  EXPECT_EQ(Keys(alert), (std::vector<std::string>{"event", "event_type", "message", "pid", "rule",
                                                   "severity", "timestamp"}));
  EXPECT_EQ(Str(alert, "event_type"), "alert");
  EXPECT_EQ(Str(alert, "timestamp"), Str(events[0], "timestamp"));
  EXPECT_EQ(Str(alert, "rule"), "ssh_key");
  EXPECT_EQ(Str(alert, "severity"), "high");
  EXPECT_EQ(Str(alert, "message"), "SSH private key: openat /home/u/.ssh/id_rsa");
  EXPECT_EQ(Int(alert, "pid"), 101);
  const msgpack::object& nested = Map(alert, "event");
  EXPECT_EQ(Keys(nested), Keys(events[0]));
  EXPECT_EQ(Str(nested, "event_type"), "syscall");
  EXPECT_EQ(Str(nested, "syscall"), "openat");
  EXPECT_EQ(Str(Map(Map(nested, "args"), "decoded"), "path"), "/home/u/.ssh/id_rsa");
  EXPECT_EQ(Int(nested, "return_value"), -13);
}

TEST_F(RulesTest, DefaultFileRules) {
  Openat("/home/u/.ssh/config");
  Openat("/etc/shadow");
  Openat("/etc/sudoers.d/admins");
  Openat("/srv/app/.env");
  Openat("/srv/app/.env.local");
  Openat("/home/u/.aws/credentials");
  Openat("/home/u/.npmrc");
  Openat("/etc/ssh/ssh_host_ed25519_key");
  EXPECT_EQ(Alerts(), (Ids{"ssh_directory", "shadow_file", "sudoers", "dotenv", "dotenv_variant",
                           "cloud_credentials", "credential_file", "ssh_host_key"}));
  Openat("/etc/passwd");
  Openat("/home/u/.sshrc");
  Openat("/srv/app/my.env");
  Openat("/etc/shadowsocks.json");
  Openat("/home/u/id_rsa.pub");
  Openat("/x/.kube/configs");
  Openat("/etc/ssh/ssh_host_ed25519_key.pub");
  EXPECT_EQ(Alerts(), Ids{});
}

TEST_F(RulesTest, OneFileRulePerPathTheFirstListed) {
  Openat("/home/u/.ssh/id_ed25519");  // ssh_key and ssh_directory both match
  EXPECT_EQ(Alerts(), Ids{"ssh_key"});
}

TEST_F(RulesTest, AccessReadWriteAny) {
  Openat("/home/u/.bashrc");
  EXPECT_EQ(Alerts(), Ids{"shell_rc_read"});
  Openat("/home/u/.bashrc", O_WRONLY | O_APPEND);  // also outside the writable paths
  EXPECT_EQ(Alerts(), (Ids{"shell_rc_write", "write_outside_project"}));
  PathCall(kUnlink, "/home/u/.profile");
  EXPECT_EQ(Alerts(), (Ids{"shell_rc_write", "write_outside_project"}));
  PathCall(kStat, "/home/u/.zshrc");
  EXPECT_EQ(Alerts(), Ids{"shell_rc_read"});
}

TEST_F(RulesTest, NetworkRule) {
  Connect(Inet("93.184.216.34", 443));
  Connect(Inet6("::1", 53));
  Connect(Unix("/run/docker.sock"));
  Connect(Unix(std::string("\0bus", 4)), kBind);
  Events events = Take();
  const auto alerts = events.OfType("alert");
  ASSERT_EQ(alerts.size(), 4u);
  EXPECT_EQ(Str(*alerts[0], "rule"), "network_attempt");
  EXPECT_EQ(Str(*alerts[0], "severity"), "medium");
  EXPECT_EQ(Str(*alerts[0], "message"), "network access: connect 93.184.216.34:443");
  EXPECT_EQ(Str(*alerts[1], "message"), "network access: connect [::1]:53");
  EXPECT_EQ(Str(*alerts[2], "message"), "network access: connect /run/docker.sock");
  EXPECT_EQ(Str(*alerts[3], "message"), "network access: bind @bus");
  auto netlink = Syscall(kBind, {3, 1, 12}, 0);
  Capture(netlink, 1, CaptureKind::kSockaddr, std::string("\x10\x00\x00\x00", 4));  // AF_NETLINK
  analyzer_.OnRecord(netlink);
  analyzer_.OnRecord(Syscall(kConnect, {3, 1, 16}, 0));  // no address copied
  EXPECT_EQ(Alerts(), Ids{});
}

TEST_F(RulesTest, DeniedRule) {
  auto ptrace = Syscall(kPtrace, {16, 1}, -1);
  ptrace.action = wire::Action::kDeny;
  analyzer_.OnRecord(ptrace);
  analyzer_.OnRecord(ptrace);  // the same denial again: deduplicated
  auto exec = Syscall(kExecve, {1, 2, 3}, -1);
  Capture(exec, 0, CaptureKind::kString, "/bin/sh");
  exec.action = wire::Action::kDeny;
  analyzer_.OnRecord(exec);
  Events events = Take();
  const auto alerts = events.OfType("alert");
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(Str(*alerts[0], "message"), "syscall denied by the sandbox: ptrace");
  EXPECT_EQ(Str(*alerts[1], "message"), "syscall denied by the sandbox: execve /bin/sh");
  auto allowed = Syscall(kPtrace, {16, 1}, -1);
  analyzer_.OnRecord(allowed);
  auto logged = Syscall(kPtrace, {16, 1}, 0);
  logged.action = wire::Action::kLogOnly;
  analyzer_.OnRecord(logged);
  EXPECT_EQ(Alerts(), Ids{});
}

TEST_F(RulesTest, WriteOutsideRule) {
  AnalysisConfig config = DefaultAnalysisConfig();
  config.cwd = "/home/u/project";
  config.write_allowed.push_back("/home/u/project");
  Configure(config);
  Openat("/home/u/project/out.txt", O_WRONLY | O_CREAT);
  Openat("build/a.o", O_WRONLY | O_CREAT | O_TRUNC);  // relative: resolved against cwd
  Openat("/tmp/x", O_RDWR);
  Openat("/dev/null", O_WRONLY);
  Openat("/home/u/notes.txt");  // read
  EXPECT_EQ(Alerts(), Ids{});
  Openat("/home/u/notes.txt", O_WRONLY | O_TRUNC, -13);  // failed attempts count
  Openat("../other/x", O_WRONLY | O_CREAT);
  PathCall(kMkdir, "/var/lib/thing");
  auto rename = Syscall(kRename, {1, 2}, 0);
  Capture(rename, 0, CaptureKind::kString, "/home/u/project/a");
  Capture(rename, 1, CaptureKind::kString, "/home/u/elsewhere");
  analyzer_.OnRecord(rename);
  Events events = Take();
  const auto alerts = events.OfType("alert");
  ASSERT_EQ(alerts.size(), 4u);
  for (const msgpack::object* alert : alerts) {
    EXPECT_EQ(Str(*alert, "rule"), "write_outside_project");
  }
  EXPECT_EQ(Str(*alerts[0], "message"),
            "write outside the allowed paths: openat /home/u/notes.txt");
  EXPECT_EQ(Str(*alerts[1], "message"), "write outside the allowed paths: openat /home/u/other/x");
  EXPECT_EQ(Str(*alerts[2], "message"), "write outside the allowed paths: mkdir /var/lib/thing");
  EXPECT_EQ(Str(*alerts[3], "message"), "write outside the allowed paths: rename /home/u/elsewhere");
}

TEST_F(RulesTest, WriteOutsideNeedsAResolvedPath) {
  Configure(DefaultAnalysisConfig());  // cwd unknown
  Openat("out.txt", O_WRONLY | O_CREAT);
  Openat("/abs/out.txt", O_WRONLY | O_CREAT, 3, 100, 5);  // absolute: the dirfd does not matter
  EXPECT_EQ(Alerts(), Ids{"write_outside_project"});
}

TEST_F(RulesTest, ExecRule) {
  AnalysisConfig config = DefaultAnalysisConfig();
  config.allow_exec = {"/usr/bin/{git,make}", "**/node_modules/.bin/*"};
  Configure(config);
  analyzer_.OnRecord(wire::ExecRecord{100, 100, kBaseNs, "/usr/bin/python3", "python3"});
  EXPECT_EQ(Alerts(), Ids{});  // the command's own exec
  analyzer_.OnRecord(wire::ExecRecord{200, 200, kBaseNs, "/usr/bin/git", "git"});
  analyzer_.OnRecord(wire::ExecRecord{201, 201, kBaseNs, "/p/node_modules/.bin/tsc", "tsc"});
  EXPECT_EQ(Alerts(), Ids{});
  analyzer_.OnRecord(wire::ExecRecord{202, 202, kBaseNs, "/usr/bin/curl", "curl"});
  Events events = Take();
  const auto alerts = events.OfType("alert");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(Str(*alerts[0], "rule"), "unexpected_exec");
  EXPECT_EQ(Str(*alerts[0], "severity"), "high");
  EXPECT_EQ(Int(*alerts[0], "pid"), 202);
  EXPECT_EQ(Str(*alerts[0], "message"), "program executed outside allow_exec: execve /usr/bin/curl");
  const msgpack::object& nested = Map(*alerts[0], "event");
  EXPECT_EQ(Str(nested, "event_type"), "process");
  EXPECT_EQ(Str(nested, "action"), "exec");
  EXPECT_EQ(Str(nested, "path"), "/usr/bin/curl");
}

TEST_F(RulesTest, SyscallRule) {
  AnalysisConfig config = DefaultAnalysisConfig();
  RuleSpec watch = KindRule("pid_probe", "syscall", "low");
  watch.syscalls = {"getpid", "not_a_syscall"};
  config.rules.push_back(watch);
  Configure(config);
  analyzer_.OnRecord(Syscall(kGetpid, {}, 100));
  analyzer_.OnRecord(Syscall(kGetpid, {}, 100));
  analyzer_.OnRecord(Syscall(kGetpid + 1, {}, 0));
  Events events = Take();
  const auto alerts = events.OfType("alert");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(Str(*alerts[0], "message"), "watched syscall: getpid");
  EXPECT_EQ(Str(*alerts[0], "severity"), "low");
}

TEST_F(RulesTest, PolicyRulesFromAConfig) {
  AnalysisConfig config;
  config.cwd = "/home/u";
  RuleSpec secrets = FileRule("secrets", {"/home/u/.secret/**"}, "read", "critical");
  secrets.message = "my secrets";
  config.rules = {secrets};
  Configure(config);
  Openat(".secret/token");  // relative to the home directory, the cwd
  Openat("/home/u/.secret/token", O_WRONLY);  // a write: not this rule's access
  Openat("/home/u/.ssh/id_rsa");              // the built-ins are not in this config
  Events events = Take();
  const auto alerts = events.OfType("alert");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(Str(*alerts[0], "message"), "my secrets: openat /home/u/.secret/token");
  EXPECT_EQ(Str(*alerts[0], "severity"), "critical");
}

TEST_F(RulesTest, RelativePathsFollowChdirAndForks) {
  AnalysisConfig config;
  config.cwd = "/work";
  config.rules = {FileRule("secrets", {"/home/u/.secret"})};
  Configure(config);
  Openat(".secret/a");
  EXPECT_EQ(Alerts(), Ids{});
  PathCall(kChdir, "/home/u/src/..", 0);
  analyzer_.OnRecord(wire::SpawnRecord{200, 200, 100, false, kBaseNs});  // inherits /home/u
  Openat(".secret/b", O_RDONLY, 3, 200);
  Openat("./.secret/c");
  PathCall(kChdir, "/nonexistent", -2);  // failed: no change
  Openat(".secret/d");
  EXPECT_EQ(Alerts(), (Ids{"secrets", "secrets", "secrets"}));  // b, c and d
  analyzer_.OnRecord(Syscall(kFchdir, {5}, 0));
  Openat(".secret/e");  // the directory is unknown now
  Openat(".secret/f", O_RDONLY, 3, 100, 7);  // another dirfd
  EXPECT_EQ(Alerts(), Ids{});
}

TEST_F(RulesTest, UnresolvedPathsMeetOnlyUnanchoredGlobs) {
  Configure(DefaultAnalysisConfig());  // cwd unknown
  Openat("keys/id_rsa", O_RDONLY, 3, 100, 9);
  Openat(".ssh/known_hosts", O_RDONLY, 3, 100, 9);
  Openat("x/.aws/credentials");
  Openat(".kube/config");  // "~/.kube/config" with the home unknown: "**/.kube/config"
  EXPECT_EQ(Alerts(),
            (Ids{"ssh_key", "ssh_directory", "cloud_credentials", "cloud_credentials"}));
  AnalysisConfig config;
  config.rules = {FileRule("anchored", {"/home/u/.kube/config"})};
  Configure(config);
  Openat(".kube/config");  // could be anywhere: an anchored glob cannot tell
  EXPECT_EQ(Alerts(), Ids{});
}

TEST_F(RulesTest, DotDotCannotHideAPath) {
  Openat("/tmp/../etc/shadow");
  Openat("/etc//sudoers");
  EXPECT_EQ(Alerts(), (Ids{"shadow_file", "sudoers"}));
}

TEST_F(RulesTest, SecondPathsAndTheirDirectoryFds) {
  AnalysisConfig config = DefaultAnalysisConfig();
  config.cwd = "/home/u";
  Configure(config);
  auto renameat = Syscall(kRenameat, {kAtFdCwdArg, 1, 5, 2}, 0);
  Capture(renameat, 1, CaptureKind::kString, "/tmp/x");
  Capture(renameat, 3, CaptureKind::kString, ".bashrc");  // relative to fd 5: unresolved
  analyzer_.OnRecord(renameat);
  auto symlink = Syscall(kSymlink, {1, 2}, 0);
  Capture(symlink, 0, CaptureKind::kString, "/home/u/.ssh/id_rsa");  // the link's text
  Capture(symlink, 1, CaptureKind::kString, "/tmp/innocent");
  analyzer_.OnRecord(symlink);
  Events events = Take();
  const auto alerts = events.OfType("alert");
  ASSERT_EQ(alerts.size(), 2u);
  // The unresolved target still meets "**/.bashrc" (the home is unknown here), as a write;
  // write_outside cannot judge it.
  EXPECT_EQ(Str(*alerts[0], "message"), "write to a shell start-up file: renameat .bashrc");
  EXPECT_EQ(Str(*alerts[1], "rule"), "ssh_key");  // a symlink's text: a read-like reference
}

TEST_F(RulesTest, EachRuleAndSubjectAlertsOncePerRun) {
  for (int i = 0; i < 3; ++i) Openat("/srv/app/.env", O_RDONLY, 3, 100 + i);
  Connect(Inet("10.0.0.1", 80));
  Connect(Inet("10.0.0.1", 80));
  Connect(Inet("10.0.0.1", 81));
  EXPECT_EQ(Alerts(), (Ids{"dotenv", "network_attempt", "network_attempt"}));
}

TEST_F(RulesTest, AlertsAreCapped) {
  for (size_t i = 0; i < kMaxAlerts + 10; ++i) {
    Openat("/srv/" + std::to_string(i) + "/.env");
    if (analyzer_.events().count() > 1000) analyzer_.events().Clear();
  }
  analyzer_.AddExternalAlert(5, "plugin", "low", "", "");  // plug-in alerts still count
  analyzer_.events().Clear();
  analyzer_.OnEnd(wire::End{});
  Events events = Take();
  const msgpack::object& s = events[events.size() - 1];
  EXPECT_EQ(Int(s, "alert_count"), static_cast<int64_t>(kMaxAlerts) + 1);
  EXPECT_EQ(Find(s, "suspicious_activity")->via.array.size, kMaxSuspicious);
}

TEST_F(RulesTest, PathlessCallsWithoutRulesAreNotLookedAt) {
  // A watched-number table that is empty by default: getpid is not analysed at all.
  RulesAnalyzer rules(DefaultAnalysisConfig());
  EXPECT_FALSE(rules.WantsEveryCall(kGetpid));
  EXPECT_FALSE(rules.WantsEveryCall(-1));
  EXPECT_FALSE(rules.WantsEveryCall(100000));
  EXPECT_EQ(rules.rule_count(), DefaultRules().size());
}

TEST_F(RulesTest, InvalidRulesAreLeftOut) {
  AnalysisConfig config;
  config.rules = {FileRule("bad", {"/x/[a"}), KindRule("no_kind", ""),
                  FileRule("good", {"/x"})};
  RulesAnalyzer rules(config);
  EXPECT_EQ(rules.rule_count(), 1u);
}

TEST_F(RulesTest, ExternalAlertSubjects) {
  analyzer_.AddExternalAlert(1, "a", "low", "/etc/x", "openat");
  analyzer_.AddExternalAlert(1, "b", "low", "10.0.0.1", "connect");
  analyzer_.AddExternalAlert(1, "c", "low", "example.com:443", "connect");
  analyzer_.AddExternalAlert(1, "d", "low", "@abstract", "connect");
  analyzer_.AddExternalAlert(1, "e", "low", "notes.txt", "openat");
  analyzer_.AddExternalAlert(1, "f", "high", "", "ptrace");
  analyzer_.OnEnd(wire::End{});
  analyzer_.AddExternalAlert(1, "late", "low", "", "");  // after the summary: ignored
  Events events = Take();
  const msgpack::object* list = Find(events[events.size() - 1], "suspicious_activity");
  ASSERT_EQ(list->via.array.size, 6u);
  EXPECT_EQ(Str(list->via.array.ptr[0], "path"), "/etc/x");
  EXPECT_EQ(Str(list->via.array.ptr[1], "address"), "10.0.0.1");
  EXPECT_EQ(Str(list->via.array.ptr[2], "address"), "example.com:443");
  EXPECT_EQ(Str(list->via.array.ptr[3], "address"), "@abstract");
  EXPECT_EQ(Str(list->via.array.ptr[4], "path"), "notes.txt");
  EXPECT_EQ(Keys(list->via.array.ptr[5]),
            (std::vector<std::string>{"pid", "rule", "severity", "syscall"}));
  EXPECT_EQ(events.OfType("alert").size(), 0u);  // the caller forwards plug-in events
}

}  // namespace
}  // namespace sandtrace::analyzer
