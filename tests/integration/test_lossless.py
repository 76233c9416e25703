"""Lossless pipeline (SPEC section 1): more than 100k syscalls, every one of them in every output.

Issue "Pipeline core", point 6.
"""
import subprocess

import sandtrace_fixtures as st

N = 120_000


def test_more_than_100k_syscalls_arrive_everywhere(tmp_path):
    out, db = tmp_path / "big.jsonl", tmp_path / "big.db"
    p = st.sandtrace("-o", out, "-o", db, command=[st.helper("many-syscalls"), str(N)],
                     stdout=subprocess.DEVNULL, timeout=900)
    assert p.returncode == 0, st.describe(p)
    events = st.load_jsonl(out)  # also: no gap event, summary gaps == 0
    calls = st.syscalls(events)
    s = st.summary(events)
    assert s["total_syscalls"] == len(calls)
    assert len(calls) > N
    for name in ("getppid", "getuid", "getgid"):
        assert s["syscall_counts"][name] == N // 3, name
    assert not st.of_type(events, "gap")
    assert s["gaps"] == 0
    rows = st.sqlite_matches_jsonl(db, events)
    assert len(rows) == s["total_syscalls"]
    with st.sqlite_connect(db) as conn:
        (gaps,) = conn.execute("SELECT gaps FROM runs").fetchone()
    assert gaps == 0


def test_many_threads_and_processes_lose_nothing(tmp_path):
    # Several tracees at once, each with its own stream of syscalls.
    events, _ = st.traced(tmp_path, [st.helper("threads"), "8", "2000"], timeout=600)
    s = st.summary(events)
    assert s["syscall_counts"]["getppid"] == 8 * 2000
    assert s["thread_count"] == 9
