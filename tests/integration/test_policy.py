"""Policy files: `sandtrace run --policy FILE` (SPEC sections 2, 5 and 6).

What a user of a policy checks: every shipped policy loads and runs a command; a broken policy
is refused with exit 2 and a message naming the file, the line, the column and the key before
the command runs; [syscalls] deny and log_only show in the trace; [limits] are enforced
(timeout 124, fork refused with EAGAIN, writes cut at max_file_size, allocations bounded by
memory); [filesystem] globs open exactly the matching host files, masks the denied ones and let
exactly the allow_exec programs run; --allow-net / network.allow merge. Facts are checked on the
host (files created or not, their size and content), in the command's own output (the RESULT
lines of st-limits and the probes) and in the validated JSONL trace.

Tests where the sandbox matters run twice, as root and as uid/gid 65534 (the `sb` fixture of
test_sandbox.py).
"""
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

import sandbox_fixtures as sf
import sandtrace_fixtures as st

POLICIES = st.REPO / "policies"
SECRET = "ST-POLICY-SECRET-" + os.urandom(6).hex()
# What a policy that replaces [filesystem] allow_read must still list for a command to load
# its libraries.
SYSTEM_READ = '"/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/proc", "/dev"'


@pytest.fixture(params=sf.USERS)
def sb(request):
    sandbox = sf.Sandbox(request.param)
    yield sandbox
    sandbox.cleanup()


def limits_helper():
    return st.helper("limits")


def results(run):
    """{label: {"words": [bare words], key: value, ...}} of st-limits' RESULT lines."""
    found = {}
    for line in run.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[0] != "RESULT":
            continue
        entry = {"words": []}
        for item in parts[2:]:
            if "=" in item:
                key, _, value = item.partition("=")
                entry[key] = value
            else:
                entry["words"].append(item)
        found[parts[1]] = entry
    return found


def result(run, label):
    found = results(run)
    assert label in found, f"st-limits printed no RESULT {label}\n{run.describe()}"
    return found[label]


def write_policy(sb, text, name="policy.toml"):
    """A policy file readable by the run's user."""
    d = sb.dir("policy", mode=0o755, owned=False)
    return sb.write_file(Path(d) / name, text, mode=0o644)


def layer(run, number):
    layers = run.events[0]["layers"]
    assert layers[number - 1]["layer"] == number
    return layers[number - 1]


def calls(run, *names):
    return [ev for ev in st.syscalls(run.events) if ev["syscall"] in names]


# ---------------------------------------------------------------------------------------------
# 1. Every shipped policy loads and runs a command

# name -> (max_processes, max_file_size bytes or None, memory bytes or None, host network)
SHIPPED = {
    "strict": (64, 256 << 20, 1 << 30, False),
    "permissive": (1024, None, None, True),
    "npm": (512, 2 << 30, 4 << 30, True),
    "pip": (256, 2 << 30, 4 << 30, True),
    "ci-build": (1024, 8 << 30, 16 << 30, False),
}


def test_every_shipped_policy_is_tested():
    assert sorted(p.stem for p in POLICIES.glob("*.toml")) == sorted(SHIPPED)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_policy_runs_a_command(sb, name):
    procs, fsize, memory, host_net = SHIPPED[name]
    path = POLICIES / f"{name}.toml"
    # Without --timeout: the policy's own [limits] timeout is the one in force.
    run = sb.run([limits_helper(), "alloc", "1"], "--policy", path, timeout_flags=False)
    assert result(run, "alloc")["words"] == ["ok"], run.describe()
    assert run.summary["exit_code"] == 0 and run.summary["outcome"] == "exited"
    # The command really ran under the tracer (ptrace, layer 8, works with the policy's
    # seccomp list, which denies ptrace in several policies).
    execs = st.of_type(run.events, "process", "exec")
    assert execs and execs[0]["path"].endswith("st-limits"), execs
    assert run.summary["total_syscalls"] > 10
    for number in (1, 2, 3, 5, 6, 7, 8):
        assert layer(run, number)["state"] == "applied", layer(run, number)
    detail = layer(run, 5)["detail"]
    assert re.search(rf"\b{procs} processes\b", detail), detail
    if fsize is None:
        assert "RLIMIT_FSIZE" not in detail, detail
    else:
        assert re.search(rf"\b{fsize} bytes\b.*RLIMIT_FSIZE", detail), detail
    if memory is None:
        assert "RLIMIT_AS" not in detail, detail
    else:
        assert re.search(rf"\b{memory} bytes\b.*RLIMIT_AS", detail), detail
    assert layer(run, 4)["state"] == ("skipped" if host_net else "applied"), layer(run, 4)


def test_strict_policy_limits_memory(sb):
    # strict says memory = "1G": 2 GiB cannot be allocated (without a limit the machine's
    # overcommit would give it: see test_memory_limit's control).
    run = sb.run([limits_helper(), "alloc", "2048"], "--policy", POLICIES / "strict.toml")
    r = result(run, "alloc")
    assert r["words"] == ["failed"] and r["errno"] == "ENOMEM", r


# ---------------------------------------------------------------------------------------------
# 2. Broken policies: exit 2 before anything runs, the message names file, line, column, key

# id -> (policy text, the key the message must name, "LINE:COLUMN" of the offending text)
BROKEN = {
    "unknown_key": ("[limits]\ntimeout = 5\nmax_procs = 3\n", "limits.max_procs", "3:1"),
    "unknown_section": ('[filesystem]\nallow_read = ["/usr"]\n\n[netwrk]\nallow = true\n',
                        "netwrk", "4:2"),
    "wrong_type_bool": ('[network]\nallow = "yes"\n', "network.allow", "2:9"),
    "wrong_type_list": ('[syscalls]\ndeny = "uname"\n', "syscalls.deny", "2:8"),
    "wrong_type_int": ('[limits]\ntimeout = "10"\n', "limits.timeout", "2:11"),
    "out_of_range": ("[limits]\nmax_processes = 0\n", "limits.max_processes", "2:17"),
    "bad_size": ('[limits]\nmemory = "12 parsecs"\n', "limits.memory", "2:10"),
    "bad_glob": ('[filesystem]\nallow_read = ["/usr", "/srv/{a,b"]\n',
                 "filesystem.allow_read", "2:23"),
    "bad_glob_bracket": ('[filesystem]\ndeny = ["/tmp/[abc"]\n', "filesystem.deny", "2:9"),
    "bad_syscall_name": ('[syscalls]\ndeny = ["Uname"]\n', "syscalls.deny", "2:9"),
    "unknown_syscall_deny": ('[syscalls]\ndeny = ["uname", "no_such_call"]\n',
                             "syscalls.deny", "2:18"),
    "unknown_syscall_log_only": ('[syscalls]\nlog_only = ["no_such_call"]\n',
                                 "syscalls.log_only", "2:13"),
    "relative_pattern": ('[filesystem]\nallow_write = ["build/out"]\n',
                         "filesystem.allow_write", "2:16"),
    "syntax_error": ("[limits\ntimeout = 1\n", None, "1:8"),
}

def _refusal_params():
    return [pytest.param(case, mode, id=f"{case}-{mode}")
            for mode in ("trace_only", "enforcing") for case in BROKEN]


def _assert_refused(p, marker):
    assert p.returncode == 2, st.describe(p)
    assert not Path(marker).exists(), f"the command ran although the policy is broken\n" \
                                      f"{st.describe(p)}"
    assert p.stdout == b"", st.describe(p)


@pytest.fixture
def host_dir():
    """A directory for --allow-path outside the host's /tmp (root's runs)."""
    d = Path(tempfile.mkdtemp(prefix="st-policy-", dir="/var/tmp"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _touch_under_policy(tmp_path, host_dir, policy, mode):
    """Runs `touch MARKER` under `policy`; returns (process, marker, trace path)."""
    out = tmp_path / "trace.jsonl"
    if mode == "trace_only":
        # No sandbox: the command could create the marker anywhere on the host.
        marker = tmp_path / "ran"
        p = st.sandtrace("--policy", policy, "-o", out, command=["touch", marker])
    else:
        marker = host_dir / "ran"
        p = st.sandtrace("--policy", policy, "--allow-path", host_dir, "-o", out,
                         command=["/usr/bin/touch", marker], trace_only=False)
    return p, marker, out


@pytest.mark.parametrize("mode", ["trace_only", "enforcing"])
def test_valid_policy_runs_the_command(tmp_path, host_dir, mode):
    # The control of the refusals below: the same run with a valid policy creates the marker.
    policy = tmp_path / "valid.toml"
    policy.write_text('[syscalls]\nlog_only = ["uname"]\n\n[limits]\ntimeout = 60\n')
    p, marker, out = _touch_under_policy(tmp_path, host_dir, policy, mode)
    assert p.returncode == 0, st.describe(p)
    assert marker.exists()
    st.load_jsonl(out)


@pytest.mark.parametrize("case,mode", _refusal_params())
def test_broken_policy_is_refused_before_running(tmp_path, host_dir, case, mode):
    text, key, _ = BROKEN[case]
    policy = tmp_path / "broken.toml"
    policy.write_text(text)
    p, marker, out = _touch_under_policy(tmp_path, host_dir, policy, mode)
    _assert_refused(p, marker)
    err = p.stderr.decode(errors="replace")
    assert str(policy) in err, err
    if key is not None:
        assert key in err, err
    assert len(err.strip().splitlines()) == 1, f"not one error line: {err!r}"
    assert not out.exists() or out.read_bytes() == b"", "a trace was written for a refused run"


def _position_params():
    return [pytest.param(case, id=case) for case in BROKEN]


@pytest.mark.parametrize("case", _position_params())
def test_broken_policy_error_names_file_line_column_and_key(tmp_path, case):
    text, key, position = BROKEN[case]
    policy = tmp_path / "broken.toml"
    policy.write_text(text)
    p = st.sandtrace("--policy", policy, command=["/bin/true"], trace_only=False)
    assert p.returncode == 2, st.describe(p)
    err = p.stderr.decode(errors="replace")
    expected = re.escape(f"{policy}:{position}: ") + (re.escape(f"{key}: ") if key else "")
    assert re.search(expected, err), f"expected {expected!r} in {err!r}"


@pytest.mark.parametrize("kind,user", [
    ("missing", "root"), ("missing", "nobody"),
    ("directory", "root"), ("directory", "nobody"),
    ("no_permission", "nobody"),
])
def test_unreadable_policy_file_is_refused(kind, user):
    sb = sf.Sandbox(user)
    try:
        allowed = allowed_dir(sb)
        marker = allowed / "ran"
        pdir = sb.dir("policy", mode=0o755, owned=False)
        if kind == "missing":
            policy = pdir / "missing.toml"
        elif kind == "directory":
            policy = pdir / "a-directory.toml"
            policy.mkdir()
            os.chmod(policy, 0o755)
        else:
            policy = sb.write_file(pdir / "private.toml", "[limits]\ntimeout = 5\n", mode=0o600)
        run = sb.run(["/usr/bin/touch", marker], "--policy", policy, "--allow-path", allowed,
                     expect_rc=None)
        assert run.returncode == 2, run.describe()
        assert not marker.exists(), f"the command ran\n{run.describe()}"
        assert str(policy) in run.stderr, run.stderr
        expected = {"missing": "No such file", "directory": "directory",
                    "no_permission": "Permission denied"}[kind]
        assert expected in run.stderr, run.stderr
    finally:
        sb.cleanup()


# ---------------------------------------------------------------------------------------------
# 3. [syscalls] deny and log_only

def test_syscalls_deny_fails_with_eperm_and_is_recorded(sb):
    policy = write_policy(sb, '[syscalls]\ndeny = ["uname"]\n')
    run = sb.run(["/usr/bin/uname"], "--policy", policy, expect_rc=1)
    assert "Operation not permitted" in run.stderr, run.describe()
    assert run.stdout == ""
    unames = calls(run, "uname")
    assert unames, "no uname event"
    for ev in unames:
        assert ev["action"] == "deny" and ev["return_value"] == -1 and ev["error"] == "EPERM", ev
    assert run.summary["denied_count"] >= len(unames) > 0
    assert run.summary["exit_code"] == 1
    # The control: without the policy uname works.
    plain = sb.run(["/usr/bin/uname"])
    assert plain.stdout.strip() == "Linux"
    assert all(ev["action"] == "allow" and ev["success"] for ev in calls(plain, "uname"))


def test_syscalls_deny_of_ptrace_keeps_the_tracer_working(sb):
    # The tracer's own PTRACE_TRACEME (layer 8) must survive a policy that denies ptrace.
    policy = write_policy(sb, '[syscalls]\ndeny = ["ptrace", "uname"]\n')
    run = sb.run(["/usr/bin/true"], "--policy", policy)
    assert layer(run, 8)["state"] == "applied"
    assert st.of_type(run.events, "process", "exec")
    assert run.summary["total_syscalls"] > 10


def test_syscalls_deny_is_not_enforced_under_trace_only(sb):
    policy = write_policy(sb, '[syscalls]\ndeny = ["uname"]\n')
    run = sb.run(["/usr/bin/uname"], "--policy", policy, trace_only=True)
    assert run.stdout.strip() == "Linux"
    assert run.summary["denied_count"] == 0
    assert all(ev["action"] == "allow" and ev["success"] for ev in calls(run, "uname"))


@pytest.mark.parametrize("trace_only", [False, True], ids=["enforcing", "trace_only"])
def test_syscalls_log_only_is_recorded_and_runs(sb, trace_only):
    policy = write_policy(sb, '[syscalls]\nlog_only = ["uname", "getcwd"]\n')
    run = sb.run(["/usr/bin/uname"], "--policy", policy, trace_only=trace_only)
    assert run.stdout.strip() == "Linux"
    unames = calls(run, "uname")
    assert unames, "no uname event"
    for ev in unames:
        assert ev["action"] == "log_only" and ev["success"] and ev["return_value"] == 0, ev
    # Only the listed syscalls are log_only; nothing is denied.
    others = {ev["action"] for ev in st.syscalls(run.events)
              if ev["syscall"] not in ("uname", "getcwd")}
    assert others == {"allow"}, others
    assert run.summary["denied_count"] == 0


# ---------------------------------------------------------------------------------------------
# 4. [limits]

def test_policy_timeout_kills_the_command(sb):
    policy = write_policy(sb, "[limits]\ntimeout = 1\n")
    start = time.monotonic()
    run = sb.run(["/bin/sleep", "5"], "--policy", policy, timeout_flags=False, expect_rc=124)
    elapsed = time.monotonic() - start
    assert elapsed < 4.5, f"the policy timeout of 1 s took {elapsed:.1f} s"
    assert run.summary["timed_out"] is True and run.summary["outcome"] == "timed_out"
    assert run.summary["exit_code"] == 124


def test_command_line_timeout_overrides_the_policy(sb):
    policy = write_policy(sb, "[limits]\ntimeout = 1\n")
    start = time.monotonic()
    run = sb.run(["/bin/sleep", "2"], "--policy", policy, "--timeout", "10",
                 timeout_flags=False)
    assert time.monotonic() - start >= 2
    assert run.summary["timed_out"] is False and run.summary["exit_code"] == 0


def _max_processes_params():
    return [pytest.param("root", id="root"), pytest.param("nobody", id="nobody")]


@pytest.mark.parametrize("user", _max_processes_params())
def test_max_processes_refuses_forks_with_eagain(user):
    sb = sf.Sandbox(user)
    try:
        policy = write_policy(sb, "[limits]\nmax_processes = 5\n")
        run = sb.run([limits_helper(), "fork", "20"], "--policy", policy)
        r = result(run, "fork")
        ok, failed = int(r["ok"]), int(r["failed"])
        assert ok + failed == 20
        # At most 5 processes: the command and 4 children, the rest refused with EAGAIN.
        assert failed > 0 and r["errno"] == "EAGAIN", r
        assert ok == 4, f"max_processes = 5 allowed the command {ok} children: {r}"
        assert int(result(run, "reaped")["exited"]) == ok
        assert run.summary["process_count"] == 1 + ok
        assert "at most 5 processes" in layer(run, 5)["detail"]
        forks = calls(run, "clone", "fork", "vfork", "clone3")
        refused = [ev for ev in forks if not ev["success"]]
        assert len(refused) == failed, refused
        for ev in refused:
            assert ev["error"] == "EAGAIN" and ev["action"] == "deny", ev
        assert run.summary["denied_count"] == failed
        # The control: without the policy all 20 children run.
        plain = sb.run([limits_helper(), "fork", "20"])
        r = result(plain, "fork")
        assert (r["ok"], r["failed"], r["errno"]) == ("20", "0", "none"), r
        assert plain.summary["process_count"] == 21
    finally:
        sb.cleanup()


def allowed_dir(sb, prefix="allowed"):
    """A directory for --allow-path, owned by the run's user, outside the host's /tmp (see
    test_allow_path_under_host_tmp_works_with_a_policy for one under /tmp)."""
    return sb.dir(prefix, parent="/var/tmp")


def test_max_file_size_cuts_writes(sb):
    allowed = allowed_dir(sb)
    policy = write_policy(sb, '[limits]\nmax_file_size = "16K"\n')
    target = allowed / "big.bin"
    run = sb.run([limits_helper(), "write", target, "65536"], "--policy", policy,
                 "--allow-path", allowed)
    r = result(run, "write")
    assert r["words"] == ["failed"] and r["errno"] == "EFBIG" and r["written"] == "16384", r
    # On the host: the file stopped at the limit.
    assert target.stat().st_size == 16384
    assert re.search(r"\b16384 bytes\b.*RLIMIT_FSIZE", layer(run, 5)["detail"])
    writes = calls(run, "write")
    assert any(ev["error"] == "EFBIG" for ev in writes if not ev["success"]), writes[-3:]
    # The command was not killed by SIGXFSZ (it ignores it) and exits 0.
    assert run.summary["outcome"] == "exited"
    # The control: without the limit the whole 64 KiB lands on the host.
    target.unlink()
    plain = sb.run([limits_helper(), "write", target, "65536"], "--allow-path", allowed)
    assert result(plain, "write") == {"words": ["ok"], "written": "65536"}
    assert target.stat().st_size == 65536


def test_memory_limit_bounds_allocations(sb):
    policy = write_policy(sb, '[limits]\nmemory = "256M"\n')
    big = sb.run([limits_helper(), "alloc", "512"], "--policy", policy)
    r = result(big, "alloc")
    assert r["words"] == ["failed"] and r["errno"] == "ENOMEM", r
    assert re.search(rf"\b{256 << 20} bytes\b.*RLIMIT_AS", layer(big, 5)["detail"])
    small = sb.run([limits_helper(), "alloc", "16"], "--policy", policy)
    assert result(small, "alloc")["words"] == ["ok"]
    # The control: without the limit 512 MiB are allocated and touched.
    plain = sb.run([limits_helper(), "alloc", "512"])
    assert result(plain, "alloc")["words"] == ["ok"]


# ---------------------------------------------------------------------------------------------
# 5. [filesystem] globs and [network]

def test_allow_read_globs_open_exactly_the_matching_host_files(sb):
    data = sb.dir("data")  # under the host's /tmp: hidden by the sandbox's private /tmp
    outside = sb.outside_dir()  # under /var/tmp: hidden too
    files = {
        "a.txt": data / "a.txt", "c.txt": data / "c.txt", "b.bin": data / "b.bin",
        "sub.txt": data / "sub" / "d.txt", "x.log": outside / "x.log",
        "y.cfg": outside / "y.cfg", "z.dat": outside / "z.dat",
        "n.md": sb.home / "notes" / "n.md", "n.txt": sb.home / "notes" / "n.txt",
    }
    for tag, path in files.items():
        sb.write_file(path, f"content-{tag}\n", mode=0o644)
    sb.chown_tree(data)
    sb.chown_tree(sb.home)
    policy = write_policy(sb, (
        "[filesystem]\n"
        f'allow_read = [{SYSTEM_READ}, "{data}/*.txt", "{outside}/*.{{log,cfg}}", '
        '"~/notes/*.md"]\n'))
    readable = ["a.txt", "c.txt", "x.log", "y.cfg", "n.md"]
    ops = [f"read:{p}" for p in files.values()] + [f"write:{files['a.txt']}"]
    run = sb.run([sf.probe("fs"), *ops], "--policy", policy)
    for tag, path in files.items():
        r = run.result(f"read:{path}")
        if tag in readable:
            assert r.ok and r["data"] == f"content-{tag}\\x0a", (tag, r)
        else:
            assert not r.ok, (tag, r)
    # Read-only: the write fails and the host file is unchanged.
    assert not run.result(f"write:{files['a.txt']}").ok
    assert files["a.txt"].read_text() == "content-a.txt\n"
    # The control: without the policy the same files are out of reach.
    plain = sb.run([sf.probe("fs"), f"read:{files['a.txt']}", f"read:{files['x.log']}"])
    assert not plain.result(f"read:{files['a.txt']}").ok
    assert not plain.result(f"read:{files['x.log']}").ok


def _make_secrets(sb, allowed):
    secrets = [allowed / "secret.txt", allowed / "sub" / "secret-key.pem"]
    public = [allowed / "public.txt", allowed / "sub" / "notsecret.txt"]
    for i, path in enumerate(secrets):
        sb.write_file(path, f"{SECRET}-{i}\n", mode=0o644)
    for path in public:
        sb.write_file(path, "public\n", mode=0o644)
    sb.chown_tree(allowed)
    return secrets, public


def test_deny_glob_masks_files_inside_an_allowed_directory(sb):
    allowed = allowed_dir(sb)
    secrets, public = _make_secrets(sb, allowed)
    policy = write_policy(sb, '[filesystem]\ndeny = ["/etc/shadow", "**/secret*"]\n')
    ops = [f"read:{p}" for p in secrets + public] + [f"write:{secrets[0]}"]
    run = sb.run([sf.probe("fs"), *ops], "--policy", policy, "--allow-path", allowed)
    for path in secrets:
        r = run.result(f"read:{path}")
        assert not r.ok or r["bytes"] == "0", f"{path} was readable: {r}"
    for path in public:
        assert run.result(f"read:{path}")["data"] == "public\\x0a"
    assert SECRET not in run.stdout and SECRET not in run.stderr
    # Host side: the masked file is untouched by the write attempt.
    assert secrets[0].read_text() == f"{SECRET}-0\n"
    # The control: without the policy the file is an ordinary file of the allowed directory.
    plain = sb.run([sf.probe("fs"), f"read:{secrets[0]}"], "--allow-path", allowed)
    assert plain.result(f"read:{secrets[0]}").ok
    assert SECRET in plain.result(f"read:{secrets[0]}")["data"]


def test_allow_path_under_host_tmp_works_with_a_policy(sb):
    # A project checked out under /tmp, opened with --allow-path, a policy masking its secrets.
    allowed = sb.dir("allowed")
    assert str(allowed).startswith("/tmp/")
    secrets, public = _make_secrets(sb, allowed)
    policy = write_policy(sb, '[filesystem]\ndeny = ["**/secret*"]\n\n[limits]\ntimeout = 60\n')
    created = allowed / "created"
    ops = [f"read:{p}" for p in secrets + public] + [f"write:{created}"]
    run = sb.run([sf.probe("fs"), *ops], "--policy", policy, "--allow-path", allowed)
    for path in public:
        assert run.result(f"read:{path}")["data"] == "public\\x0a"
    for path in secrets:
        r = run.result(f"read:{path}")
        assert not r.ok or r["bytes"] == "0", f"{path} was readable: {r}"
    assert SECRET not in run.stdout
    assert run.result(f"write:{created}").ok
    assert created.read_text() == "st-probe-written\n"


def test_allow_exec_lets_exactly_the_listed_programs_run(sb):
    policy = write_policy(sb, '[filesystem]\nallow_exec = ["/usr/bin/true", "/usr/bin/fals[e]"]\n')
    ok = sb.run([limits_helper(), "exec", "/usr/bin/true"], "--policy", policy)
    assert "RESULT exec" not in ok.stdout, ok.describe()
    execs = st.of_type(ok.events, "process", "exec")
    assert [e["path"] for e in execs][-1] == "/usr/bin/true", execs
    assert ok.summary["denied_count"] == 0
    # A glob entry: /usr/bin/false runs (and exits 1).
    false = sb.run([limits_helper(), "exec", "/usr/bin/false"], "--policy", policy, expect_rc=1)
    assert "RESULT exec" not in false.stdout, false.describe()
    # Anything else fails with EPERM and is recorded as a denied execve.
    denied = sb.run([limits_helper(), "exec", "/usr/bin/id"], "--policy", policy)
    r = result(denied, "exec")
    assert r["words"] == ["failed"] and r["errno"] == "EPERM", r
    assert "uid=" not in denied.stdout
    attempts = [ev for ev in calls(denied, "execve")
                if ev.get("args", {}).get("decoded", {}).get("path") == "/usr/bin/id"]
    assert attempts, calls(denied, "execve")
    for ev in attempts:
        assert ev["action"] == "deny" and ev["error"] == "EPERM", ev
    assert denied.summary["denied_count"] >= 1
    # The control: without the policy /usr/bin/true may not be executed either.
    plain = sb.run([limits_helper(), "exec", "/usr/bin/true"])
    assert result(plain, "exec")["errno"] == "EPERM"


class Listener:
    """A TCP listener on the host's 127.0.0.1 that records what one client sends."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(20)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        try:
            conn, _ = self.sock.accept()
            conn.settimeout(10)
            with conn:
                while True:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    self.received += chunk
        except OSError:
            pass

    def close(self):
        self.sock.close()
        self.thread.join(5)


@pytest.mark.parametrize("policy_allow,flag,host_net", [
    (True, False, True),    # network.allow = true alone keeps the host network
    (False, True, True),    # --allow-net turns it on over a policy that says false
    (False, False, False),  # neither: a private network namespace
], ids=["policy_allow", "cli_allow_net", "none"])
def test_network_allow_merges_with_allow_net(sb, policy_allow, flag, host_net):
    policy = write_policy(sb, f"[network]\nallow = {'true' if policy_allow else 'false'}\n")
    listener = Listener()
    try:
        options = ["--policy", policy] + (["--allow-net"] if flag else [])
        run = sb.run([sf.probe("net"), f"tcp:127.0.0.1:{listener.port}"], *options)
        r = run.result(f"tcp:127.0.0.1:{listener.port}")
    finally:
        listener.close()
    assert layer(run, 4)["state"] == ("skipped" if host_net else "applied"), layer(run, 4)
    if host_net:
        assert r.ok, r
        assert listener.received == b"st-probe-tcp"
    else:
        assert not r.ok, r
        assert listener.received == b""
