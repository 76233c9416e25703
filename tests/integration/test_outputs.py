"""JSONL and SQLite outputs (SPEC sections 3 and 4, docs/events.md).

Issue "Pipeline core", point 5: schema, -o -, several outputs at once, SQLite runs appended.
"""
import json
import os
import shutil
import subprocess
import time

import sandtrace_fixtures as st


def test_schema_of_a_simple_run(tmp_path):
    command = [st.helper("syscall-loop"), "4"]
    events, _ = st.traced(tmp_path, command)  # traced() validates every line
    sandbox = events[0]
    assert sandbox["command"] == command
    assert sandbox["executable"] == command[0]
    assert sandbox["trace_only"] is True and sandbox["follow_forks"] is True
    assert sandbox["host"] == os.uname().nodename
    layers = {layer["name"]: layer for layer in sandbox["layers"]}
    assert layers["ptrace"]["state"] == "applied"
    assert layers["landlock"]["state"] == "skipped" and layers["seccomp"]["state"] == "skipped"
    calls = st.syscalls(events)
    getppid = [ev for ev in calls if ev["syscall"] == "getppid"]
    assert len(getppid) == 4
    assert all(ev["syscall_nr"] == 110 and ev["category"] == "process" for ev in getppid)
    assert all(ev["action"] == "allow" and ev["returned"] for ev in calls
               if ev["syscall"] != "exit_group")
    # The first syscall is the command's own execve, then the loader's.
    assert calls[0]["syscall"] == "execve" and calls[0]["args"]["decoded"]["argv"] == command
    assert calls[-1]["syscall"] == "exit_group" and calls[-1]["returned"] is False
    s = st.summary(events)
    assert s["exit_code"] == 0 and s["outcome"] == "exited"
    assert s["duration_ms"] >= 0 and s["gaps"] == 0
    assert s["timestamp"] >= sandbox["timestamp"]
    # Failed syscalls carry the errno name (the loader's access of /etc/ld.so.preload).
    failed = [ev for ev in calls if not ev["success"]]
    assert all(ev["error"].startswith("E") for ev in failed)


def test_decoded_arguments_and_summary_lists(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    events, _ = st.traced(tmp_path, [st.helper("files"), work, "9"])
    calls = st.syscalls(events)

    def find(name, pred=lambda d: True):
        return [ev for ev in calls if ev["syscall"] == name and pred(ev["args"].get("decoded", {}))]

    created = str(work / "created.txt")
    w = find("openat", lambda d: d.get("path") == created and "O_CREAT" in d.get("flags", ""))
    assert len(w) == 1
    d = w[0]["args"]["decoded"]
    assert d["dirfd"] == "AT_FDCWD" and d["flags"] == "O_WRONLY|O_CREAT|O_TRUNC"
    assert d["mode"] == "0640"
    assert w[0]["category"] == "file_write", "openat with a write flag is file_write"
    r = find("openat", lambda d: d.get("path") == created and d.get("flags") == "O_RDONLY")
    assert len(r) == 1 and r[0]["category"] == "file_read"
    missing = find("openat", lambda d: d.get("path") == str(work / "does-not-exist"))
    assert len(missing) == 1
    assert missing[0]["return_value"] == -2 and missing[0]["error"] == "ENOENT"
    assert missing[0]["success"] is False
    ren = find("rename")
    assert len(ren) == 1
    assert ren[0]["args"]["decoded"]["path"] == created
    assert ren[0]["args"]["decoded"]["path2"] == str(work / "subdir" / "renamed.txt")
    assert find("mkdir")[0]["args"]["decoded"]["path"] == str(work / "subdir")
    assert find("unlink")[0]["args"]["decoded"]["path"] == str(work / "subdir" / "renamed.txt")
    addrs = [ev["args"]["decoded"]["addr"] for ev in find("connect")]
    assert [(a["family"], a["address"]) for a in addrs] == [
        ("AF_INET", "127.0.0.1"), ("AF_INET6", "::1"), ("AF_UNIX", str(work / "sock")),
        ("AF_UNIX", "@sandtrace-test")]
    assert addrs[0]["port"] == 9 and addrs[1]["port"] == 9
    assert all(ev["category"] == "network" for ev in find("connect"))

    s = st.summary(events)
    for path in [created, str(work / "subdir"), str(work / "subdir" / "renamed.txt"),
                 str(work / "does-not-exist")]:
        assert path in s["files_accessed"], path
    assert len(s["files_accessed"]) == len(set(s["files_accessed"]))
    net = [(a["syscall"], a["family"], a["address"], a["port"], a["success"])
           for a in s["network_attempts"]]
    assert ("connect", "AF_INET", "127.0.0.1", 9, False) in net
    assert ("connect", "AF_INET6", "::1", 9, False) in net


def test_files_accessed_holds_only_paths(tmp_path):
    # fstat through newfstatat(fd, "", AT_EMPTY_PATH) passes no path: "" is not a file.
    events, _ = st.traced(tmp_path, [st.helper("syscall-loop"), "1"])
    assert "" not in st.summary(events)["files_accessed"]


def split_stdout(data):
    """stdout of `sandtrace run -o -`: the JSONL lines and the program's own lines."""
    jsonl, own = [], []
    for line in data.decode().splitlines(keepends=True):
        (jsonl if line.startswith('{"event_type"') else own).append(line)
    return "".join(jsonl).encode(), "".join(own)


def test_jsonl_on_stdout_keeps_the_programs_stdout(tmp_path):
    # Stdout to a regular file: each write() lands whole, so the lines never mix.
    stdout_file = tmp_path / "stdout"
    with open(stdout_file, "wb") as f:
        p = st.sandtrace("-o", "-", command=[st.helper("signals")], stdout=f)
    assert p.returncode == 0, st.describe(p)
    jsonl, own = split_stdout(stdout_file.read_bytes())
    assert own == "usr1 handled\nchld handled\n"
    events = st.load_jsonl(jsonl)
    assert st.summary(events)["exit_code"] == 0


def test_jsonl_on_stdout_appended_to_a_file_keeps_what_it_held(tmp_path):
    # `sandtrace run -o - >> log`: the caller's file is the caller's; only `-o FILE` is emptied.
    stdout_file = tmp_path / "log"
    stdout_file.write_bytes(b"kept line\n" * 1000)
    with open(stdout_file, "ab") as f:
        p = st.sandtrace("-o", "-", command=[st.helper("syscall-loop"), "2"], stdout=f)
    assert p.returncode == 0, st.describe(p)
    data = stdout_file.read_bytes()
    assert data.startswith(b"kept line\n" * 1000)
    jsonl, own = split_stdout(data[len(b"kept line\n" * 1000):])
    assert own == "done 2\n"
    assert st.summary(st.load_jsonl(jsonl))["exit_code"] == 0


def test_jsonl_on_stdout_through_a_pipe(tmp_path):
    p = st.sandtrace("-o", "-", command=[st.helper("syscall-loop"), "3"])
    assert p.returncode == 0, st.describe(p)
    jsonl, own = split_stdout(p.stdout)
    assert own == "done 3\n"
    events = st.load_jsonl(jsonl)
    assert sum(1 for ev in st.syscalls(events) if ev["syscall"] == "getppid") == 3


def test_several_outputs_hold_the_same_events(tmp_path):
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.ndjson", tmp_path / "c.json"
    db = tmp_path / "t.db"
    stdout_file = tmp_path / "stdout"
    with open(stdout_file, "wb") as f:
        p = st.sandtrace("-o", a, "-o", b, "-o", db, "-o", c, "-o", "-",
                         command=[st.helper("threads"), "3", "10"], stdout=f)
    assert p.returncode == 0, st.describe(p)
    text = a.read_bytes()
    assert b.read_bytes() == text and c.read_bytes() == text
    jsonl, own = split_stdout(stdout_file.read_bytes())
    assert jsonl == text and own == "threads 3 10\n"
    events = st.load_jsonl(a)
    st.sqlite_matches_jsonl(db, events)
    assert st.sqlite_run_ids(db) == [events[0]["run_id"]]


def test_a_stage_that_cannot_start_stops_the_run_before_the_command(tmp_path):
    # A copy of the binaries without the SQLite sink: the JSONL sink starts first, then the
    # SQLite one cannot. Exit 2 naming it, the command never runs, no stage is left behind.
    bin_copy = tmp_path / "bin"
    bin_copy.mkdir()
    for name in ("sandtrace", "sandtrace-tracer", "sandtrace-analyzer", "sandtrace-sink-jsonl"):
        shutil.copy2(st.BIN / name, bin_copy / name)
    ran = tmp_path / "ran"
    args = st.sandtrace_args("-o", tmp_path / "a.jsonl", "-o", tmp_path / "b.db",
                             command=["/bin/touch", ran])
    p = st.run([str(bin_copy / "sandtrace"), *args[1:]])
    assert p.returncode == 2, st.describe(p)
    assert "sandtrace-sink-sqlite" in p.stderr.decode(), st.describe(p)
    assert not ran.exists()
    left = subprocess.run(["pgrep", "-f", str(bin_copy)], stdout=subprocess.PIPE, text=True)
    assert left.stdout == "", left.stdout


def test_sqlite_appends_runs(tmp_path):
    db = tmp_path / "runs.sqlite"
    runs = []
    for n in (5, 8):
        out = tmp_path / f"run{n}.jsonl"
        p = st.sandtrace("-o", db, "-o", out, command=[st.helper("syscall-loop"), str(n)])
        assert p.returncode == 0, st.describe(p)
        runs.append(st.load_jsonl(out))
    ids = [r[0]["run_id"] for r in runs]
    assert ids[0] != ids[1]
    assert st.sqlite_run_ids(db) == ids, "the second run is appended, not a replacement"
    with st.sqlite_connect(db) as conn:
        for events in runs:
            rows = st.sqlite_matches_jsonl(db, events)
            assert len(rows) == st.summary(events)["total_syscalls"]
            run = dict(conn.execute("SELECT * FROM runs WHERE run_id = ?",
                                    (events[0]["run_id"],)).fetchone())
            assert run["exit_code"] == st.summary(events)["exit_code"]
            assert run["host"] == events[0]["host"]
            for column in ("command", "start", "end", "policy"):
                assert column in run
        getppid = conn.execute(
            "SELECT run_id, COUNT(*) FROM syscalls WHERE syscall = 'getppid' GROUP BY run_id"
        ).fetchall()
        assert dict((r[0], r[1]) for r in getppid) == {ids[0]: 5, ids[1]: 8}


def test_sqlite_tables_and_processes(tmp_path):
    db = tmp_path / "t.db"
    out = tmp_path / "t.jsonl"
    p = st.sandtrace("-o", db, "-o", out, command=[st.helper("forker"), "2"])
    assert p.returncode == 0, st.describe(p)
    events = st.load_jsonl(out)
    run_id = events[0]["run_id"]
    with st.sqlite_connect(db) as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"runs", "processes", "syscalls", "alerts"} <= tables
        views = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
        assert views, "a few views answer the usual questions"
        indexes = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'syscalls'")}
        assert indexes
        pids = {r[0] for r in conn.execute("SELECT pid FROM processes WHERE run_id = ?",
                                           (run_id,))}
        spawned = {ev["pid"] for ev in st.of_type(events, "process", "spawn")}
        assert pids == spawned
        for column in ("syscall", "category", "action"):
            assert column in st.sqlite_columns(conn, "syscalls")


def test_sqlite_output_for_a_failing_command(tmp_path):
    db = tmp_path / "t.db"
    p = st.sandtrace("-o", db, command=[st.helper("die-signal"), "15"])
    assert p.returncode == 143, st.describe(p)
    with st.sqlite_connect(db) as conn:
        (code,) = conn.execute("SELECT exit_code FROM runs").fetchone()
    assert code == 143


def test_jsonl_lines_reach_the_file_while_the_command_runs(tmp_path):
    """The JSONL sink buffers lines for large writes, but a slow trace still reaches the file
    as it runs (within about 300 ms), not only at the end: `tail -f` follows it."""
    out = tmp_path / "live.jsonl"
    marker = tmp_path / "done"
    # A few syscalls, then a long quiet wait, then the end.
    script = f"echo start; sleep 3; : > {marker}"
    proc = subprocess.Popen(
        [str(a) for a in st.sandtrace_args("-o", out, command=["/bin/sh", "-c", script])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        seen = []
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline and proc.poll() is None:
            if out.exists():
                seen = [json.loads(line) for line in out.read_text().splitlines()
                        if line.endswith("}")]
                if any(ev["event_type"] == "syscall" for ev in seen):
                    break
            time.sleep(0.05)
        assert proc.poll() is None and not marker.exists(), "the command ended too early"
        assert seen and seen[0]["event_type"] == "sandbox", seen[:1]
        assert any(ev["event_type"] == "syscall" for ev in seen), \
            "no syscall line reached the file while the command ran"
        assert proc.wait(timeout=st.DEFAULT_TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    events = st.load_jsonl(out)
    assert st.summary(events)["exit_code"] == 0
