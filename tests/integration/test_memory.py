"""Memory stays flat with trace length: tracing 1,000,000 syscalls into JSONL and SQLite keeps
every sandtrace process (wrapper, tracer and its sandbox init, analyser, each sink) under
64 MiB of resident memory, and the trace is complete.

Issue "Performance", point "memory". While the run goes, /proc is sampled every SAMPLE_S for
the sandtrace processes below the wrapper (found by walking /proc/PID/task/*/children and kept
by executable name); each sample reads VmRSS and VmHWM (the kernel's own peak of VmRSS, so
growth between two samples is not missed either, except in the last SAMPLE_S of a process).

SANDTRACE_MEMORY_SYSCALLS overrides the number of syscalls (e.g. for a quick local run).
"""
import json
import os
import subprocess
import time
from pathlib import Path

import sandtrace_fixtures as st

N = int(os.environ.get("SANDTRACE_MEMORY_SYSCALLS", "1000000"))
LIMIT_KIB = 64 * 1024
SAMPLE_S = 0.1


def memory_kib(pid):
    """(VmRSS, VmHWM) of a live process in KiB, or None."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    try:
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
    except (KeyError, ValueError, IndexError):
        return None  # a zombie has no memory lines


def sandtrace_processes(root):
    """{pid: executable name} of `root` and every descendant running a sandtrace binary."""
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        name = st.exe_name(pid)
        if name.startswith("sandtrace"):
            found[pid] = name
        todo += st.children_of(pid)
    return found


class Sampler:
    """Per process: the largest VmRSS and VmHWM seen, and VmRSS at the first and last sample."""

    def __init__(self):
        self.peak = {}

    def sample(self, root):
        for pid, name in sandtrace_processes(root).items():
            mem = memory_kib(pid)
            if mem is None:
                continue
            rss, hwm = mem
            p = self.peak.setdefault((pid, name), {"rss": 0, "hwm": 0, "first": rss, "last": rss,
                                                   "samples": 0})
            p["rss"], p["hwm"], p["last"] = max(p["rss"], rss), max(p["hwm"], hwm), rss
            p["samples"] += 1

    def report(self):
        lines = []
        for (pid, name), p in sorted(self.peak.items(), key=lambda kv: kv[0][1]):
            lines.append(f"{name:24} pid {pid:7}  peak VmRSS {p['rss'] / 1024:6.1f} MiB  "
                         f"VmHWM {p['hwm'] / 1024:6.1f} MiB  VmRSS first/last "
                         f"{p['first'] / 1024:5.1f}/{p['last'] / 1024:5.1f} MiB  "
                         f"({p['samples']} samples)")
        return "\n".join(lines)


def count_jsonl(path):
    """(syscall lines, gap lines, the last line parsed), reading the file as a stream."""
    calls = gaps = 0
    last = b""
    with open(path, "rb") as f:
        for line in f:
            if line.startswith(b'{"event_type":"syscall"'):
                calls += 1
            elif line.startswith(b'{"event_type":"gap"'):
                gaps += 1
            last = line
    return calls, gaps, json.loads(last)


def test_a_million_syscalls_keep_every_process_under_64_mib(tmp_path):
    out, db = tmp_path / "mem.jsonl", tmp_path / "mem.db"
    args = st.sandtrace_args("-o", out, "-o", db, command=[st.helper("syscall-mix"), str(N)])
    sampler = Sampler()
    start = time.monotonic()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        while proc.poll() is None:
            sampler.sample(proc.pid)
            time.sleep(SAMPLE_S)
            assert time.monotonic() - start < 800, "the traced run took too long"
        stderr = proc.stderr.read().decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stderr.close()
    elapsed = time.monotonic() - start
    report = sampler.report()
    print(f"\n{N} syscalls traced in {elapsed:.1f} s\n{report}")
    assert proc.returncode == 0, f"sandtrace exited with {proc.returncode}\n{stderr[-4000:]}"

    names = {name for _, name in sampler.peak}
    for expected in ("sandtrace", "sandtrace-tracer", "sandtrace-analyzer",
                     "sandtrace-sink-jsonl", "sandtrace-sink-sqlite"):
        assert expected in names, f"{expected} was never sampled:\n{report}"
    over = {name for (_, name), p in sampler.peak.items()
            if max(p["rss"], p["hwm"]) >= LIMIT_KIB}
    assert not over, f"processes at or above {LIMIT_KIB // 1024} MiB:\n{report}"

    calls, gaps, summary = count_jsonl(out)
    assert summary["event_type"] == "summary"
    assert summary["total_syscalls"] == calls
    assert calls >= N
    assert gaps == 0 and summary["gaps"] == 0
    with st.sqlite_connect(db) as conn:
        (rows,) = conn.execute("SELECT COUNT(*) FROM syscalls").fetchone()
    assert rows == calls
