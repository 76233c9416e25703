"""Tracing completeness: sandtrace against `strace -f -c`, and the process events.

Issue "Pipeline core", point 3: every syscall of every process and thread, like strace -f.
"""
import collections
import os
import shutil
import signal
import subprocess
import time

import pytest

import sandtrace_fixtures as st

# Deterministic helpers: the same syscalls, in the same numbers, on every run.
DIFFERENTIAL = [
    ("syscall-loop", ["25"]),
    ("threads", ["4", "20"]),
    ("forker", ["4"]),
    ("vforker", ["3"]),
    ("clone3", []),
    ("exec-from-thread", []),
    ("signals", []),
    ("signals", ["15"]),  # ends by killing itself with SIGTERM
]


def status_of(returncode):
    """subprocess return code -> shell-style exit status (128+N for death by signal N)."""
    return 128 - returncode if returncode < 0 else returncode


def diff_counts(ours, ref):
    names = sorted(set(ours) | set(ref))
    return "\n".join(f"  {n:24} sandtrace {ours.get(n, 0):6}  strace {ref.get(n, 0):6}"
                     for n in names if ours.get(n, 0) != ref.get(n, 0))


def check_every_thread_ends(events, exits_by_syscall=True):
    """Every traced thread has its end: an exited/signaled event, or it was replaced by an exec
    (former_pid). With exits_by_syscall, every thread that exited did so through its own
    exit/exit_group, which is its last syscall and never returned; and nothing else is left
    without a return."""
    spawns = st.of_type(events, "process", "spawn")
    ends = {ev["pid"]: ev for ev in events if ev["event_type"] == "process"
            and ev["action"] in ("exited", "signaled")}
    superseded = {ev["former_pid"] for ev in st.of_type(events, "process", "exec")
                  if "former_pid" in ev}
    for sp in spawns:
        tid = sp["pid"]
        assert tid in ends or tid in superseded, f"thread {tid} has no exited/signaled event"
    by_tid = collections.defaultdict(list)
    for ev in st.syscalls(events):
        by_tid[ev["pid"]].append(ev)
    for ev in st.syscalls(events):
        if not ev["returned"] and exits_by_syscall:
            assert ev["syscall"] in ("exit", "exit_group"), f"never returned: {ev}"
    if not exits_by_syscall:
        return
    for tid, end in ends.items():
        if end["action"] != "exited":
            continue
        calls = by_tid.get(tid, [])
        assert calls, f"thread {tid} exited without a traced syscall"
        last = calls[-1]
        assert last["syscall"] in ("exit", "exit_group") and not last["returned"], (
            f"the last syscall of thread {tid} is not its exit: {last}")


@pytest.mark.parametrize("name,args", DIFFERENTIAL,
                         ids=[" ".join([n] + a) for n, a in DIFFERENTIAL])
def test_counts_match_strace(tmp_path, name, args):
    command = [st.helper(name)] + args
    ref, ref_rc = st.strace_counts(command, tmp_path)
    events, p = st.traced(tmp_path, command, expect_rc=status_of(ref_rc), stderr=subprocess.PIPE)
    ours = st.returned_counts(events)
    assert dict(ours) == ref, "per-syscall counts differ from strace -f -c:\n" + \
        diff_counts(ours, ref)
    check_every_thread_ends(events)
    # exit/exit_group are in the trace even though strace -c does not count them.
    not_returned = [ev["syscall"] for ev in st.syscalls(events) if not ev["returned"]]
    exits = st.of_type(events, "process", "exited")
    assert len(not_returned) == len(exits), (not_returned, exits)


def spawns_by_pid(events):
    return {ev["pid"]: ev for ev in st.of_type(events, "process", "spawn")}


def root_pid(events):
    first = st.of_type(events, "process", "spawn")[0]
    assert first["tgid"] == first["pid"] and not first["thread"]
    return first["pid"]


def test_exec_events_name_the_process_as_the_kernel_does(tmp_path):
    """The exec event's comm is worked out from the exec call (no /proc read): it must be what
    the kernel calls the process, which each program prints from /proc/self/comm."""
    link = tmp_path / "a-program-name-longer-than-fifteen"
    link.symlink_to("/bin/cat")
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\ncat /proc/$$/comm\n")
    script.chmod(0o755)
    fexecve = ("import os; fd = os.open('/bin/cat', os.O_RDONLY); "
               "os.execve(fd, ['cat', '/proc/self/comm'], {})")
    steps = (f"{link} /proc/self/comm; cd {tmp_path} && ./script.sh; "
             f"/usr/bin/python3 -c \"{fexecve}\"")
    out = tmp_path / "comm.txt"
    events, _ = st.traced(tmp_path, ["/bin/sh", "-c", steps], stdout=open(out, "wb"))
    printed = out.read_text().split()
    execs = [e["comm"] for e in st.of_type(events, "process", "exec")]
    # The script's cat prints the comm of the shell running the script (the script's name);
    # fexecve (execveat AT_EMPTY_PATH) is named after the file on this kernel.
    assert printed == [link.name[:15], "script.sh", "cat"], printed
    assert execs == ["sh", link.name[:15], "script.sh", "cat", "python3", "cat"], execs


def test_fork_events(tmp_path):
    command = [st.helper("forker"), "3"]
    events, _ = st.traced(tmp_path, command)
    root = root_pid(events)
    spawns = st.of_type(events, "process", "spawn")
    children = [s for s in spawns if s["pid"] != root]
    assert len(children) == 3
    for c in children:
        assert c["thread"] is False and c["tgid"] == c["pid"] and c["ppid"] == root, c
    execs = st.of_type(events, "process", "exec")
    assert len(execs) == 1
    assert execs[0]["pid"] == root
    assert execs[0]["path"] == os.path.realpath(command[0])
    assert execs[0]["argv"] == command
    assert execs[0]["comm"] == os.path.basename(command[0])[:15]
    exited = {e["pid"]: e for e in st.of_type(events, "process", "exited")}
    assert set(exited) == {root} | {c["pid"] for c in children}
    assert all(e["exit_code"] == 0 and e["thread"] is False for e in exited.values())
    # Each child's syscalls carry its own pid; the children made syscalls (their exit_group).
    for c in children:
        assert any(ev["pid"] == c["pid"] for ev in st.syscalls(events))
    s = st.summary(events)
    assert s["process_count"] == 4 and s["thread_count"] == 4
    assert s["exit_code"] == 0 and s["outcome"] == "exited"


def test_vfork_events(tmp_path):
    events, _ = st.traced(tmp_path, [st.helper("vforker"), "2"])
    root = root_pid(events)
    children = [s for s in st.of_type(events, "process", "spawn") if s["pid"] != root]
    assert len(children) == 2 and all(not c["thread"] and c["ppid"] == root for c in children)
    exited = {e["pid"]: e["exit_code"] for e in st.of_type(events, "process", "exited")}
    assert exited == {root: 0, children[0]["pid"]: 3, children[1]["pid"]: 3}
    assert sum(1 for ev in st.syscalls(events) if ev["syscall"] == "vfork") == 2


def test_thread_events(tmp_path):
    events, _ = st.traced(tmp_path, [st.helper("threads"), "3", "5"])
    root = root_pid(events)
    threads = [s for s in st.of_type(events, "process", "spawn") if s["pid"] != root]
    assert len(threads) == 3
    for t in threads:
        assert t["thread"] is True and t["tgid"] == root and t["ppid"] == root, t
    for t in threads:
        calls = [ev for ev in st.syscalls(events) if ev["pid"] == t["pid"]]
        assert all(ev["tgid"] == root for ev in calls)
        assert sum(1 for ev in calls if ev["syscall"] == "getppid") == 5
    ends = {e["pid"]: e for e in st.of_type(events, "process", "exited")}
    for t in threads:
        assert ends[t["pid"]]["thread"] is True and ends[t["pid"]]["tgid"] == root
    assert ends[root]["thread"] is False
    s = st.summary(events)
    assert s["process_count"] == 1 and s["thread_count"] == 4


def test_raw_clone3_thread_and_process(tmp_path):
    events, p = st.traced(tmp_path, [st.helper("clone3")], stdout=subprocess.PIPE)
    out = dict(line.split() for line in p.stdout.decode().splitlines())
    assert set(out) == {"thread", "process"}  # the pids it printed are the sandbox's own
    root = root_pid(events)
    spawns = spawns_by_pid(events)
    children = [s for s in spawns.values() if s["pid"] != root]
    assert len(children) == 2, children
    tid = next(s["pid"] for s in children if s["thread"])
    pid = next(s["pid"] for s in children if not s["thread"])
    assert spawns[tid]["thread"] is True and spawns[tid]["tgid"] == root
    assert spawns[pid]["thread"] is False and spawns[pid]["tgid"] == pid
    assert spawns[pid]["ppid"] == root
    calls = st.syscalls(events)
    assert sum(1 for ev in calls if ev["pid"] == tid and ev["syscall"] == "getppid") == 3
    assert sum(1 for ev in calls if ev["pid"] == pid and ev["syscall"] == "getppid") == 2
    assert sum(1 for ev in calls if ev["pid"] == root and ev["syscall"] == "clone3") >= 2
    exited = {e["pid"]: e for e in st.of_type(events, "process", "exited")}
    assert exited[pid]["exit_code"] == 5
    assert exited[tid]["thread"] is True


def test_exec_from_non_leader_thread(tmp_path):
    command = [st.helper("exec-from-thread"), "/bin/true", "arg1"]
    events, _ = st.traced(tmp_path, command)
    root = root_pid(events)
    thread = [s for s in st.of_type(events, "process", "spawn") if s["thread"]]
    assert len(thread) == 1 and thread[0]["tgid"] == root
    execs = st.of_type(events, "process", "exec")
    assert len(execs) == 2, execs
    assert "former_pid" not in execs[0]
    second = execs[1]
    assert second["pid"] == root, "after a non-leader exec the process keeps the leader's pid"
    assert second["former_pid"] == thread[0]["pid"]
    assert second["path"] == os.path.realpath("/bin/true")
    assert second["argv"] == ["/bin/true", "arg1"]
    # The execve itself: entered by the thread, returned 0.
    execve = [ev for ev in st.syscalls(events) if ev["syscall"] == "execve"]
    assert len(execve) == 2
    assert execve[1]["pid"] in (thread[0]["pid"], root) and execve[1]["return_value"] == 0
    assert execve[1]["returned"] is True
    # /bin/true's syscalls come from the leader's pid.
    after = [ev for ev in st.syscalls(events) if ev["timestamp"] > second["timestamp"]]
    assert after and all(ev["pid"] == root and ev["tgid"] == root for ev in after)
    exited = st.of_type(events, "process", "exited")
    assert [(e["pid"], e["exit_code"]) for e in exited] == [(root, 0)]


def test_tracer_sleeps_while_the_command_sleeps(tmp_path):
    # The tracer sleeps in waitpid between stops (it polled first until ab69032). A command
    # that blocks must leave it asleep: a 1 s sleep costs the whole run a few tens of
    # milliseconds of CPU, a tracer that polled or spun about a second.
    before = os.times()
    events, _ = st.traced(tmp_path, ["sleep", "1"])
    after = os.times()
    cpu = (after.children_user - before.children_user
           + after.children_system - before.children_system)
    assert any(ev["syscall"] == "clock_nanosleep" for ev in st.syscalls(events))
    assert cpu < 0.4, f"sandtrace used {cpu:.2f} s of CPU while the command slept for 1 s"


def nice_of(pid, tid=None):
    """The nice value of a thread (field 19 of its stat); None once it is gone."""
    fields = st.stat_fields(pid, tid or pid)
    return None if fields is None else int(fields[16])


def has_cap_sys_nice():
    """Whether this process has CAP_SYS_NICE (bit 23) in its effective set."""
    with open("/proc/self/status") as f:
        eff = next(line for line in f if line.startswith("CapEff:"))
    return bool(int(eff.split()[1], 16) >> 23 & 1)


@pytest.mark.parametrize("how", ["root", "nobody", "root-one-cpu"])
def test_the_tracer_runs_above_the_command(tmp_path, request, marker, how):
    # Every stop waits for the tracing thread, so it runs 8 nice levels above the command
    # when it may (root: CAP_SYS_NICE) and the run has more than one CPU; an ordinary user's
    # tracer, or one confined to one CPU, stays at the caller's nice. The command, the
    # tracer's other (ZeroMQ) threads and the sandbox's init keep the caller's: 3 more than
    # this test's.
    caller = min(19, os.nice(0) + 3)
    prefix = ["nice", "-n", "3"]
    out = tmp_path / "t.jsonl"
    if how == "nobody":
        d = st.world_writable_dir()
        request.addfinalizer(lambda: shutil.rmtree(d, ignore_errors=True))
        out = d / "t.jsonl"
        prefix = [*st.SETPRIV_NOBODY, *prefix]
    elif how == "root-one-cpu":
        prefix = ["taskset", "-c", str(min(os.sched_getaffinity(0))), *prefix]
    elif len(os.sched_getaffinity(0)) < 2:
        pytest.skip("this machine gives the run one CPU: the tracer is not raised")
    elif not has_cap_sys_nice():
        pytest.skip("no CAP_SYS_NICE here (a container?): the tracer cannot be raised")
    command = ["sh", "-c", "nice; sleep 600; :", marker]
    proc = subprocess.Popen([*prefix, *st.sandtrace_args("-o", out, command=command)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    request.addfinalizer(lambda: proc.poll() is None and proc.kill())
    assert proc.stdout.readline() == f"{caller}\n".encode(), "the command sees the caller's nice"
    tracer = st.child_named(proc.pid, "sandtrace-tracer")
    expected = max(-20, caller - 8) if how == "root" else caller
    assert nice_of(tracer) == expected
    others = [int(t) for t in os.listdir(f"/proc/{tracer}/task") if int(t) != tracer]
    assert others and all(nice_of(tracer, t) == caller for t in others)
    sandbox = st.descendants(tracer)  # the init, sh and sleep (and `nice`, unless gone)
    assert set(sandbox) & set(st.pids_with_marker(marker)), "sh is in the sandbox"
    assert {nice_of(p) for p in sandbox} - {None} == {caller}, "the sandbox keeps the nice"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert st.summary(st.load_jsonl(out))["outcome"] == "interrupted"


def test_signals_pass_through(tmp_path):
    events, p = st.traced(tmp_path, [st.helper("signals")], stdout=subprocess.PIPE)
    assert p.stdout.decode().splitlines() == ["usr1 handled", "chld handled"]
    calls = st.syscalls(events)
    assert any(ev["syscall"] == "rt_sigreturn" for ev in calls), "a handler ran: rt_sigreturn"


def test_signaled_by_own_signal(tmp_path):
    events, p = st.traced(tmp_path, [st.helper("signals"), "15"], expect_rc=143,
                          stdout=subprocess.PIPE)
    assert p.stdout.decode().splitlines() == ["usr1 handled", "chld handled"]
    root = root_pid(events)
    sig = st.of_type(events, "process", "signaled")
    assert [(e["pid"], e["signal"]) for e in sig] == [(root, "SIGTERM")]
    s = st.summary(events)
    assert s["exit_code"] == 143 and s["outcome"] == "signaled"


def test_sigkilled_tracee(tmp_path):
    events, _ = st.traced(tmp_path, [st.helper("die-signal"), "9"], expect_rc=137)
    root = root_pid(events)
    sig = st.of_type(events, "process", "signaled")
    assert len(sig) == 1 and sig[0]["pid"] == root and sig[0]["signal"] == "SIGKILL"
    assert sig[0]["core_dumped"] is False
    assert not st.of_type(events, "process", "exited")
    s = st.summary(events)
    assert s["exit_code"] == 137 and s["outcome"] == "signaled"


def test_group_stop_completes(tmp_path):
    # A child that stops itself with SIGSTOP and is continued by its parent must not hang the
    # run (nor be left stopped for ever): the program ends by itself, well before the timeout.
    out = tmp_path / "trace.jsonl"
    p = st.run(st.sandtrace_args("--timeout", "60", "-o", out, command=[st.helper("group-stop")],
                                 timeout_flags=False), timeout=120)
    assert p.returncode == 0, st.describe(p)
    lines = p.stdout.decode().splitlines()
    assert "child resumed" in lines and lines[-1] == "ok", lines
    events = st.load_jsonl(out)
    assert st.summary(events)["outcome"] == "exited"
    exited = st.of_type(events, "process", "exited")
    assert sorted(e["exit_code"] for e in exited) == [0, 7]


def test_group_stop_is_seen_by_the_parent(tmp_path):
    # Job control works under tracing as it does under strace: the parent's
    # waitpid(WUNTRACED) reports the child stopped, so the program prints "stopped".
    plain = st.run([st.helper("group-stop")], timeout=60)
    assert plain.stdout.decode().splitlines() == ["stopped", "child resumed", "ok"]
    p = st.run(st.sandtrace_args("--timeout", "60", "-o", tmp_path / "t.jsonl",
                                 command=[st.helper("group-stop")], timeout_flags=False),
               timeout=120)
    assert p.returncode == 0, st.describe(p)
    assert p.stdout == plain.stdout


def test_follow_forks_false(tmp_path):
    events, _ = st.traced(tmp_path, [st.helper("forker"), "4"], "--follow-forks=false")
    root = root_pid(events)
    assert events[0]["follow_forks"] is False
    pids = {ev["pid"] for ev in st.syscalls(events)}
    assert pids == {root}, f"syscalls of untraced children: {pids - {root}}"
    assert [s["pid"] for s in st.of_type(events, "process", "spawn")] == [root]
    forks = [ev for ev in st.syscalls(events) if ev["syscall"] in ("clone", "clone3", "fork")]
    assert len(forks) == 4 and all(ev["return_value"] > 0 for ev in forks)
    s = st.summary(events)
    assert s["process_count"] == 1 and s["exit_code"] == 0


def test_untraced_leftovers_are_killed_when_the_command_ends(tmp_path, marker):
    # With --follow-forks=false the daemon the command leaves running is not traced, so the
    # run ends with the command; the daemon must not outlive it.
    started = time.monotonic()
    events, _ = st.traced(tmp_path, [st.helper("daemon-sleeper"), marker],
                          "--follow-forks=false")
    assert time.monotonic() - started < 30
    assert st.summary(events)["exit_code"] == 0
    assert not st.pids_with_marker(marker), f"left behind: {st.pids_with_marker(marker)}"


def test_follow_forks_default_traces_children(tmp_path):
    events, _ = st.traced(tmp_path, [st.helper("forker"), "2"], "--follow-forks")
    assert events[0]["follow_forks"] is True
    assert len({ev["pid"] for ev in st.syscalls(events)}) == 3


def test_unprivileged_user(tmp_path, request):
    # The basic trace works for an ordinary user (uid/gid 65534, no groups).
    d = st.world_writable_dir()
    request.addfinalizer(lambda: shutil.rmtree(d, ignore_errors=True))
    out = d / "trace.jsonl"
    command = [st.helper("syscall-loop"), "7"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(d), "LANG": "C"}
    p = st.run([*st.SETPRIV_NOBODY, *st.sandtrace_args("-o", out, command=command)], env=env)
    assert p.returncode == 0, st.describe(p)
    assert p.stdout.decode() == "done 7\n"
    assert out.stat().st_uid == st.NOBODY
    events = st.load_jsonl(out)
    root = root_pid(events)
    assert sum(1 for ev in st.syscalls(events) if ev["syscall"] == "getppid") == 7
    assert all(ev["pid"] == root for ev in st.syscalls(events))
    # The same counts as strace sees (its stdout a pipe too, like ours here).
    ref, _ = st.strace_counts(command, tmp_path, stdout=subprocess.PIPE)
    assert dict(st.returned_counts(events)) == ref
