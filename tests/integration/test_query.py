"""`sandtrace query`: read-only SQL and the named reports over a database of real runs, checked
against direct sqlite3 queries of the same file (docs/queries.md)."""
import csv
import io
import json
import os
import sqlite3

import pytest

import sandtrace_fixtures as st


def query(*args, expect_rc=0):
    p = st.run([st.SANDTRACE, "query", *args])
    if expect_rc is not None:
        assert p.returncode == expect_rc, st.describe(p)
    return p


def rows(db, sql, params=()):
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(sql, params).fetchall()


def cell(v):
    return "" if v is None else str(v)


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    """One database with three runs: st-files (files and connects), ls, and a shell writing."""
    tmp = tmp_path_factory.mktemp("query")
    db = tmp / "runs.db"
    work = tmp / "work"
    work.mkdir()
    ids = []
    for n, command in enumerate([[st.helper("files"), work, "9"], ["/bin/ls", tmp],
                                 ["/bin/sh", "-c", f"echo hi > {work}/sh-out.txt"]]):
        out = tmp / f"run{n}.jsonl"
        p = st.sandtrace("-o", db, "-o", out, command=command, stdout=subprocess_devnull())
        assert p.returncode == 0, st.describe(p)
        events = st.load_jsonl(out)
        st.sqlite_matches_jsonl(db, events)
        ids.append(events[0]["run_id"])
    return db, ids, work


def subprocess_devnull():
    import subprocess
    return subprocess.DEVNULL


def test_sql_list_format_matches_sqlite3(traces):
    db, ids, _ = traces
    sql = "SELECT run_id, seq, syscall, path FROM syscalls ORDER BY run_id, seq"
    out = query(db, sql).stdout.decode()
    expected = "".join("|".join(cell(v) for v in r) + "\n" for r in rows(db, sql))
    assert out == expected
    count = query(db, "SELECT COUNT(*) FROM syscalls WHERE run_id = '%s'" % ids[0]).stdout
    assert int(count) == rows(db, "SELECT COUNT(*) FROM syscalls WHERE run_id = ?", (ids[0],))[0][0]


def test_csv_and_json_formats(traces):
    db, ids, _ = traces
    sql = "SELECT seq, syscall, path, decoded, return_value FROM syscalls WHERE run_id = ? ORDER BY seq"
    expected = rows(db, sql.replace("?", f"'{ids[0]}'"))
    text = query("--format", "csv", db, sql.replace("?", f"'{ids[0]}'")).stdout.decode()
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == ["seq", "syscall", "path", "decoded", "return_value"]
    assert parsed[1:] == [[cell(v) for v in r] for r in expected]
    lines = query(db, sql.replace("?", f"'{ids[0]}'"), "--format=json").stdout.decode().splitlines()
    objects = [json.loads(line) for line in lines]
    assert [tuple(o.values()) for o in objects] == expected, "JSON keeps SQL types and NULL"
    assert list(objects[0]) == ["seq", "syscall", "path", "decoded", "return_value"]


def test_table_format_has_a_header(traces):
    db, _, _ = traces
    lines = query("--format", "table", db, "SELECT run_id, total_syscalls FROM runs").stdout.decode().splitlines()
    assert lines[0].split() == ["run_id", "total_syscalls"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert len(lines) == 2 + 3


def test_query_is_read_only(traces):
    db, _, _ = traces
    before = rows(db, "SELECT COUNT(*) FROM syscalls")
    p = query(db, "DELETE FROM syscalls", expect_rc=2)
    assert b"readonly" in p.stderr
    p = query(db, "DROP TABLE runs", expect_rc=2)
    assert rows(db, "SELECT COUNT(*) FROM syscalls") == before


def test_errors_exit_2(traces, tmp_path):
    db, _, _ = traces
    p = query(db, "SELECT nope FROM runs", expect_rc=2)
    assert b"no such column: nope" in p.stderr
    p = query(db, "SELEC 1", expect_rc=2)
    assert b"syntax error" in p.stderr
    missing = tmp_path / "missing.db"
    p = query(missing, "SELECT 1", expect_rc=2)
    assert b"No such file or directory" in p.stderr and str(missing).encode() in p.stderr
    assert not missing.exists()
    query(db, "--report", "nope", expect_rc=2)
    query(db, "--report", "alerts", "--run", "zzzz", expect_rc=2)
    query(db, "SELECT 1", "--format", "xml", expect_rc=2)


def test_report_runs(traces):
    db, ids, _ = traces
    out = query(db, "--report", "runs", "--format", "json").stdout.decode().splitlines()
    runs = [json.loads(line) for line in out]
    assert [r["run_id"] for r in runs] == ids
    for r in runs:
        want = rows(db, "SELECT total_syscalls, exit_code, start, duration_ms FROM runs WHERE run_id = ?",
                    (r["run_id"],))[0]
        assert (r["syscalls"], r["exit_code"], r["start"], r["duration_ms"]) == want
        assert r["alerts"] == rows(db, "SELECT COUNT(*) FROM alerts WHERE run_id = ?", (r["run_id"],))[0][0]
    assert runs[1]["command"] == "/bin/ls " + str(db.parent)


def test_report_files_written(traces):
    db, ids, work = traces
    out = query(db, "--report", "files-written", "--run", ids[0][:8], "--format", "json").stdout
    written = {json.loads(line)["path"]: json.loads(line) for line in out.decode().splitlines()}
    assert f"{work}/created.txt" in written
    assert f"{work}/subdir" in written  # mkdir, rmdir
    assert f"{work}/subdir/renamed.txt" in written  # unlink
    assert f"{work}/does-not-exist" not in written, "read-only open"
    created = written[f"{work}/created.txt"]
    assert created["syscalls"] == rows(
        db, "SELECT COUNT(*) FROM syscalls WHERE run_id = ? AND path = ? AND "
        "(syscall = 'rename' OR json_extract(decoded, '$.flags') LIKE '%O_WRONLY%')",
        (ids[0], f"{work}/created.txt"))[0][0]
    # The default run is the latest: the shell's redirection.
    latest = query(db, "--report", "files-written", "--format", "list").stdout.decode()
    assert f"{work}/sh-out.txt|" in latest


def test_report_network(traces):
    db, ids, work = traces
    out = query(db, "--report", "network", "--run", ids[0], "--format", "json").stdout
    found = [json.loads(line) for line in out.decode().splitlines()]
    want = rows(db, "SELECT json_extract(decoded, '$.addr.family'), json_extract(decoded, "
                "'$.addr.address'), json_extract(decoded, '$.addr.port') FROM syscalls "
                "WHERE run_id = ? AND syscall = 'connect' ORDER BY seq", (ids[0],))
    assert [(f["family"], f["address"], f["port"]) for f in found] == want
    assert ("AF_INET", "127.0.0.1", 9) in want
    assert all(f["syscall"] == "connect" and f["comm"] == "st-files" for f in found)
    assert all(f["result"] == "ok" or f["result"].startswith("E") for f in found)


def test_report_alerts(traces):
    db, ids, _ = traces
    for run in ids:
        out = query(db, "--report", "alerts", "--run", run, "--format", "list").stdout.decode()
        want = rows(db, "SELECT timestamp, severity, rule, pid, message FROM alerts "
                    "WHERE run_id = ? ORDER BY rowid", (run,))
        assert out == "".join("|".join(cell(v) for v in r) + "\n" for r in want)


def test_report_diff_shows_files_of_one_run(traces):
    db, ids, work = traces
    out = query(db, "--report", "diff", ids[0], ids[2], "--format", "json").stdout.decode()
    diff = [json.loads(line) for line in out.splitlines()]
    files = {d["item"]: (d["run_a"], d["run_b"]) for d in diff if d["kind"] == "file"}
    assert files[f"{work}/created.txt"][1] == 0
    assert files[f"{work}/sh-out.txt"][0] == 0
    networks = {d["item"] for d in diff if d["kind"] == "network"}
    assert "AF_INET 127.0.0.1:9" in networks
    for d in diff:
        if d["kind"] == "syscall":
            counts = [rows(db, "SELECT COUNT(*) FROM syscalls WHERE run_id = ? AND syscall = ?",
                           (run, d["item"]))[0][0] for run in (ids[0], ids[2])]
            assert counts == [d["run_a"], d["run_b"]] and counts[0] != counts[1]
    same = query(db, "--report", "diff", ids[1], ids[1], "--format", "list").stdout
    assert same == b"", "a run does not differ from itself"


def test_schema_views_for_many_runs(traces):
    db, ids, work = traces
    files = rows(db, "SELECT written, read FROM files WHERE run_id = ? AND path = ?",
                 (ids[0], f"{work}/created.txt"))
    assert files == [(1, 1)]
    assert rows(db, "SELECT DISTINCT run_id FROM files_written WHERE path = ?",
                (f"{work}/sh-out.txt",)) == [(ids[2],)]
    execs = rows(db, "SELECT path FROM execs WHERE run_id = ?", (ids[1],))
    assert execs and execs[0][0].endswith("ls")
