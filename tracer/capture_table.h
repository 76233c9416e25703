// Which syscall arguments the tracer copies out of tracee memory at syscall entry, by x86-64
// syscall number: paths, socket addresses and execve's argv. Only what the analyser needs to
// decode input arguments; names and meaning live in the analyser's table, not here.
#pragma once

#include <cstdint>

#include "common/wire/records.h"

namespace sandtrace::tracer {

struct ArgCapture {
  uint8_t arg;
  wire::CaptureKind kind;  // kSockaddr takes its length from argument arg + 1
};

struct CaptureSpec {
  uint8_t count = 0;
  ArgCapture items[3] = {};
};

// The copies to make for syscall `nr` (count 0 for most syscalls).
const CaptureSpec& CapturesFor(int64_t nr);

}  // namespace sandtrace::tracer
