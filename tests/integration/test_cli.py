"""The command line and exit statuses of `sandtrace run` (SPEC section 2).

Issue "Pipeline core", point 7 (exit statuses) and the refusal of flags that are not available.
"""
import json
import os
import subprocess
import time

import pytest

import sandtrace_fixtures as st


@pytest.mark.parametrize("code", [0, 1, 3, 42, 255])
def test_exit_code_of_the_command(tmp_path, code):
    events, _ = st.traced(tmp_path, [st.helper("exit-code"), str(code)], expect_rc=code)
    s = st.summary(events)
    assert s["exit_code"] == code and s["outcome"] == "exited"
    assert not s["timed_out"] and not s["interrupted"]


@pytest.mark.parametrize("sig", [1, 9, 10, 11, 15])
def test_death_by_signal_is_128_plus_n(tmp_path, sig):
    events, _ = st.traced(tmp_path, [st.helper("die-signal"), str(sig)], expect_rc=128 + sig)
    s = st.summary(events)
    assert s["exit_code"] == 128 + sig and s["outcome"] == "signaled"
    signaled = st.of_type(events, "process", "signaled")
    assert len(signaled) == 1
    import signal as signal_module
    assert signaled[0]["signal"] == signal_module.Signals(sig).name


def test_no_output_and_no_view_still_runs(tmp_path):
    # Without -o and -v there is nothing to write, but the command runs as usual and its
    # status comes back (the seed's `sandtrace run --policy ... ./untrusted` has no -o).
    marker = tmp_path / "ran"
    p = st.sandtrace(command=[st.helper("exit-code"), "5", marker])
    assert p.returncode == 5, st.describe(p)
    assert marker.exists()


def test_command_not_found(tmp_path):
    out = tmp_path / "t.jsonl"
    for command in ["st-no-such-command-anywhere", "/nonexistent/dir/cmd"]:
        p = st.sandtrace("-o", out, command=[command, "x"])
        assert p.returncode == 127, st.describe(p)
        assert b"not found" in p.stderr.lower() or b"no such file" in p.stderr.lower(), \
            st.describe(p)


def test_command_not_executable(tmp_path):
    script = tmp_path / "not-executable.sh"
    marker = tmp_path / "ran"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o644)
    out = tmp_path / "t.jsonl"
    p = st.sandtrace("-o", out, command=[script])
    assert p.returncode == 126, st.describe(p)
    assert not marker.exists()
    p = st.sandtrace("-o", out, command=[tmp_path])  # a directory
    assert p.returncode == 126, st.describe(p)
    if out.exists() and out.stat().st_size:
        events = st.load_jsonl(out)
        assert st.summary(events)["exit_code"] == 126
        assert st.summary(events)["outcome"] == "exec_failed"


@pytest.mark.parametrize("options", [
    ["--bogus"],
    ["--timeout", "abc"],
    ["--timeout=-1"],
    ["--follow-forks=maybe"],
    ["-o", "trace.txt"],       # unknown output format
    ["-o"],                    # missing value (the command is taken as the value)
])
def test_usage_errors_exit_2_before_running(tmp_path, options):
    marker = tmp_path / "ran"
    options = [str(tmp_path / o) if o == "trace.txt" else o for o in options]
    p = st.sandtrace(*options, command=[st.helper("exit-code"), "0", marker])
    assert p.returncode == 2, st.describe(p)
    assert p.stderr.strip(), "a usage error says what is wrong"
    assert not marker.exists(), "the command ran despite the usage error"


def test_no_command_is_a_usage_error():
    p = st.run([st.SANDTRACE, "run", "--trace-only"])
    assert p.returncode == 2, st.describe(p)
    p = st.run([st.SANDTRACE, "frobnicate"])
    assert p.returncode == 2, st.describe(p)


ENFORCING = [
    pytest.param(["--policy", "POLICY"], id="policy"),
    pytest.param(["--allow-path", "TMP"], id="allow-path"),
    pytest.param(["--allow-net"], id="allow-net"),
    pytest.param(["--allow-exec"], id="allow-exec"),
    pytest.param([], id="no-trace-only"),
]


@pytest.mark.parametrize("options", ENFORCING)
def test_enforcing_flags_are_not_silently_ignored(tmp_path, options):
    # Enforcement is not implemented yet: the flags must be refused (2, nothing runs) rather
    # than accepted and ignored. Once enforcement exists, the sandbox event must show it.
    policy = tmp_path / "policy.toml"
    policy.write_text("[syscalls]\ndeny = []\n")
    options = [str(policy) if o == "POLICY" else str(tmp_path) if o == "TMP" else o
               for o in options]
    trace_only = bool(options)  # the last case is "no --trace-only"
    marker = tmp_path / "ran"
    out = tmp_path / "t.jsonl"
    p = st.sandtrace("-o", out, *options, trace_only=trace_only,
                     command=[st.helper("exit-code"), "0", marker])
    if p.returncode == 2:
        assert b"not available" in p.stderr, st.describe(p)
        assert not marker.exists(), "refused, yet the command ran"
    else:
        events = st.load_jsonl(out)
        sandbox = events[0]
        if not trace_only:
            assert sandbox["trace_only"] is False
            layers = {layer["name"]: layer["state"] for layer in sandbox["layers"]}
            assert layers["landlock"] == "applied" and layers["seccomp"] == "applied"


@pytest.mark.parametrize("target", [
    "/nonexistent/dir/x.jsonl",
    "/proc/x.jsonl",
    "/proc/x.db",
    "/nonexistent/dir/x.sqlite",
    "DIR.jsonl",   # a directory
])
def test_unwritable_output_exits_2_and_runs_nothing(tmp_path, target):
    if target == "DIR.jsonl":
        target = tmp_path / "dir.jsonl"
        target.mkdir()
    marker = tmp_path / "ran"
    p = st.sandtrace("-o", target, command=[st.helper("exit-code"), "0", marker])
    assert p.returncode == 2, st.describe(p)
    assert str(target).encode() in p.stderr, "the message names the output: " + st.describe(p)
    assert not marker.exists(), "the command ran although its trace could not be written"


def test_a_previous_trace_in_the_output_is_replaced(tmp_path):
    # The wrapper opens the output without truncating it (a run that fails before it starts
    # must not destroy the previous trace) and empties it only once the run starts.
    out = tmp_path / "trace.jsonl"
    previous = b'{"event_type":"previous"}\n' * 20000  # longer than the new trace
    out.write_bytes(previous)
    p = st.sandtrace("-o", out, "-o", "/nonexistent/x.jsonl", command=["/bin/true"])
    assert p.returncode == 2, st.describe(p)
    assert out.read_bytes() == previous, "a run that never started emptied the output"
    p = st.sandtrace("-o", out, command=["/bin/true"])
    assert p.returncode == 0, st.describe(p)
    trace = out.read_bytes()
    assert b"previous" not in trace
    lines = trace.splitlines()
    assert all(json.loads(line)["event_type"] for line in lines)
    assert json.loads(lines[-1])["event_type"] == "summary"


def test_one_unwritable_output_among_good_ones(tmp_path):
    marker = tmp_path / "ran"
    good = tmp_path / "good.jsonl"
    p = st.sandtrace("-o", good, "-o", tmp_path / "good.db", "-o", "/nonexistent/x.jsonl",
                     command=[st.helper("exit-code"), "0", marker])
    assert p.returncode == 2, st.describe(p)
    assert not marker.exists()


def test_timeout_on_a_busy_loop(tmp_path, marker):
    # No syscalls at all: the timeout must still fire.
    out = tmp_path / "t.jsonl"
    start = time.monotonic()
    p = st.sandtrace("--timeout", "2", "-o", out, command=[st.helper("busy-loop"), marker],
                     timeout_flags=False, timeout=120)
    elapsed = time.monotonic() - start
    assert p.returncode == 124, st.describe(p)
    assert elapsed < 20, f"--timeout 2 took {elapsed:.1f} s"
    assert not st.pids_with_marker(marker)
    events = st.load_jsonl(out)
    s = st.summary(events)
    assert s["timed_out"] is True and s["outcome"] == "timed_out" and s["exit_code"] == 124
    signaled = st.of_type(events, "process", "signaled")
    assert [e["signal"] for e in signaled] == ["SIGKILL"]


def test_timeout_kills_a_daemonised_grandchild(tmp_path, marker):
    # Double fork + setsid: the root exits at once, the grandchild sleeps for ever. The
    # timeout still ends the run, and nothing of the tree survives sandtrace.
    out = tmp_path / "t.jsonl"
    start = time.monotonic()
    with open(tmp_path / "stdout", "wb") as stdout:  # not a pipe: the grandchild inherits it
        p = st.sandtrace("--timeout", "2", "-o", out,
                         command=[st.helper("daemon-sleeper"), marker],
                         timeout_flags=False, timeout=120, stdout=stdout)
    elapsed = time.monotonic() - start
    assert p.returncode == 124, st.describe(p)
    assert elapsed < 20, f"--timeout 2 took {elapsed:.1f} s"
    assert (tmp_path / "stdout").read_text().split()[0] == "sleeper", "the daemon never ran"
    assert st.wait_until(lambda: not st.pids_with_marker(marker), 2), \
        f"left behind: {st.pids_with_marker(marker)}"
    events = st.load_jsonl(out)
    s = st.summary(events)
    assert s["timed_out"] is True and s["exit_code"] == 124
    assert s["process_count"] == 3
    ends = {e["pid"]: e for e in events if e["event_type"] == "process"
            and e["action"] in ("exited", "signaled")}
    # The root and the middle child exited; the grandchild (the last process spawned) was
    # killed by the timeout.
    grandchild = st.of_type(events, "process", "spawn")[-1]["pid"]
    assert ends[grandchild]["action"] == "signaled" and ends[grandchild]["signal"] == "SIGKILL"
    assert sorted(e["action"] for e in ends.values()) == ["exited", "exited", "signaled"]


def test_timeout_zero_means_no_limit(tmp_path):
    events, _ = st.traced(tmp_path, [st.helper("syscall-loop"), "3"], "--timeout", "0")
    assert st.summary(events)["timed_out"] is False


def test_command_found_on_path_and_its_arguments_are_its_own(tmp_path):
    # No "--": every argument after COMMAND belongs to it, even ones that look like options.
    out = tmp_path / "t.jsonl"
    env = dict(os.environ, PATH=f"{st.BIN}:/usr/bin:/bin")
    p = st.run([st.SANDTRACE, "run", "--trace-only", "-o", out, "st-syscall-loop", "2", "-v",
                "--timeout", "1", "-o", "x"], env=env)
    assert p.returncode == 0, st.describe(p)
    assert p.stdout == b"done 2\n"
    assert not (tmp_path / "x").exists()
    events = st.load_jsonl(out)
    command = ["st-syscall-loop", "2", "-v", "--timeout", "1", "-o", "x"]
    assert events[0]["command"] == command
    assert events[0]["executable"] == str(st.BIN / "st-syscall-loop")
    execs = st.of_type(events, "process", "exec")
    assert execs[0]["argv"] == command
    assert st.summary(events)["timed_out"] is False


def test_run_directory_is_private_and_removed(tmp_path):
    # The ipc endpoints live in a private directory, in $XDG_RUNTIME_DIR when it is usable,
    # that is gone once sandtrace returns.
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    seen = tmp_path / "seen.txt"
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime))
    script = f'for d in "$XDG_RUNTIME_DIR"/sandtrace-*; do stat -c "%a %n" "$d"; done > {seen}'
    p = st.sandtrace(command=["/bin/sh", "-c", script], env=env)
    assert p.returncode == 0, st.describe(p)
    lines = seen.read_text().split("\n")
    assert len(lines) == 2 and lines[1] == "", lines  # exactly one run directory
    mode, path = lines[0].split(" ", 1)
    assert mode == "700" and path.startswith(str(runtime) + "/sandtrace-"), lines
    assert list(runtime.iterdir()) == []


@pytest.mark.skipif(not os.access("/dev/shm", os.W_OK), reason="no writable /dev/shm")
def test_run_directory_is_on_dev_shm_without_a_runtime_directory(tmp_path):
    # Without $XDG_RUNTIME_DIR the directory goes to /dev/shm (tmpfs), not to /tmp.
    seen = tmp_path / "seen.txt"
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    script = f'for d in /dev/shm/sandtrace-*; do stat -c "%a %F" "$d"; done > {seen}'
    p = st.sandtrace(command=["/bin/sh", "-c", script], env=env)
    assert p.returncode == 0, st.describe(p)
    assert "700 directory" in seen.read_text().split("\n"), seen.read_text()


def test_unusable_runtime_directory_falls_back(tmp_path):
    out = tmp_path / "t.jsonl"
    for runtime in [tmp_path / "missing", "relative/dir"]:
        env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime))
        p = st.sandtrace("-o", out, command=["/bin/true"], env=env)
        assert p.returncode == 0, st.describe(p)
        assert st.summary(st.load_jsonl(out))["outcome"] == "exited"
