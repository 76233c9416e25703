// Start-up handshake between the `sandtrace` wrapper and each pipeline stage. The wrapper
// starts a stage with a pipe's write end (--ready-fd N); the stage writes one line, "ok" once
// it has bound its sockets and opened its outputs, or "error: MESSAGE" when it cannot start,
// then closes the fd. The wrapper starts nothing downstream of a stage that is not ready.
#pragma once

#include <string>

#include "common/result.h"

namespace sandtrace {

// Stage side. Both close `fd`. Safe to call with fd < 0 (no handshake requested).
void ReportReady(int fd);
void ReportFailure(int fd, const std::string& message);

// Wrapper side: waits up to timeout_ms for the stage's line on `fd` (then closes it).
// An error carries the stage's own message, or says that it exited without answering.
Status AwaitReady(int fd, int timeout_ms, const std::string& stage);

}  // namespace sandtrace
