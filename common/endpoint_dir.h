// The private directory a run's ipc endpoints live in (the `sandtrace` wrapper's run directory,
// st-replay-raw's): flat, holding only sockets and small files.
#pragma once

#include <string>

namespace sandtrace {

// Removes every entry of the flat directory `path`, then the directory. Best effort: what
// cannot be removed stays.
void RemoveEndpointDirectory(const std::string& path);

}  // namespace sandtrace
