"""Remote collection: `sandtrace run --publish` into one `sandtrace collect` over TCP loopback.
Real runs, a real collector process, a real SQLite file: every run's rows are complete
(summary total = rows = the run's own local JSONL), also when the collector is killed with
SIGKILL mid-run and started again; loss a publisher reports is a `gap`; a collector that is
not there stops the run before the command runs."""
import collections
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time

import msgpack
import pytest
import zmq

import sandtrace_fixtures as st


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector:
    """A `sandtrace collect` process on a free loopback port."""

    def __init__(self, tmp_path, port=None, extra=()):
        self.tmp = tmp_path
        self.port = port or free_port()
        self.endpoint = f"tcp://127.0.0.1:{self.port}"
        self.db = tmp_path / "runs.db"
        self.jsonl = tmp_path / "runs.jsonl"
        self.extra = list(extra)
        self.log = tmp_path / "collector.log"
        self.proc = None

    def start(self):
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [str(st.SANDTRACE), "collect", "--listen", self.endpoint, "-o", str(self.db),
             "-o", str(self.jsonl), *self.extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        assert st.wait_until(lambda: b"listening on" in self.log.read_bytes()
                             or self.proc.poll() is not None, 30), self.text()
        assert self.proc.poll() is None, self.text()
        return self

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=60)
        if sig == signal.SIGTERM:
            assert rc == 0, self.text()
        return rc

    def text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture
def collector(tmp_path):
    c = Collector(tmp_path).start()
    yield c
    if c.proc.poll() is None:
        c.proc.kill()
        c.proc.wait()


def publish(collector, tmp_path, name, command, *options):
    """Starts `sandtrace run --publish` with a local JSONL copy of the same trace."""
    local = tmp_path / f"{name}.jsonl"
    err = open(tmp_path / f"{name}.err", "wb")
    p = subprocess.Popen(
        st.sandtrace_args("--publish", collector.endpoint, "-o", local, *options,
                          command=command),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    err.close()
    return p, local


def collected_jsonl(path):
    """The collector's JSONL, every line valid JSON with a run_id, grouped by run."""
    runs = collections.defaultdict(list)
    for ev in st.parse_jsonl(path.read_bytes()):
        assert isinstance(ev.get("run_id"), str) and ev["run_id"], ev
        runs[ev["run_id"]].append(ev)
    return runs


def check_run_complete(collector, local_path):
    """The collector has the run exactly as the local JSONL: same events in order (the
    collector's lines carry run_id), same rows in SQLite, summary total = rows."""
    local = st.load_jsonl(local_path)
    run_id = local[0]["run_id"]
    remote = collected_jsonl(collector.jsonl)[run_id]
    stripped = []
    for ev, mine in zip(remote, local):
        ev = dict(ev)
        if "run_id" not in mine:
            ev.pop("run_id")
        stripped.append(ev)
    assert len(remote) == len(local), (len(remote), len(local))
    assert stripped == local
    st.sqlite_matches_jsonl(collector.db, local)
    with sqlite3.connect(collector.db) as conn:
        total, outcome, incomplete = conn.execute(
            "SELECT total_syscalls, outcome, incomplete FROM runs WHERE run_id = ?",
            (run_id,)).fetchone()
        rows = conn.execute("SELECT COUNT(*) FROM syscalls WHERE run_id = ?",
                            (run_id,)).fetchone()[0]
        finished, = conn.execute("SELECT finished FROM streams WHERE run_id = ?",
                                 (run_id,)).fetchone()
        gaps = conn.execute("SELECT COUNT(*) FROM gaps WHERE run_id = ?", (run_id,)).fetchone()[0]
    assert total == rows == st.summary(local)["total_syscalls"]
    assert (outcome, incomplete, finished, gaps) == (st.summary(local)["outcome"], 0, 1, 0)
    return run_id


def wait_all(procs, timeout=300):
    deadline = time.monotonic() + timeout
    return [p.wait(timeout=max(1, deadline - time.monotonic())) for p in procs]


def test_five_concurrent_runs_into_one_collector(tmp_path, collector):
    work = tmp_path / "work"
    work.mkdir()
    commands = {
        "loop": [st.helper("syscall-loop"), "20000"],
        "threads": [st.helper("threads"), "4", "3000"],
        "forker": [st.helper("forker"), "40"],
        "files": [st.helper("files"), work, "9"],
        "ls": ["/bin/ls", "-l", "/usr/bin"],
    }
    started = {name: publish(collector, tmp_path, name, cmd, "--allow-path", work)
               for name, cmd in commands.items()}
    rcs = wait_all([p for p, _ in started.values()])
    assert rcs == [0] * 5, [(n, (tmp_path / f"{n}.err").read_text()) for n in commands]
    collector.stop()
    ids = {check_run_complete(collector, local) for _, local in started.values()}
    assert len(ids) == 5
    with sqlite3.connect(collector.db) as conn:
        hosts = {h for (h,) in conn.execute("SELECT host FROM runs")}
        assert hosts == {socket.gethostname()}
    # Five finished-run lines, one per run.
    assert collector.text().count(" from ") == 5, collector.text()
    # Every collected line belongs to one of the runs, nothing else.
    assert set(collected_jsonl(collector.jsonl)) == ids


def test_collector_killed_and_restarted_mid_run(tmp_path, collector):
    started = [publish(collector, tmp_path, f"run{i}",
                       [st.helper("syscall-loop"), "60000"]) for i in range(3)]

    def rows_committed():
        try:
            with sqlite3.connect(f"file:{collector.db}?mode=ro", uri=True) as conn:
                return conn.execute("SELECT COUNT(*) FROM syscalls").fetchone()[0]
        except sqlite3.Error:
            return 0
    # Kill it once it has committed part of the runs, not all of them.
    assert st.wait_until(lambda: rows_committed() > 5000, 120)
    assert collector.stop(signal.SIGKILL) == -signal.SIGKILL
    before = rows_committed()
    assert before < 3 * 60000, "the runs were over before the collector was killed"
    time.sleep(1.0)  # the publishers keep their data meanwhile and retry
    collector.start()
    rcs = wait_all([p for p, _ in started])
    assert rcs == [0, 0, 0], [(tmp_path / f"run{i}.err").read_text() for i in range(3)]
    collector.stop()
    for _, local in started:
        check_run_complete(collector, local)
    assert "unfinished run(s)" in collector.text() or before == 0, collector.text()


def test_publish_only_without_local_outputs(tmp_path, collector):
    p = st.sandtrace("--publish", collector.endpoint,
                     command=[st.helper("exit-code"), "7"], stdout=subprocess.DEVNULL)
    assert p.returncode == 7, st.describe(p)  # the command's status, as without --publish
    collector.stop()
    runs = collected_jsonl(collector.jsonl)
    assert len(runs) == 1
    events = next(iter(runs.values()))
    for ev in events:
        if ev["event_type"] not in ("sandbox", "summary"):
            ev.pop("run_id")
    st.validate_events(events)
    assert st.summary(events)["exit_code"] == 7
    st.sqlite_matches_jsonl(collector.db, events)


def test_unreachable_collector_stops_the_run_before_the_command(tmp_path):
    marker = tmp_path / "ran"
    start = time.monotonic()
    p = st.sandtrace("--publish", f"tcp://127.0.0.1:{free_port()}", "--allow-path", tmp_path,
                     command=["/bin/sh", "-c", f"touch {marker}"], stdout=subprocess.DEVNULL)
    assert p.returncode == 2, st.describe(p)
    assert not marker.exists(), "the command ran although the collector was unreachable"
    assert b"did not answer" in p.stderr, st.describe(p)
    assert time.monotonic() - start < 60


def test_loss_reported_by_a_publisher_is_a_gap(tmp_path, collector):
    """A publisher (speaking the documented protocol from Python) that no longer holds the
    run's first messages: the collector records the loss as a gap of that run, accepts the rest,
    acknowledges, ignores a duplicate, asks for a resend on a hole, and finishes the run with an
    incomplete summary when its stream ends without one."""
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.connect(collector.endpoint)
    run_id = "feedc0de" * 4

    def send(kind, seq, first_index, events, oldest, lost=(0, 0)):
        head = msgpack.packb(["sandtrace-remote", 1, kind, run_id, "test-host", seq,
                              first_index, len(events), oldest, lost[0], lost[1]])
        body = b"".join(msgpack.packb(e) for e in events)
        sock.send_multipart([head, body])

    def ack(timeout_ms=10000):
        assert sock.poll(timeout_ms), "no answer from the collector"
        magic, version, rid, durable, wanted, resend = msgpack.unpackb(sock.recv())
        assert (magic, version, rid) == ("sandtrace-ack", 1, run_id)
        return durable, wanted, resend

    ts = "2026-11-29T00:00:00.000000Z"
    sandbox = {"event_type": "sandbox", "timestamp": ts, "run_id": run_id, "host": "test-host"}
    call = {"event_type": "syscall", "timestamp": ts, "pid": 5, "tgid": 5, "syscall": "getpid",
            "syscall_nr": 39, "args": {"raw": [0] * 6}, "return_value": 5, "success": True,
            "duration_us": 1, "action": "allow", "category": "process"}
    # Messages 0-2 (the open message and 10 events) are gone: the first one held is seq 3.
    send(3, 3, 10, [sandbox, call, call], oldest=3)
    assert ack() == (4, 4, False)
    send(3, 3, 10, [sandbox, call, call], oldest=3)  # a duplicate: acknowledged, not stored
    assert ack() == (4, 4, False)
    send(3, 5, 14, [call], oldest=4)                  # seq 4 is missing: ask for it
    assert ack() == (4, 4, True)
    send(3, 4, 13, [call], oldest=4, lost=(2, 1))     # the analyser lost 2 events before it
    assert ack() == (5, 5, False)
    send(4, 5, 14, [], oldest=5)                      # end of stream, no summary came
    assert ack() == (6, 6, False)
    sock.close(0)
    ctx.term()
    collector.stop()
    with sqlite3.connect(collector.db) as conn:
        gaps = conn.execute("SELECT stage, lost_records, lost_messages FROM gaps WHERE run_id = ?"
                            " ORDER BY rowid", (run_id,)).fetchall()
        total, rows, incomplete, gap_sum, host = conn.execute(
            "SELECT total_syscalls, (SELECT COUNT(*) FROM syscalls WHERE run_id = r.run_id), "
            "incomplete, gaps, host FROM runs r WHERE run_id = ?", (run_id,)).fetchone()
    assert gaps == [("publisher->collector", 10, 3), ("analyzer->sink", 2, 1)]
    assert (total, rows, incomplete, host) == (3, 3, 1, "test-host")
    events = collected_jsonl(collector.jsonl)[run_id]
    assert [e["event_type"] for e in events] == [
        "gap", "sandbox", "syscall", "syscall", "gap", "syscall", "summary"]
    assert events[-1]["incomplete"] is True and events[-1]["gaps"] == gap_sum


def test_collector_usage_errors(tmp_path):
    db = tmp_path / "r.db"
    cases = [
        ([], b"--listen"),
        (["--listen", "tcp://127.0.0.1:1"], b"database output"),
        (["--listen", "udp://x", "-o", db], b"tcp://"),
        (["--listen", "tcp://127.0.0.1:1", "-o", db, "-o", tmp_path / "b.db"], b"one database"),
        (["--listen", "tcp://127.0.0.1:1", "-o", db, "-o", "-"], b"files only"),
        (["--listen", "tcp://127.0.0.1:1", "-o", tmp_path / "x.txt"], b"unknown format"),
        (["--listen", "tcp://127.0.0.1:1", "-o", db, "--bogus"], b"unknown argument"),
        (["--listen", "tcp://127.0.0.1:1", "-o", db, "--abandon-after", "soon"], b"seconds"),
    ]
    for args, message in cases:
        p = st.run([st.SANDTRACE, "collect", *args])
        assert p.returncode == 2 and message in p.stderr, (args, st.describe(p))
    assert not db.exists()
    p = st.run([st.SANDTRACE, "collect", "--help"])
    assert p.returncode == 0 and b"--listen ENDPOINT" in p.stdout
    p = st.run([st.SANDTRACE, "run", "--publish", "http://x", "--", "/bin/true"])
    assert p.returncode == 2 and b"tcp://" in p.stderr


def test_port_in_use_and_unwritable_database(tmp_path, collector):
    p = st.run([st.SANDTRACE, "collect", "--listen", collector.endpoint,
                "-o", tmp_path / "second.db"])
    assert p.returncode == 1 and b"cannot listen" in p.stderr, st.describe(p)
    (tmp_path / "notadb.db").write_text("plain text\n")
    p = st.run([st.SANDTRACE, "collect", "--listen", f"tcp://127.0.0.1:{free_port()}",
                "-o", tmp_path / "notadb.db"])
    assert p.returncode == 1 and b"not a SQLite database" in p.stderr, st.describe(p)


def test_abandoned_run_is_finished_incomplete(tmp_path):
    c = Collector(tmp_path, extra=["--abandon-after", "1"]).start()
    try:
        ctx = zmq.Context()
        sock = ctx.socket(zmq.DEALER)
        sock.connect(c.endpoint)
        run_id = "abad0000" * 4
        head = msgpack.packb(["sandtrace-remote", 1, 1, run_id, "h", 0, 0, 0, 0, 0, 0])
        sock.send_multipart([head, b""])
        assert sock.poll(10000)
        sock.close(0)
        ctx.term()

        def finished():
            with sqlite3.connect(f"file:{c.db}?mode=ro", uri=True) as conn:
                row = conn.execute("SELECT finished FROM streams WHERE run_id = ?",
                                   (run_id,)).fetchone()
                return row is not None and row[0] == 1
        assert st.wait_until(finished, 30), c.text()
        c.stop()
        with sqlite3.connect(c.db) as conn:
            outcome, incomplete = conn.execute(
                "SELECT outcome, incomplete FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        assert (outcome, incomplete) == ("aborted", 1)
        summary = collected_jsonl(c.jsonl)[run_id][-1]
        assert summary["event_type"] == "summary" and "sent nothing" in summary["reason"]
    finally:
        if c.proc.poll() is None:
            c.proc.kill()


def test_unprivileged_run_publishes(tmp_path, collector):
    """A run as uid 65534 publishes to a collector run by root."""
    p = st.run([*st.SETPRIV_NOBODY,
                *st.sandtrace_args("--publish", collector.endpoint,
                                   command=[st.helper("syscall-loop"), "500"])],
               stdout=subprocess.DEVNULL)
    assert p.returncode == 0, st.describe(p)
    collector.stop()
    runs = collected_jsonl(collector.jsonl)
    assert len(runs) == 1
    events = next(iter(runs.values()))
    assert st.summary(events)["total_syscalls"] >= 500
    assert sum(1 for e in events if e["event_type"] == "syscall") == \
        st.summary(events)["total_syscalls"]


def test_interrupted_run_arrives_complete(tmp_path, collector):
    """Ctrl-C on a publishing run: exit 130, and the collector still gets every event and the
    summary (outcome interrupted), as the local output does."""
    p, local = publish(collector, tmp_path, "interrupted",
                       [st.helper("syscall-loop"), "100000000"])
    assert st.wait_until(lambda: local.exists() and local.stat().st_size > 100000, 60)
    p.send_signal(signal.SIGINT)
    assert p.wait(timeout=120) == 130, (tmp_path / "interrupted.err").read_text()
    collector.stop()
    check_run_complete(collector, local)
    assert st.summary(st.load_jsonl(local))["outcome"] == "interrupted"
