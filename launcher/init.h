// The sandbox's PID 1. Reaps every orphan of the namespace and lives as long as the command
// (PID 2, whose parent is the tracer) or any other process in the namespace does; when it
// exits the kernel kills whatever is left, so killing it kills the whole sandbox.
#pragma once

namespace sandtrace::launcher {

// Never returns. `go_fd` becomes readable once the command process exists.
[[noreturn]] void RunInit(int go_fd);

}  // namespace sandtrace::launcher
