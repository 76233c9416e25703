// Namespace set-up steps of the launch chain (layers 1-4). Each is one short function that
// returns false with errno set on failure; the caller reports the step and exits. They run in
// forked children and only make syscalls (no allocation).
#pragma once

#include <sys/types.h>

namespace sandtrace::launcher {

// Layer 1, after unshare(CLONE_NEWUSER): maps exactly the caller's uid and gid to themselves
// (works unprivileged: writes "deny" to setgroups first; uid and gid may differ).
bool WriteIdMaps(uid_t uid, gid_t gid);

// Layer 2, after unshare(CLONE_NEWNS): private propagation for every mount below /, so no
// mount made inside is seen outside and vice versa.
bool MakeMountsPrivate();

// Layer 4, after unshare(CLONE_NEWNET): brings up lo, the namespace's only interface.
bool BringUpLoopback();

// Layer 3, in the namespace's init: a fresh /proc that shows only the sandbox's processes.
bool MountFreshProc();

// Closes every fd above 2 except `keep` (-1: none).
bool CloseInheritedFds(int keep);

}  // namespace sandtrace::launcher
