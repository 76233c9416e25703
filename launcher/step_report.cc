#include "launcher/step_report.h"

#include <unistd.h>

#include <cerrno>

namespace sandtrace::launcher {

void FailStep(int fd, Step step, const char* detail) {
  StepReport r{step, errno, {}};
  if (detail) {
    size_t i = 0;
    for (; detail[i] != '\0' && i + 1 < sizeof r.detail; ++i) r.detail[i] = detail[i];
    r.detail[i] = '\0';
  }
  // Best effort: a short report reads as "failed for an unknown reason" on the other side.
  ssize_t ignored = write(fd, &r, sizeof r);
  (void)ignored;
  if (step == Step::kExec) _exit(r.error == ENOENT || r.error == ENOTDIR ? 127 : 126);
  _exit(125);
}

const char* StepName(Step step) {
  switch (step) {
    case Step::kSignals: return "resetting signal dispositions";
    case Step::kUserNamespace: return "layer 1 (user_namespace): unshare(CLONE_NEWUSER)";
    case Step::kIdMaps: return "layer 1 (user_namespace): writing uid_map/gid_map";
    case Step::kMountNamespace: return "layer 2 (mount_namespace): unshare(CLONE_NEWNS)";
    case Step::kMountPrivate: return "layer 2 (mount_namespace): private propagation";
    case Step::kMountView: return "layer 2 (mount_namespace): restricted filesystem view";
    case Step::kLandlock: return "layer 6 (landlock)";
    case Step::kSeccomp: return "layer 7 (seccomp)";
    case Step::kTraceFilter: return "layer 7 (seccomp): the --trace pre-filter";
    case Step::kPidNamespace: return "layer 3 (pid_namespace): unshare(CLONE_NEWPID)";
    case Step::kInitFork: return "layer 3 (pid_namespace): fork of the init process";
    case Step::kMountProc: return "layer 3 (pid_namespace): mounting a fresh /proc";
    case Step::kCommandFork: return "layer 3 (pid_namespace): clone of the command process";
    case Step::kNetNamespace: return "layer 4 (network_namespace): unshare(CLONE_NEWNET)";
    case Step::kLoopback: return "layer 4 (network_namespace): bringing lo up";
    case Step::kNoNewPrivs: return "layer 5 (no_new_privs): PR_SET_NO_NEW_PRIVS";
    case Step::kSession: return "layer 5 (no_new_privs): setsid";
    case Step::kProcessGroup:
      return "layer 5 (no_new_privs): setpgid";
    case Step::kCloseFds: return "layer 5 (no_new_privs): closing inherited file descriptors";
    case Step::kLimits: return "layer 5 (no_new_privs): resource limits";
    case Step::kTraceMe: return "layer 8 (ptrace): PTRACE_TRACEME";
    case Step::kStop: return "layer 8 (ptrace): SIGSTOP";
    case Step::kExec: return "execve";
  }
  return "set-up";
}

}  // namespace sandtrace::launcher
