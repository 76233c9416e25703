"""Shared helpers for the sandtrace integration tests.

Run with Debian's /usr/bin/python3 (python3-pytest). The binaries are taken from $SANDTRACE_BIN
(ctest sets it to BUILD/bin); without it, from build/bin of this repository.

- sandtrace(...), run(...)         run `sandtrace run ...` (returns subprocess.CompletedProcess)
- helper(name)                     path of a tests/helpers program (st-NAME)
- load_jsonl(path or text)         parse and validate a JSONL trace (docs/events.md)
- validate_events(events)          the schema checks alone
- sqlite_*                         read a SQLite output
- strace_counts(argv)              per-syscall counts of `strace -f -c [-e trace=...]`
- process helpers                  /proc scans for leftover processes, children of a pid
- NOBODY, SETPRIV_NOBODY           uid/gid 65534, and the prefix that runs a command as it
                                   (no groups): the ordinary user of the unprivileged tests
"""
import atexit
import collections
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("SANDTRACE_BIN") or REPO / "build" / "bin")
NOBODY = 65534
SETPRIV_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def _searchable_by_everyone(path):
    """Whether every directory on the way to `path` lets other users through."""
    p = Path(path).resolve()
    return all(os.stat(d).st_mode & 0o001 for d in [p, *p.parents])


if BIN.is_dir() and not _searchable_by_everyone(BIN):
    # Some tests run the binaries as uid NOBODY; a checkout inside a private directory (e.g.
    # under /root) is out of its reach, so those runs use a world-readable copy of the binaries.
    _copy = Path(tempfile.mkdtemp(prefix="sandtrace-bin-"))
    os.chmod(_copy, 0o755)
    for _f in BIN.iterdir():
        if _f.is_file() and _f.name.startswith(("sandtrace", "st-")):
            shutil.copy2(_f, _copy / _f.name)
    atexit.register(shutil.rmtree, _copy, True)
    BIN = _copy
SANDTRACE = BIN / "sandtrace"

# Generous: the VM is small and noisy. Tests that are about time say so themselves.
DEFAULT_TIMEOUT = 180
# Passed to every run that is not about --timeout, so a slow machine never trips the default 30 s.
NO_TIMEOUT_FLAGS = ["--timeout", "600"]


def helper(name):
    """Path of a test helper program, e.g. helper("syscall-loop") -> BIN/st-syscall-loop."""
    path = BIN / ("st-" + name)
    assert path.exists(), f"{path} is missing: build the target sandtrace_test_helpers"
    return str(path)


def sandtrace_args(*options, command, trace_only=True, timeout_flags=True):
    args = [str(SANDTRACE), "run"]
    if trace_only:
        args.append("--trace-only")
    if timeout_flags:
        args += NO_TIMEOUT_FLAGS
    args += [str(o) for o in options]
    args.append("--")
    args += [str(c) for c in command]
    return args


def run(args, timeout=DEFAULT_TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=None, stdin=subprocess.DEVNULL, **kw):
    """subprocess.run with captured output (bytes) and a hard timeout."""
    return subprocess.run([str(a) for a in args], stdout=stdout, stderr=stderr, stdin=stdin,
                          env=env, timeout=timeout, **kw)


def sandtrace(*options, command, trace_only=True, timeout_flags=True, **kw):
    """Runs `sandtrace run [--trace-only] [--timeout 600] OPTIONS -- COMMAND`."""
    return run(sandtrace_args(*options, command=command, trace_only=trace_only,
                              timeout_flags=timeout_flags), **kw)


def traced(tmp_path, command, *options, name="trace.jsonl", expect_rc=0, **kw):
    """Traces COMMAND into tmp_path/NAME (stdout of sandtrace and so of the command to
    /dev/null unless given), checks the exit status and returns (events, completed process)."""
    out = Path(tmp_path) / name
    kw.setdefault("stdout", subprocess.DEVNULL)
    p = sandtrace("-o", out, *options, command=command, **kw)
    if expect_rc is not None:
        assert p.returncode == expect_rc, describe(p)
    return load_jsonl(out), p


def describe(p):
    """A readable account of a finished process for assertion messages."""
    def text(b):
        if b is None:
            return ""
        if isinstance(b, bytes):
            b = b.decode(errors="replace")
        return b[-4000:]
    return (f"command {p.args!r} exited with {p.returncode}\n--- stdout ---\n{text(p.stdout)}"
            f"\n--- stderr ---\n{text(p.stderr)}")


# ---------------------------------------------------------------------------------------------
# JSONL and its schema (docs/events.md)

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
RUN_ID = re.compile(r"^[0-9a-f]{32}$")
CATEGORIES = {"file_read", "file_write", "file_metadata", "directory", "process", "network",
              "memory", "signal", "ipc", "system", "other"}
ACTIONS = {"allow", "deny", "log_only", "kill"}
OUTCOMES = {"exited", "signaled", "timed_out", "interrupted", "setup_failed", "exec_failed",
            "aborted"}
LAYER_NAMES = ["user_namespace", "mount_namespace", "pid_namespace", "network_namespace",
               "no_new_privs", "landlock", "seccomp", "ptrace"]
DECODED_KEYS = {"fd", "dirfd", "path", "path2", "flags", "mode", "addr", "argv", "signal",
                "target_pid", "count", "truncated"}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_str_list(v):
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def check_fields(ev, required, optional=()):
    """Exactly the documented keys, each of the documented type. `required`/`optional` map a
    key to a predicate."""
    keys = set(ev)
    missing = set(required) - keys
    assert not missing, f"missing keys {sorted(missing)} in {ev}"
    unknown = keys - set(required) - set(dict(optional))
    assert not unknown, f"undocumented keys {sorted(unknown)} in {ev}"
    for table in (required, dict(optional)):
        for key, ok in table.items():
            if key in ev:
                assert ok(ev[key]), f"key {key!r} has a wrong type or value: {ev[key]!r} in {ev}"


def _is_timestamp(v):
    return isinstance(v, str) and TIMESTAMP.match(v) is not None


def _check_sandbox(ev):
    check_fields(ev, {
        "event_type": lambda v: v == "sandbox",
        "timestamp": _is_timestamp,
        "run_id": lambda v: isinstance(v, str) and RUN_ID.match(v) is not None,
        "host": lambda v: isinstance(v, str) and v != "",
        "policy": lambda v: isinstance(v, str) and v != "",
        "command": lambda v: is_str_list(v) and len(v) > 0,
        "executable": lambda v: isinstance(v, str) and v != "",
        "trace_only": lambda v: isinstance(v, bool),
        "follow_forks": lambda v: isinstance(v, bool),
        "layers": lambda v: isinstance(v, list) and len(v) == 8,
    })
    for i, layer in enumerate(ev["layers"]):
        check_fields(layer, {
            "layer": lambda v, i=i: v == i + 1,
            "name": lambda v, i=i: v == LAYER_NAMES[i],
            "state": lambda v: v in ("applied", "skipped"),
            "detail": lambda v: isinstance(v, str),
        })


def _check_addr(v):
    if not isinstance(v, dict):
        return False
    check_fields(v, {"family": lambda f: isinstance(f, str)},
                 {"address": lambda a: isinstance(a, str), "port": is_int})
    return True


def _check_decoded(v):
    assert isinstance(v, dict), v
    unknown = set(v) - DECODED_KEYS
    assert not unknown, f"undocumented args.decoded keys {sorted(unknown)} in {v}"
    checks = {
        "fd": is_int, "dirfd": lambda d: d == "AT_FDCWD" or is_int(d),
        "path": lambda s: isinstance(s, str), "path2": lambda s: isinstance(s, str),
        "flags": lambda s: isinstance(s, str), "mode": lambda s: isinstance(s, str),
        "addr": _check_addr, "argv": is_str_list,
        "signal": lambda s: isinstance(s, str), "target_pid": is_int, "count": is_int,
        "truncated": lambda b: isinstance(b, bool),
    }
    for key, ok in checks.items():
        if key in v:
            assert ok(v[key]), f"args.decoded.{key} = {v[key]!r}"
    return True


def _check_args(v):
    assert isinstance(v, dict), v
    check_fields(v, {"raw": lambda r: isinstance(r, list) and len(r) == 6 and
                     all(is_int(x) and 0 <= x < 2 ** 64 for x in r)},
                 {"decoded": _check_decoded})
    return True


def _check_syscall(ev):
    check_fields(ev, {
        "event_type": lambda v: v == "syscall",
        "timestamp": _is_timestamp,
        "pid": lambda v: is_int(v) and v > 0,
        "tgid": lambda v: is_int(v) and v > 0,
        "syscall": lambda v: isinstance(v, str) and v != "" and v != "unknown",
        "syscall_nr": lambda v: is_int(v) and v >= 0,
        "args": _check_args,
        "return_value": is_int,
        "success": lambda v: isinstance(v, bool),
        "duration_us": lambda v: is_int(v) and v >= 0,
        "returned": lambda v: isinstance(v, bool),
        "action": lambda v: v in ACTIONS,
        "category": lambda v: v in CATEGORIES,
    }, {"error": lambda v: isinstance(v, str) and v.startswith("E")})
    rv = ev["return_value"]
    assert ev["success"] == (not -4095 <= rv <= -1), f"success does not match return_value: {ev}"
    if not ev["success"]:
        assert "error" in ev, f"a failed syscall without its errno name: {ev}"
    else:
        assert "error" not in ev, f"a successful syscall with an error: {ev}"
    if not ev["returned"]:
        assert rv == 0, f"returned false but return_value {rv}: {ev}"


def _check_process(ev):
    base = {"event_type": lambda v: v == "process", "timestamp": _is_timestamp,
            "pid": lambda v: is_int(v) and v > 0}
    action = ev.get("action")
    if action == "spawn":
        check_fields(ev, {**base, "action": lambda v: True,
                          "tgid": lambda v: is_int(v) and v > 0,
                          "ppid": lambda v: is_int(v) and v > 0,
                          "thread": lambda v: isinstance(v, bool)})
    elif action == "exec":
        check_fields(ev, {**base, "action": lambda v: True, "comm": lambda v: isinstance(v, str),
                          "path": lambda v: isinstance(v, str), "argv": is_str_list},
                     {"former_pid": lambda v: is_int(v) and v > 0})
    elif action == "exited":
        check_fields(ev, {**base, "action": lambda v: True,
                          "tgid": lambda v: is_int(v) and v > 0,
                          "exit_code": lambda v: is_int(v) and 0 <= v <= 255,
                          "thread": lambda v: isinstance(v, bool)})
    elif action == "signaled":
        check_fields(ev, {**base, "action": lambda v: True,
                          "tgid": lambda v: is_int(v) and v > 0,
                          "signal": lambda v: isinstance(v, str) and v.startswith("SIG"),
                          "core_dumped": lambda v: isinstance(v, bool),
                          "thread": lambda v: isinstance(v, bool)})
    else:
        raise AssertionError(f"unknown process action {action!r}: {ev}")


def _check_gap(ev):
    check_fields(ev, {
        "event_type": lambda v: v == "gap", "timestamp": _is_timestamp,
        "stage": lambda v: v in ("tracer->analyzer", "analyzer->sink"),
        "lost_records": is_int, "lost_messages": is_int,
    })


def _check_alert(ev):
    required = {
        "event_type": lambda v: v == "alert", "timestamp": _is_timestamp,
        "rule": lambda v: isinstance(v, str) and v != "",
        "severity": lambda v: v in ("low", "medium", "high", "critical"),
        "message": lambda v: isinstance(v, str), "pid": is_int,
        "event": lambda v: isinstance(v, dict),
    }
    if "analyzer" in ev:
        # From an external analyser (docs/plugins.md): the required keys, plus its own.
        required["analyzer"] = lambda v: isinstance(v, str) and v != ""
        for key, ok in required.items():
            if key in ("message", "pid", "event") and key not in ev:
                continue
            assert key in ev and ok(ev[key]), f"alert key {key!r} missing or wrong in {ev}"
        return
    check_fields(ev, required)
    # The triggering event is a complete event of its own type.
    CHECKERS[ev["event"]["event_type"]](ev["event"])


def _check_derived(ev):
    """An event type of an external analyser's own: only its origin is fixed."""
    assert isinstance(ev.get("analyzer"), str) and ev["analyzer"], f"unknown event {ev}"
    assert _is_timestamp(ev.get("timestamp")), ev


def _check_summary(ev):
    def int_map(v):
        return isinstance(v, dict) and all(isinstance(k, str) and is_int(n) and n > 0
                                           for k, n in v.items())
    check_fields(ev, {
        "event_type": lambda v: v == "summary",
        "timestamp": _is_timestamp,
        "run_id": lambda v: isinstance(v, str) and RUN_ID.match(v) is not None,
        "total_syscalls": lambda v: is_int(v) and v >= 0,
        "unique_syscalls": lambda v: is_int(v) and v >= 0,
        "duration_ms": lambda v: is_int(v) and v >= 0,
        "exit_code": lambda v: is_int(v) and 0 <= v <= 255,
        "outcome": lambda v: v in OUTCOMES,
        "denied_count": lambda v: is_int(v) and v >= 0,
        "process_count": lambda v: is_int(v) and v >= 0,
        "thread_count": lambda v: is_int(v) and v >= 0,
        "timed_out": lambda v: isinstance(v, bool),
        "interrupted": lambda v: isinstance(v, bool),
        "files_accessed": is_str_list,
        "network_attempts": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
        "suspicious_activity": lambda v: isinstance(v, list) and
        all(isinstance(x, dict) for x in v),
        "syscall_counts": int_map,
        "error_counts": int_map,
        "gaps": lambda v: is_int(v) and v >= 0,
        "alert_count": lambda v: is_int(v) and v >= 0,
        "analyzers": lambda v: isinstance(v, list),
    })
    for plugin in ev["analyzers"]:
        check_fields(plugin, {"command": lambda v: isinstance(v, str), "state": lambda v: isinstance(v, str),
                              "events": is_int, "rejected": is_int})
    for entry in ev["suspicious_activity"]:
        check_fields(entry, {"pid": is_int, "rule": lambda v: isinstance(v, str),
                             "severity": lambda v: v in ("low", "medium", "high", "critical"),
                             "syscall": lambda v: isinstance(v, str)},
                     optional={"path": lambda v: isinstance(v, str),
                               "address": lambda v: isinstance(v, str)})
    for attempt in ev["network_attempts"]:
        check_fields(attempt, {"pid": is_int, "syscall": lambda v: isinstance(v, str),
                               "family": lambda v: isinstance(v, str),
                               "address": lambda v: isinstance(v, str), "port": is_int,
                               "success": lambda v: isinstance(v, bool)})


CHECKERS = {"sandbox": _check_sandbox, "syscall": _check_syscall, "process": _check_process,
            "gap": _check_gap, "alert": _check_alert, "summary": _check_summary}


def validate_events(events, allow_gaps=False):
    """Schema and consistency of one run's events (docs/events.md, SPEC section 3)."""
    assert events, "empty trace"
    for ev in events:
        assert isinstance(ev, dict), ev
        kind = ev.get("event_type")
        CHECKERS.get(kind, _check_derived)(ev)
    kinds = [ev["event_type"] for ev in events]
    assert kinds[0] == "sandbox", f"first event is {kinds[0]}, not sandbox"
    assert kinds.count("sandbox") == 1, "sandbox event more than once"
    assert kinds[-1] == "summary", f"last event is {kinds[-1]}, not summary"
    assert kinds.count("summary") == 1, "summary event more than once"
    if not allow_gaps:
        assert "gap" not in kinds, [ev for ev in events if ev["event_type"] == "gap"][:3]
    summary = events[-1]
    sandbox = events[0]
    assert summary["run_id"] == sandbox["run_id"]
    calls = [ev for ev in events if ev["event_type"] == "syscall"]
    counts = collections.Counter(ev["syscall"] for ev in calls)
    errors = collections.Counter(ev["syscall"] for ev in calls if not ev["success"])
    assert summary["total_syscalls"] == len(calls), "total_syscalls != number of syscall events"
    assert summary["unique_syscalls"] == len(counts)
    assert summary["syscall_counts"] == dict(counts)
    assert summary["error_counts"] == dict(errors)
    assert summary["denied_count"] == sum(1 for ev in calls if ev["action"] == "deny")
    spawns = [ev for ev in events if ev["event_type"] == "process" and ev["action"] == "spawn"]
    assert summary["process_count"] == sum(1 for ev in spawns if not ev["thread"])
    assert summary["thread_count"] == len(spawns)
    if not allow_gaps:
        assert summary["gaps"] == 0
    alerts = [ev for ev in events if ev["event_type"] == "alert"]
    if len(alerts) < 10000:  # below the cap every alert is an event, and counted once
        assert summary["alert_count"] == len(alerts), (summary["alert_count"], len(alerts))
    assert summary["timed_out"] == (summary["outcome"] == "timed_out")
    assert summary["interrupted"] == (summary["outcome"] == "interrupted")
    # The same name for the same number everywhere in the run.
    names = {}
    for ev in calls:
        assert names.setdefault(ev["syscall_nr"], ev["syscall"]) == ev["syscall"], ev
    return events


def parse_jsonl(text):
    """Each line one JSON object; the text ends with a newline. Returns the objects."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # strict: invalid UTF-8 is a failure
    assert text, "empty JSONL output"
    assert text.endswith("\n"), "JSONL output does not end with a newline: " + text[-200:]
    events = []
    for n, line in enumerate(text[:-1].split("\n"), 1):
        try:
            ev = json.loads(line)
        except json.JSONDecodeError as e:
            raise AssertionError(f"line {n} is not valid JSON ({e}): {line[:300]!r}") from None
        assert isinstance(ev, dict), f"line {n} is not a JSON object: {line[:300]!r}"
        events.append(ev)
    return events


def load_jsonl(source, validate=True, allow_gaps=False):
    """Reads a JSONL trace, from a file (str or Path) or from the output itself (bytes), and
    validates it."""
    if isinstance(source, bytes):
        text = source
    else:
        path = Path(source)
        assert path.exists(), f"{path} was not written"
        text = path.read_bytes()
    events = parse_jsonl(text)
    if validate:
        validate_events(events, allow_gaps=allow_gaps)
    return events


def of_type(events, kind, action=None):
    return [ev for ev in events if ev["event_type"] == kind and
            (action is None or ev.get("action") == action)]


def syscalls(events):
    return of_type(events, "syscall")


def summary(events):
    return events[-1]


def returned_counts(events):
    """Per-syscall counts of the calls that returned (what `strace -c` counts)."""
    return collections.Counter(ev["syscall"] for ev in syscalls(events) if ev["returned"])


# ---------------------------------------------------------------------------------------------
# SQLite

def sqlite_connect(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    return db


def sqlite_columns(db, table):
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def sqlite_run_ids(path):
    with sqlite_connect(path) as db:
        return [row[0] for row in db.execute("SELECT run_id FROM runs ORDER BY rowid")]


def sqlite_syscall_rows(path, run_id):
    with sqlite_connect(path) as db:
        return [dict(r) for r in db.execute("SELECT * FROM syscalls WHERE run_id = ?", (run_id,))]


# Columns that, when the syscalls table has them, must hold the JSONL field of the same name.
COMPARABLE_COLUMNS = ["timestamp", "pid", "tgid", "syscall", "syscall_nr", "return_value",
                      "success", "duration_us", "returned", "action", "category"]


def sqlite_matches_jsonl(path, events):
    """The SQLite run of `events` has one syscalls row per JSONL syscall line, with the same
    values in the columns both share."""
    run_id = events[0]["run_id"]
    rows = sqlite_syscall_rows(path, run_id)
    calls = syscalls(events)
    assert len(rows) == len(calls), f"SQLite has {len(rows)} syscall rows, JSONL {len(calls)}"
    shared = [c for c in COMPARABLE_COLUMNS if rows and c in rows[0]]
    assert "syscall" in shared, "the syscalls table has no column named syscall"

    def norm(v):
        return int(v) if isinstance(v, bool) else v
    from_db = collections.Counter(tuple(norm(r[c]) for c in shared) for r in rows)
    from_jsonl = collections.Counter(tuple(norm(ev[c]) for c in shared) for ev in calls)
    assert from_db == from_jsonl, (
        f"syscall rows differ from JSONL in columns {shared}: only in SQLite "
        f"{list((from_db - from_jsonl).items())[:5]}, only in JSONL "
        f"{list((from_jsonl - from_db).items())[:5]}")
    return rows


# ---------------------------------------------------------------------------------------------
# strace, the reference

def parse_strace_c(text):
    """Counts per syscall from the table of `strace -c` (the `calls` column)."""
    counts = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[0].startswith("%") or fields[0].startswith("-"):
            continue
        name = fields[-1]
        if name == "total":
            continue
        counts[name] = counts.get(name, 0) + int(fields[3])
    assert counts, "no strace -c table in:\n" + text
    return counts


def strace_counts(command, tmp_path, stdout=subprocess.DEVNULL, trace=None):
    """Runs COMMAND under `strace -f -c` (with `-e trace=TRACE` when given) with its output to
    /dev/null (or `stdout`); returns (counts, exit status). Calls that never return (exit,
    exit_group) are not in strace's table."""
    out = Path(tmp_path) / "strace-c.txt"
    selection = ["-e", "trace=" + trace] if trace else []
    p = run(["strace", "-f", "-c", *selection, "-o", out, "--", *command], stdout=stdout)
    return parse_strace_c(out.read_text()), p.returncode


# ---------------------------------------------------------------------------------------------
# Processes

def proc_cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def pids_with_marker(marker):
    """Live processes (not zombies) with `marker` as one of their arguments."""
    marker = marker.encode() if isinstance(marker, str) else marker
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and marker in proc_cmdline(entry):
            if not is_zombie(int(entry)):
                found.append(int(entry))
    return found


def stat_fields(pid, tid=None):
    """The fields of /proc/PID/task/TID/stat (of the process when no TID) from the third on
    (state, ppid, ...; man proc_pid_stat), after the parenthesised name; None once it is gone."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat"
    try:
        stat = Path(path).read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()


def is_zombie(pid):
    fields = stat_fields(pid)
    return fields is None or fields[0] in "ZX"


def alive(pid):
    return Path(f"/proc/{pid}").exists() and not is_zombie(pid)


def children_of(pid):
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return kids


def exe_name(pid):
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return ""


def descendants(pid):
    """Every live descendant of `pid`, nearest first (children, then grandchildren, ...)."""
    found, level = [], children_of(pid)
    while level:
        found += level
        level = [kid for p in level for kid in children_of(p)]
    return found


def child_named(pid, name, timeout=30):
    """The nearest descendant of `pid` running the executable `name` (waits for it to appear).
    An enforcing run's stages are grandchildren of `sandtrace`: they run under a child of it
    that made the run's session (cli/supervisor.cc, RunInOwnSession)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for kid in descendants(pid):
            if exe_name(kid) == name:
                return kid
        time.sleep(0.05)
    raise AssertionError(f"no descendant {name} of {pid}; descendants: "
                         f"{[(k, exe_name(k)) for k in descendants(pid)]}")


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def kill_marked(marker):
    """Clean-up: SIGKILL whatever a failed test left behind."""
    for pid in pids_with_marker(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def new_marker():
    return "st-marker-" + os.urandom(8).hex()


def world_writable_dir():
    """A fresh directory everybody may write to (for runs as another user)."""
    d = tempfile.mkdtemp(prefix="sandtrace-it-")
    os.chmod(d, 0o777)
    return Path(d)
