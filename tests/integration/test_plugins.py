"""External analysers (`sandtrace run --analyzer CMD`, docs/plugins.md): the shipped Python
example's alerts reach JSONL and SQLite and the summary; a plug-in that crashes, hangs, never
connects or sends forged events costs no trace data and is reported."""
import os
import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest

import sandtrace_fixtures as st

PYTHON = "/usr/bin/python3"  # Debian's, with python3-zmq and python3-msgpack
PLUGINS = st.REPO / "analyzer" / "plugins"
DROPPER = f"{PYTHON} {PLUGINS / 'dropper_analyzer.py'}"


def write_plugin(tmp_path, name, body):
    """A plug-in script using analyzer/plugins/sandtrace_plugin.py; returns its command."""
    path = Path(tmp_path) / name
    path.write_text(textwrap.dedent(f"""\
        import os, sys, time
        sys.path.insert(0, {str(PLUGINS)!r})
        from sandtrace_plugin import Plugin
        """) + textwrap.dedent(body))
    return f"{PYTHON} {path}"


def dropper_script(tmp_path):
    """A shell script that drops a program and runs it: copies /bin/true, makes it executable."""
    target = Path(tmp_path) / "payload"
    return ["/bin/sh", "-c", f"cp /bin/true {target} && chmod 755 {target} && {target}"], target


def check_complete(events):
    s = st.summary(events)
    assert s["total_syscalls"] == len(st.syscalls(events)) > 0
    assert s["gaps"] == 0
    return s


@pytest.mark.parametrize("mode", ["trace-only", "enforcing"])
def test_example_analyzer_alerts_reach_jsonl_sqlite_and_summary(tmp_path, mode):
    command, target = dropper_script(tmp_path)
    out, db = tmp_path / "run.jsonl", tmp_path / "run.db"
    options = ["--analyzer", DROPPER, "-o", out, "-o", db]
    if mode == "enforcing":
        options += ["--allow-exec", "--allow-path", tmp_path]
    p = st.sandtrace(*options, command=command, trace_only=mode == "trace-only")
    assert p.returncode == 0, st.describe(p)
    events = st.load_jsonl(out)
    check_complete(events)

    alerts = [e for e in events if e["event_type"] == "alert" and e.get("analyzer") == DROPPER]
    rules = {a["rule"] for a in alerts}
    assert {"dropped_executable", "made_executable"} <= rules, alerts
    dropped = next(a for a in alerts if a["rule"] == "dropped_executable")
    assert dropped["severity"] == "critical"
    assert dropped["path"] == str(target)
    assert dropped["event"]["event_type"] == "process" and dropped["event"]["action"] == "exec"
    # Its derived event is in the JSONL too.
    reports = [e for e in events if e["event_type"] == "dropper_report"]
    assert len(reports) == 1 and reports[0]["programs_executed"] >= 2, reports
    # The summary comes after the plug-in's events and counts its alerts.
    assert events[-1]["event_type"] == "summary"
    s = st.summary(events)
    assert s["alert_count"] >= len(alerts)
    assert {"dropped_executable", "made_executable"} <= {a["rule"] for a in s["suspicious_activity"]}
    assert s["analyzers"] == [{"command": DROPPER, "state": "ok",
                               "events": len(alerts) + 1, "rejected": 0}]

    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT rule, severity, json_extract(event, '$.path') FROM alerts "
                         "WHERE rule = 'dropped_executable'").fetchall()
    assert rows == [("dropped_executable", "critical", str(target))], rows
    # Severe alerts are on the terminal even without -v.
    assert b"dropped_executable" in p.stderr, p.stderr


def test_without_the_analyzer_there_is_no_such_alert(tmp_path):
    command, _ = dropper_script(tmp_path)
    events, _ = st.traced(tmp_path, command)
    assert not [e for e in events if e.get("analyzer")]
    assert "analyzers" not in st.summary(events) or st.summary(events)["analyzers"] == []


CRASHING = """
    plugin = Plugin()
    for event in plugin.events():
        if event["event_type"] == "syscall":
            os.abort()
"""

NEVER_READS = """
    plugin = Plugin()
    time.sleep(3600)
"""

FORGER = """
    plugin = Plugin()
    forged = False
    for event in plugin.events():
        if not forged:
            forged = True
            plugin.emit({"event_type": "syscall", "syscall": "forged", "pid": 1})
            plugin.emit({"event_type": "summary", "total_syscalls": 0})
            plugin.emit({"event_type": "alert", "rule": "no_severity"})
            plugin.emit([1, 2, 3])
            plugin.alert("seen_it", "low", "first event", event)
    plugin.close()
"""


@pytest.mark.parametrize("kind", ["crashes", "never-reads", "not-found", "exits-at-once"])
def test_a_failing_analyzer_loses_no_trace_data(tmp_path, kind):
    if kind == "crashes":
        command = write_plugin(tmp_path, "crash.py", CRASHING)
        state = ("killed by ABRT", "exited with status 134")  # sh -c reports 128+6
    elif kind == "never-reads":
        command = write_plugin(tmp_path, "stuck.py", NEVER_READS)
        state = ("did not finish", "stopped reading")
    elif kind == "not-found":
        command = str(tmp_path / "no-such-analyzer")
        state = "exited with status 127"
    else:
        command = "true"
        state = "exited"
    out, db = tmp_path / "run.jsonl", tmp_path / "run.db"
    # Enough events to fill the plug-in's queue many times over (256 batches).
    p = st.sandtrace("--analyzer", command, "-o", out, "-o", db,
                     command=[st.helper("many-syscalls"), "120000"], timeout=300)
    assert p.returncode == 0, st.describe(p)
    events = st.load_jsonl(out)
    s = check_complete(events)
    assert s["total_syscalls"] >= 120000
    assert st.sqlite_matches_jsonl(db, events)
    assert len(s["analyzers"]) == 1 and s["analyzers"][0]["state"].startswith(state), s["analyzers"]
    assert b"plug-in" in p.stderr, p.stderr


def test_forged_events_are_refused(tmp_path):
    command = write_plugin(tmp_path, "forger.py", FORGER)
    events, p = st.traced(tmp_path, ["/bin/true"], "--analyzer", command)
    assert not [e for e in st.syscalls(events) if e["syscall"] == "forged"]
    assert len([e for e in events if e["event_type"] == "summary"]) == 1
    alerts = [e for e in events if e["event_type"] == "alert" and e.get("analyzer") == command]
    assert [a["rule"] for a in alerts] == ["seen_it"]
    assert alerts[0]["event"]["event_type"] == "sandbox"
    s = st.summary(events)
    assert s["analyzers"] == [{"command": command, "state": "ok", "events": 1, "rejected": 4}]


def test_two_analyzers_run_side_by_side(tmp_path):
    command, _ = dropper_script(tmp_path)
    other = write_plugin(tmp_path, "counter.py", """
        plugin = Plugin()
        n = sum(1 for e in plugin.events() if e["event_type"] == "syscall")
        plugin.emit({"event_type": "syscall_total", "count": n})
        plugin.close()
    """)
    events, _ = st.traced(tmp_path, command, "--analyzer", DROPPER, "--analyzer", other)
    totals = [e for e in events if e["event_type"] == "syscall_total"]
    assert totals and totals[0]["count"] == st.summary(events)["total_syscalls"]
    assert [a["state"] for a in st.summary(events)["analyzers"]] == ["ok", "ok"]
