// Probe helpers for the mount view tests: run code in a forked child inside a new user + mount
// namespace with ApplyMountView applied (the launch chain's layer 1-2 steps), and describe
// outcomes as short text ("ok", errno names, sorted directory listings, mount flags) so that
// one EXPECT_EQ states what the sandboxed process saw.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "launcher/mount_view.h"
#include "launcher/namespaces.h"

namespace sandtrace::launcher::view_probe {

// "ok" when the call succeeded, else the errno's name ("EROFS").
inline std::string Outcome(long rc) {
  if (rc >= 0) return "ok";
  const char* name = strerrorname_np(errno);
  return name ? name : std::to_string(errno);
}

// Collects "label=outcome" pairs in call order.
class Report {
 public:
  void Add(const char* label, long rc) { Add(label, Outcome(rc)); }
  void Add(const char* label, const std::string& outcome) {
    if (!text_.empty()) text_ += ' ';
    text_ += std::string(label) + "=" + outcome;
  }
  std::string text() const { return text_; }

 private:
  std::string text_;
};

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
}

// The sorted names in a directory, comma-separated; the errno name if it cannot be listed.
inline std::string List(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Outcome(-1);
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ",") + n;
  return out.empty() ? "(empty)" : out;
}

// Writes `content` to a new file: "ok" or the errno name of the failing step.
inline std::string Create(const std::string& path, const std::string& content = "x") {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Outcome(-1);
  const long n = write(fd, content.data(), content.size());
  const std::string outcome = Outcome(n);
  close(fd);
  return outcome;
}

inline std::string Flags(const char* path) {
  struct statvfs st;
  if (statvfs(path, &st) != 0) return Outcome(-1);
  std::string out = (st.f_flag & ST_RDONLY) ? "ro" : "rw";
  if (st.f_flag & ST_NOSUID) out += ",nosuid";
  if (st.f_flag & ST_NODEV) out += ",nodev";
  return out;
}

// How the probe and the parent take turns: the probe calls sync() to let the parent run its
// `host_step` while the namespace is alive.
using Probe = std::function<std::string(const std::function<void()>& sync)>;

// Forks; the child runs `before`, then the chain's layer 1-2 steps and ApplyMountView(plan),
// then `probe`. Returns the probe's report or "setup: <error>".
inline std::string RunInView(
    const MountPlan& plan, const Probe& probe, const std::function<void()>& host_step = [] {},
    const std::function<void()>& before = [] {}) {
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  int out[2], turn[2], go[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(turn, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0)
    return "pipe2 failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(out[0]);
    close(turn[0]);
    close(go[1]);
    before();
    std::string report;
    if (unshare(CLONE_NEWUSER) != 0) {
      report = "setup: unshare(CLONE_NEWUSER): " + Outcome(-1);
    } else if (!WriteIdMaps(uid, gid)) {
      report = "setup: id maps: " + Outcome(-1);
    } else if (unshare(CLONE_NEWNS) != 0 || !MakeMountsPrivate()) {
      report = "setup: mount namespace: " + Outcome(-1);
    } else if (Status s = ApplyMountView(plan); !s) {
      report = "setup: " + s.error().message();
    } else {
      report = probe([&] {
        char byte = 0;
        if (write(turn[1], &byte, 1) != 1 || read(go[0], &byte, 1) != 1) _exit(3);
      });
    }
    if (write(out[1], report.data(), report.size()) < 0) _exit(2);
    _exit(0);
  }
  close(out[1]);
  close(turn[1]);
  close(go[0]);
  char byte;
  if (read(turn[0], &byte, 1) == 1) {
    host_step();
    if (write(go[1], &byte, 1) != 1) ADD_FAILURE() << "could not resume the probe";
  }
  close(go[1]);
  close(turn[0]);
  std::string report;
  char buffer[512];
  ssize_t n;
  while ((n = read(out[0], buffer, sizeof buffer)) > 0) report.append(buffer, n);
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    report += " (child status " + std::to_string(status) + ")";
  return report;
}

inline std::string RunInView(const MountPlan& plan, const std::function<std::string()>& probe) {
  return RunInView(plan, [&](const std::function<void()>&) { return probe(); });
}

}  // namespace sandtrace::launcher::view_probe
