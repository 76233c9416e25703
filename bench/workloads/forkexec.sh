#!/bin/sh
# Fork/exec-heavy workload for scripts/bench: runs /bin/true N times (default 200), one after
# another, from a POSIX shell. Each iteration is a fork, an execve and an exit to trace.
n="${1:-200}"
i=0
while [ "$i" -lt "$n" ]; do
  /bin/true
  i=$((i + 1))
done
