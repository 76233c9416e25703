// The private directory a run's ipc endpoints live in (the `sandtrace` wrapper's run directory,
// st-replay-raw's): flat, holding only sockets and small files.
#pragma once

#include <string>

namespace sandtrace {

// Removes every entry of the flat directory `path`, then the directory. Best effort: what
// cannot be removed stays.
void RemoveEndpointDirectory(const std::string& path);

// Takes an exclusive flock(2) on the directory `path`, held while the returned descriptor stays
// open (close-on-exec, so that only the caller holds it; the kernel drops it when the caller
// dies, however it dies). -1 if the directory cannot be opened or is locked already.
int LockEndpointDirectory(const std::string& path);

// Removes the endpoint directories a killed run left in `base` (e.g. /dev/shm after a SIGKILL
// of the `sandtrace` that made them): those named `prefix` followed by mkdtemp's six
// characters, owned by the effective user, unchanged for at least `min_age_s` seconds and not
// locked by a live owner (LockEndpointDirectory). The age covers the moment between a run's
// mkdtemp and its lock. Best effort; returns how many directories it removed.
int RemoveAbandonedEndpointDirectories(const std::string& base, const std::string& prefix,
                                       int min_age_s);

}  // namespace sandtrace
