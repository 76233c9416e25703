"""How often a traced program is stopped (issue 6), counted by the program itself.

A ptrace stop puts the stopped thread to sleep until its tracer resumes it, and the kernel
counts that sleep as one voluntary context switch of the thread, which the thread can read
with getrusage(RUSAGE_THREAD). st-stop-count makes N getppid() calls (which never sleep on
their own) between two such readings, in one thread or several. The count is exact and needs
no clock: it says what a tracer makes the program pay in stops, whatever the machine's load.

- Full tracing stops every call twice (entry and exit), no more: as often as `strace -f` and
  the minimal ptrace loop (`st-ptrace-floor`) stop the same program, in every thread, under
  `--trace-only` and with all eight layers, as root and as an ordinary user.
- Under `--trace CLASSES` the seccomp pre-filter lets every call outside the selection run
  without a stop (SECCOMP_RET_ALLOW), as `strace --seccomp-bpf -e trace=...` does for a
  program of one thread, in every thread, while a selected call still stops twice (the
  seccomp stop, then the exit stop).
"""
import re
import shlex
import shutil

import pytest

import sandtrace_fixtures as st

CALLS = 3000
# Each thread's window starts at the exit of one getrusage call and ends at the entry of the
# next: a tracer that stops every call stops those two as well.
WINDOW_EDGES = 2


def switches(stdout, threads):
    """The voluntary switches of each thread, from st-stop-count's output."""
    found = re.findall(rb"^thread (\d+) calls (\d+) voluntary_switches (\d+)$", stdout, re.M)
    assert len(found) == threads, stdout
    assert all(int(calls) == CALLS for _, calls, _ in found)
    return [int(v) for _, _, v in found]


def command(threads):
    return [st.helper("stop-count"), str(CALLS), str(threads)]


def under_sandtrace(tmp_path, threads, *options, trace_only=True, as_nobody=False,
                    forked=False):
    """Runs st-stop-count under sandtrace, as root or as uid 65534 (`as_nobody`); `forked`: as
    a child of a shell that waits for it."""
    # an ordinary user's output must be somewhere that user may write
    out_dir = st.world_writable_dir() if as_nobody else tmp_path
    out = out_dir / "t.jsonl"
    prefix = st.SETPRIV_NOBODY if as_nobody else []
    argv = command(threads)
    if forked:
        argv = ["/bin/sh", "-c", shlex.join(argv) + "; :"]
    try:
        p = st.run([*prefix, *st.sandtrace_args("-o", out, *options, command=argv,
                                                trace_only=trace_only)])
        assert p.returncode == 0, st.describe(p)
        events = st.load_jsonl(out)
    finally:
        if as_nobody:
            shutil.rmtree(out_dir, ignore_errors=True)
    return switches(p.stdout, threads), events


def under(tracer, threads):
    p = st.run([*tracer, *command(threads)])
    assert p.returncode == 0, st.describe(p)
    return switches(p.stdout, threads)


def strace(*options):
    return ["strace", "-f", *options, "-o", "/dev/null", "--"]


@pytest.mark.parametrize("threads", [1, 4])
def test_an_untraced_program_does_not_stop(threads):
    assert under([], threads) == [0] * threads


@pytest.mark.parametrize("threads", [1, 4])
def test_full_tracing_stops_each_call_twice_like_strace_and_the_floor(tmp_path, threads):
    twice = [2 * CALLS + WINDOW_EDGES] * threads
    assert under([st.helper("ptrace-floor")], threads) == twice
    assert under(strace(), threads) == twice
    got, events = under_sandtrace(tmp_path, threads)
    assert got == twice
    # and every one of those calls is in the trace
    assert sum(e["syscall"] == "getppid" for e in st.syscalls(events)) == CALLS * threads
    got, _ = under_sandtrace(tmp_path, threads, "--allow-path", st.BIN, trace_only=False)
    assert got == twice, "the eight layers (seccomp among them) add no stop"


def test_an_ordinary_users_run_stops_as_often(tmp_path):
    got, _ = under_sandtrace(tmp_path, 2, as_nobody=True)
    assert got == [2 * CALLS + WINDOW_EDGES] * 2


@pytest.mark.parametrize("trace_only", [True, False])
@pytest.mark.parametrize("selection, strace_selection, stops", [
    ("process", "%process", 0),
    ("file", "%file", 0),
    ("network", "%network", 0),
    # only the two getrusage calls at the window's edges are selected
    ("!getppid", "!getppid", WINDOW_EDGES),
    # the calls themselves, but not getrusage
    ("getppid", "getppid", 2 * CALLS),
])
def test_unselected_calls_never_stop(tmp_path, trace_only, selection, strace_selection, stops):
    # strace's pre-filter, on a program of one thread, for reference. (strace 6.1 resumes a new
    # thread with PTRACE_SYSCALL, so that its every call stops whatever the selection; the
    # threads of a program under sandtrace's pre-filter stop no more than its first.)
    assert under(strace("--seccomp-bpf", "-e", "trace=" + strace_selection), 1) == [stops]
    threads = 3
    options = ["--trace", selection]
    if not trace_only:
        options += ["--allow-path", st.BIN]
    got, events = under_sandtrace(tmp_path, threads, *options, trace_only=trace_only)
    assert got == [stops] * threads
    traced = sum(e["syscall"] == "getppid" for e in st.syscalls(events))
    assert traced == (CALLS * threads if selection == "getppid" else 0)


@pytest.mark.parametrize("trace_only", [True, False])
def test_a_forked_child_under_a_pre_filter_does_not_stop(tmp_path, trace_only):
    # The shell forks and the child execs st-stop-count: a new process, which the tracer takes
    # over at its fork and must resume without syscall stops, as it does the command itself.
    options = ["--trace", "process"]
    if not trace_only:
        options += ["--allow-exec", "--allow-path", st.BIN]
    got, events = under_sandtrace(tmp_path, 2, *options, trace_only=trace_only, forked=True)
    assert got == [0, 0]
    assert st.summary(events)["process_count"] == 2
    got, _ = under_sandtrace(tmp_path, 2, *options[2:], trace_only=trace_only, forked=True)
    assert got == [2 * CALLS + WINDOW_EDGES] * 2, "without the pre-filter, every call stops"
