"""`--trace CLASSES` (issue 6): a seccomp SECCOMP_RET_TRACE pre-filter, so that syscalls
outside the selection never stop the tracer. The selected calls are traced exactly as without
the filter (same counts), processes and threads are still followed, and enforcement stays
exact: denied calls still fail, later execs are still refused."""
import collections
import json

import pytest

import sandtrace_fixtures as st

ALWAYS = {"execve", "execveat", "fork", "vfork", "clone", "clone3"}


def counts(events, keep=lambda e: True):
    return collections.Counter(e["syscall"] for e in st.syscalls(events) if keep(e))


@pytest.mark.parametrize("trace_only", [True, False])
def test_file_selection_matches_the_full_trace(tmp_path, trace_only):
    command = [st.helper("files"), tmp_path, "5"]
    full, _ = st.traced(tmp_path, command, name="full.jsonl", trace_only=trace_only,
                        **({} if trace_only else {"expect_rc": None}))
    part, _ = st.traced(tmp_path, command, "--trace", "file", name="part.jsonl",
                        trace_only=trace_only, **({} if trace_only else {"expect_rc": None}))
    # `file` is strace's %file: the calls that take a file name (the analyser decodes it as
    # args.decoded.path), not those on a descriptor.
    wanted = counts(full, lambda e: "path" in e["args"].get("decoded", {})
                    or e["syscall"] in ALWAYS)
    assert counts(part) == wanted
    assert counts(part)["openat"] > 0
    assert counts(full)["close"] > 0
    assert not [e for e in st.syscalls(part)
                if e["syscall"] in ("mmap", "brk", "getppid", "close", "read", "write")]
    assert st.summary(part)["exit_code"] == st.summary(full)["exit_code"]


def test_negated_and_empty_selections_as_in_strace(tmp_path):
    command = [st.helper("files"), tmp_path, "5"]
    full, _ = st.traced(tmp_path, command, name="full.jsonl")
    # `!set`: every call but those in the set, each as often as in the full trace.
    but, _ = st.traced(tmp_path, command, "--trace", "!openat,%desc", name="but.jsonl")
    fd_calls = {"read", "write", "close", "fstat", "newfstatat", "getdents64", "mmap", "lseek",
                "fcntl", "ioctl", "pread64", "unlinkat", "mkdirat", "fsync"}
    assert counts(but) == counts(full, lambda e: e["syscall"] != "openat"
                                 and ("fd" not in e["args"].get("decoded", {})
                                      and "dirfd" not in e["args"].get("decoded", {})
                                      or e["syscall"] in ALWAYS))
    assert not set(counts(but)) & ({"openat"} | fd_calls)
    assert counts(but)["brk"] > 0
    # `none`: only what the tracer always needs.
    none, _ = st.traced(tmp_path, command, "--trace", "none", name="none.jsonl")
    assert set(counts(none)) <= ALWAYS and counts(none)["execve"] == 1
    assert st.summary(none)["exit_code"] == 0
    # `%net` is strace's name of the network class.
    net, _ = st.traced(tmp_path, command, "--trace", "%net", name="net.jsonl")
    assert counts(net) == counts(full, lambda e: e["category"] == "network"
                                 or e["syscall"] in ALWAYS)


def test_names_and_classes_combine(tmp_path):
    events, _ = st.traced(tmp_path, ["/bin/ls", "/usr"], "--trace", "openat,%memory")
    names = set(counts(events))
    assert "openat" in names and "mmap" in names
    assert names <= {"openat", "execve"} | {n for n in names
                                            if any(e["category"] == "memory"
                                                   for e in st.syscalls(events)
                                                   if e["syscall"] == n)}
    assert "close" not in names and "newfstatat" not in names


@pytest.mark.parametrize("command", [["signals"], ["forker", "3"]])
def test_process_is_strace_process_class(tmp_path, command):
    # `process` is strace's %process (a process's life: clone, exec, wait, kill, exit), not the
    # JSONL category, whose ids, limits and start-up calls (arch_prctl, rseq, prlimit64, ...)
    # every program makes. Same counts as strace's for the same program.
    argv = [st.helper(command[0]), *command[1:]]
    events, _ = st.traced(tmp_path, argv, "--trace", "process")
    ref, ref_rc = st.strace_counts(argv, tmp_path, trace="%process")
    assert ref_rc == 0 and ref["clone"] >= 1 and ref["wait4"] >= 1
    got = counts(events)
    ends = got.pop("exit_group", 0)  # never returns: not in strace's table
    assert got == ref
    assert ends == st.summary(events)["process_count"]
    assert not {"arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64",
                "getpid", "rt_sigaction"} & set(counts(events))


def test_threads_and_forks_are_still_followed(tmp_path):
    events, _ = st.traced(tmp_path, [st.helper("threads"), "4", "50"], "--trace", "process")
    s = st.summary(events)
    assert s["thread_count"] >= 5 and s["exit_code"] == 0
    events, _ = st.traced(tmp_path, [st.helper("forker"), "5"], "--trace", "file",
                          name="forker.jsonl")
    assert st.summary(events)["process_count"] == 6


def test_enforcement_is_unchanged_under_a_pre_filter(tmp_path):
    policy = tmp_path / "p.toml"
    policy.write_text('[syscalls]\ndeny = ["uname"]\n')
    out = tmp_path / "run.jsonl"
    # uname is not selected, yet still denied (layer 7 hands its denials to the tracer under
    # --trace, so the denial is recorded too).
    p = st.sandtrace("-o", out, "--policy", policy, "--trace", "file", command=["/bin/uname"],
                     trace_only=False)
    assert p.returncode == 1 and b"Operation not permitted" in p.stderr, st.describe(p)
    unames = [e for e in st.syscalls(st.load_jsonl(out)) if e["syscall"] == "uname"]
    assert [(e["action"], e["return_value"]) for e in unames] == [("deny", -1)], unames
    # The same for the built-in hardening rules (here: a new user namespace).
    p = st.sandtrace("-o", out, "--allow-exec", "--trace", "network",
                     command=["/usr/bin/unshare", "-r", "/bin/true"], trace_only=False)
    assert p.returncode != 0, st.describe(p)
    denied = [e for e in st.syscalls(st.load_jsonl(out)) if e["action"] == "deny"]
    assert denied and denied[0]["syscall"] == "unshare" and denied[0]["return_value"] == -1
    # A later exec (always traced) is still refused and recorded as deny.
    p = st.sandtrace("-o", out, "--trace", "network", command=["/bin/sh", "-c", "/bin/true"],
                     trace_only=False)
    assert p.returncode == 126, st.describe(p)
    execs = [e for e in st.syscalls(st.load_jsonl(out)) if e["syscall"] == "execve"]
    assert [e["action"] for e in execs] == ["allow", "deny"], execs


def test_bad_selections_are_usage_errors(tmp_path):
    marker = tmp_path / "ran"
    p = st.sandtrace("--trace", "file,nosuchcall", command=["/usr/bin/touch", marker])
    assert p.returncode == 2 and b"nosuchcall" in p.stderr, st.describe(p)
    p = st.sandtrace("--trace", "file", "--follow-forks=false", command=["/usr/bin/touch", marker])
    assert p.returncode == 2 and b"--follow-forks" in p.stderr, st.describe(p)
    assert not marker.exists()
    # "all" is the same as no selection: no pre-filter in the sandbox event.
    events, _ = st.traced(tmp_path, ["/bin/true"], "--trace", "all")
    assert "pre-filter" not in events[0]["layers"][6]["detail"]
    events, _ = st.traced(tmp_path, ["/bin/true"], "--trace", "file", name="f.jsonl")
    assert "pre-filter" in events[0]["layers"][6]["detail"]
