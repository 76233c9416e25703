// Symbolic names for the numbers that appear in syscall arguments and results: errno values,
// signal numbers, socket address families, open(2) flags and file modes. Names are the
// kernel's (x86-64), independent of what the C library of the analysing machine defines.
#pragma once

#include <cstdint>
#include <string>

namespace sandtrace::analyzer {

// "ENOENT", kernel-internal ones like "ERESTARTSYS", else "errno_N". `error` is positive.
std::string ErrnoName(int64_t error);

// "SIGKILL"; real-time signals as "SIGRTMIN+N" (kernel SIGRTMIN = 32); "0" for the probe
// signal of kill(pid, 0); else "SIG_N".
std::string SignalName(int64_t signal);

// "AF_INET", "AF_UNIX", ...; else "AF_N".
std::string FamilyName(int family);

// "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC": the access mode always comes first ("O_RDONLY" when
// it is 0); bits without a name end the list as one hexadecimal number.
std::string OpenFlagsName(uint64_t flags);

// True when open(2) flags ask for write access or may create or change a file.
bool OpenFlagsWrite(uint64_t flags);

// True when open(2) flags create a file, so that the mode argument matters.
bool OpenFlagsCreate(uint64_t flags);

// Octal with a leading zero and at least four digits: "0644", "0755", "020644".
std::string ModeName(uint64_t mode);

}  // namespace sandtrace::analyzer
