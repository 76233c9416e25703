"""Signals to the pipeline: SIGINT/SIGTERM to sandtrace, SIGKILL of a stage (SPEC section 2).

Issue "Pipeline core", point 7: the traced tree never outlives the run, and the trace is still
complete with its summary when sandtrace itself was asked to stop.
"""
import os
import signal
import subprocess
import time

import pytest

import sandtrace_fixtures as st

SLEEPERS = 2  # children of st-sleeper; with the parent, 3 processes


class Run:
    """sandtrace tracing `st-sleeper SLEEPERS MARKER` in the background."""

    def __init__(self, tmp_path, marker, extra=()):
        self.out = tmp_path / "t.jsonl"
        self.stdout_path = tmp_path / "stdout"
        self.stdout = open(self.stdout_path, "wb")
        self.proc = subprocess.Popen(
            st.sandtrace_args("-o", self.out, *extra,
                              command=[st.helper("sleeper"), str(SLEEPERS), marker]),
            stdin=subprocess.DEVNULL, stdout=self.stdout, stderr=subprocess.PIPE)
        self.marker = marker

    def sleepers(self, timeout=60):
        """The pids of the traced sleepers, once all of them are up."""
        def ready():
            lines = self.stdout_path.read_text().splitlines()
            return len(lines) == SLEEPERS + 1
        assert st.wait_until(ready, timeout), "the sleepers did not start"
        # The pids they print are those of the sandbox's PID namespace; the host (and the
        # JSONL) knows them by their host pids, found by the marker in their command line.
        def sleeper_pids():
            return [p for p in st.pids_with_marker(self.marker)
                    if st.exe_name(p) == "st-sleeper"]
        assert st.wait_until(lambda: len(sleeper_pids()) == SLEEPERS + 1, 10)
        pids = sleeper_pids()
        assert all(st.alive(p) for p in pids)
        return pids

    def wait(self, timeout=60):
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise AssertionError(f"sandtrace did not end within {timeout} s")
        finally:
            self.stdout.close()
        self.stderr = err
        return self.proc.returncode

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stdout.close()


@pytest.fixture
def background(tmp_path, marker):
    runs = []

    def start(*extra):
        r = Run(tmp_path, marker, extra)
        runs.append(r)
        return r
    yield start
    for r in runs:
        r.close()


@pytest.mark.parametrize("sig,status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_signal_to_sandtrace_kills_the_tree_and_finishes_the_trace(background, marker, sig,
                                                                   status):
    run = background()
    pids = run.sleepers()
    run.proc.send_signal(sig)
    rc = run.wait()
    assert rc == status, run.stderr.decode(errors="replace")
    assert st.wait_until(lambda: not any(st.alive(p) for p in pids), 5), \
        f"traced processes survived: {[p for p in pids if st.alive(p)]}"
    assert not st.pids_with_marker(marker)
    events = st.load_jsonl(run.out)
    s = st.summary(events)
    assert s["interrupted"] is True and s["outcome"] == "interrupted"
    assert s["exit_code"] == status and s["timed_out"] is False
    ends = {e["pid"]: e for e in events if e["event_type"] == "process"
            and e["action"] in ("exited", "signaled")}
    for p in pids:
        assert ends[p]["action"] == "signaled" and ends[p]["signal"] == "SIGKILL"
    # The sleepers were in pause() when killed: a syscall that never returned.
    pauses = [ev for ev in st.syscalls(events) if ev["syscall"] == "pause"]
    assert len(pauses) == len(pids) and not any(ev["returned"] for ev in pauses)


def test_sigint_also_written_to_sqlite(background, marker, tmp_path):
    db = tmp_path / "t.db"
    run = background("-o", db)
    run.sleepers()
    run.proc.send_signal(signal.SIGINT)
    assert run.wait() == 130
    events = st.load_jsonl(run.out)
    st.sqlite_matches_jsonl(db, events)
    with st.sqlite_connect(db) as conn:
        row = dict(conn.execute("SELECT exit_code, interrupted FROM runs").fetchone())
    assert row == {"exit_code": 130, "interrupted": 1}


def test_sigkill_of_the_tracer(background, marker):
    run = background()
    pids = run.sleepers()
    tracer = st.child_named(run.proc.pid, "sandtrace-tracer")
    os.kill(tracer, signal.SIGKILL)
    # PTRACE_O_EXITKILL: the tracees die with their tracer.
    assert st.wait_until(lambda: not any(st.alive(p) for p in pids), 5), \
        f"traced processes survived the tracer: {[p for p in pids if st.alive(p)]}"
    rc = run.wait(timeout=60)
    assert rc != 0, "a run whose tracer was killed is not a success"
    assert not st.pids_with_marker(marker)
    # What reached the analyser is still written, and the trace still ends with a summary.
    events = st.load_jsonl(run.out, allow_gaps=True)
    assert st.summary(events)["outcome"] == "aborted"


def test_sigkill_of_the_analyzer(background, marker):
    run = background()
    pids = run.sleepers()
    analyzer = st.child_named(run.proc.pid, "sandtrace-analyzer")
    os.kill(analyzer, signal.SIGKILL)
    rc = run.wait(timeout=60)
    assert rc != 0, "a run whose analyser was killed is not a success"
    assert st.wait_until(lambda: not any(st.alive(p) for p in pids), 5), \
        f"traced processes survived: {[p for p in pids if st.alive(p)]}"
    assert not st.pids_with_marker(marker)


def test_sigkill_of_a_sink(background, marker, tmp_path):
    run = background("-o", tmp_path / "second.jsonl")
    pids = run.sleepers()
    sink = st.child_named(run.proc.pid, "sandtrace-sink-jsonl")
    os.kill(sink, signal.SIGKILL)
    rc = run.wait(timeout=60)
    assert rc != 0
    assert st.wait_until(lambda: not any(st.alive(p) for p in pids), 5), \
        f"traced processes survived: {[p for p in pids if st.alive(p)]}"
    assert not st.pids_with_marker(marker)


def test_sigkill_of_sandtrace_itself(background, marker):
    # The stages die with the wrapper (PR_SET_PDEATHSIG), the tracees with the tracer.
    run = background()
    pids = run.sleepers()
    stages = st.children_of(run.proc.pid)
    run.proc.kill()
    run.wait()
    assert st.wait_until(lambda: not any(st.alive(p) for p in pids + stages), 10), \
        f"survivors: {[p for p in pids + stages if st.alive(p)]}"
    assert not st.pids_with_marker(marker)


def test_a_run_directory_left_by_sigkill_is_removed_by_a_later_run(tmp_path, marker):
    # A SIGKILLed sandtrace cannot remove its run directory (ipc endpoints and two small files,
    # on tmpfs: memory). The next run removes it, but no directory of a run still alive and no
    # directory too new to be locked yet (RunDirectory in cli/supervisor.cc).
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime))

    def run_dirs():
        return {p.name for p in runtime.iterdir() if p.name.startswith("sandtrace-")}

    def start(name):
        return subprocess.Popen(
            st.sandtrace_args("-o", tmp_path / name, command=[st.helper("sleeper"), "1", marker]),
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)

    def sleeper_started(count):
        return len([p for p in st.pids_with_marker(marker)
                    if st.exe_name(p) == "st-sleeper"]) == 2 * count

    killed = start("killed.jsonl")
    try:
        assert st.wait_until(lambda: sleeper_started(1), 60)
        (left,) = run_dirs()
        stages = st.children_of(killed.pid)
        killed.kill()
        killed.wait(timeout=30)
        assert st.wait_until(lambda: not any(st.alive(p) for p in stages), 10)
    finally:
        if killed.poll() is None:
            killed.kill()
    assert run_dirs() == {left}, "the killed run's directory should still be there"

    live = start("live.jsonl")
    try:
        assert st.wait_until(lambda: sleeper_started(1) and len(run_dirs()) == 2, 60)
        (live_dir,) = run_dirs() - {left}
        fresh = runtime / "sandtrace-fresh1"  # as between a run's mkdtemp and its lock
        fresh.mkdir(mode=0o700)
        hour_ago = time.time() - 3600
        for name in (left, live_dir):
            os.utime(runtime / name, (hour_ago, hour_ago))

        p = st.run(st.sandtrace_args("-o", tmp_path / "later.jsonl", command=["/bin/true"]),
                   env=env)
        assert p.returncode == 0, st.describe(p)
        assert run_dirs() == {live_dir, fresh.name}
        assert (runtime / live_dir / "raw").exists()

        live.send_signal(signal.SIGTERM)
        assert live.wait(timeout=60) == 143
    finally:
        if live.poll() is None:
            live.kill()
            live.wait()
    assert run_dirs() == {fresh.name}
    assert st.load_jsonl(tmp_path / "live.jsonl")[-1]["event_type"] == "summary"


def test_slow_analyzer_at_the_end_of_the_run(tmp_path):
    # The tracer waits for the analyser to acknowledge the end of the stream; an analyser that
    # is slow then (here: stopped for 2 s) must not turn a successful run into a failure: the
    # wait goes on through the tracer's own timer signals (EINTR).
    out = tmp_path / "t.jsonl"
    proc = subprocess.Popen(
        st.sandtrace_args("-o", out, command=["/bin/sh", "-c", "read line; echo got $line"]),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        analyzer = st.child_named(proc.pid, "sandtrace-analyzer")
        tracer = st.child_named(proc.pid, "sandtrace-tracer")
        assert st.wait_until(lambda: any(st.exe_name(c) == "dash" or st.exe_name(c) == "sh"
                                         for c in st.children_of(tracer)), 30)
        os.kill(analyzer, signal.SIGSTOP)
        try:
            proc.stdin.write(b"x\n")
            proc.stdin.close()
            proc.stdin = None
            # The command ends now; the tracer sends the end and waits for the ack.
            assert st.wait_until(lambda: not [c for c in st.children_of(tracer)
                                              if st.alive(c)], 30)
            time.sleep(2)
        finally:
            os.kill(analyzer, signal.SIGCONT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr.decode(errors="replace")
    assert stdout == b"got x\n"
    assert b"Interrupted system call" not in stderr, stderr.decode(errors="replace")
    events = st.load_jsonl(out)
    assert st.summary(events)["exit_code"] == 0
