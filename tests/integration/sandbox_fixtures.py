"""Helpers of the sandbox tests (test_sandbox.py): enforcing runs of `sandtrace run` as root or
as an ordinary user, the probes of tests/probes and their RESULT lines.

- probe(name)              path of BIN/st-probe-NAME
- parse_results(stdout)    {label: Result} from the probes' "RESULT <label> ok|errno=E k=v" lines
- Sandbox(user)            one test's runs as "root" or "nobody" (uid/gid 65534, no groups, via
                           setpriv): temporary directories with the right owners and modes,
                           run(...) -> Run (process, JSONL events, probe results), cleanup()
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import sandtrace_fixtures as st

USERS = ("root", "nobody")


def probe(name):
    """Path of a sandbox probe, e.g. probe("fs") -> BIN/st-probe-fs."""
    path = st.BIN / ("st-probe-" + name)
    assert path.exists(), f"{path} is missing: build the target sandtrace_probes"
    return str(path)


class Result:
    """One RESULT line: `ok` is True for "ok", `errno` the name after "errno=" (else None),
    `fields` the key=value pairs that follow."""

    def __init__(self, label, status, fields):
        self.label = label
        self.status = status
        self.ok = status == "ok"
        self.errno = status[len("errno="):] if status.startswith("errno=") else None
        self.fields = fields

    def __getitem__(self, key):
        return self.fields[key]

    def __repr__(self):
        extra = " ".join(f"{k}={v}" for k, v in self.fields.items())
        return f"RESULT {self.label} {self.status} {extra}".rstrip()


def parse_results(stdout):
    """{label: Result} of the RESULT lines in a probe's output (bytes or str)."""
    if isinstance(stdout, bytes):
        stdout = stdout.decode(errors="replace")
    results = {}
    for line in stdout.splitlines():
        parts = line.split(" ")
        if len(parts) < 3 or parts[0] != "RESULT":
            continue
        fields = {}
        for item in parts[3:]:
            key, _, value = item.partition("=")
            fields[key] = value
        results[parts[1]] = Result(parts[1], parts[2], fields)
    return results


class Run:
    """A finished sandtrace run: `proc` (CompletedProcess, bytes), `events` (validated JSONL, or
    None without output), `results` (the probe's RESULT lines)."""

    def __init__(self, proc, events):
        self.proc = proc
        self.events = events
        self.stdout = proc.stdout.decode(errors="replace") if proc.stdout is not None else ""
        self.stderr = proc.stderr.decode(errors="replace") if proc.stderr is not None else ""
        self.results = parse_results(self.stdout)

    @property
    def returncode(self):
        return self.proc.returncode

    def result(self, label):
        assert label in self.results, f"the probe printed no RESULT {label}\n{self.describe()}"
        return self.results[label]

    def calls(self, name=None, nr=None):
        """syscall events, optionally only those of one name or number."""
        return [ev for ev in st.syscalls(self.events)
                if (name is None or ev["syscall"] == name) and
                (nr is None or ev["syscall_nr"] == nr)]

    @property
    def summary(self):
        return st.summary(self.events)

    def root_pid(self):
        """Host pid of the command (its first spawn event)."""
        return st.of_type(self.events, "process", "spawn")[0]["pid"]

    def describe(self):
        return st.describe(self.proc)


class Sandbox:
    """The runs of one test as `user` ("root" or "nobody"). Every directory it makes is removed
    by cleanup()."""

    def __init__(self, user):
        assert user in USERS, user
        self.user = user
        self.uid = 0 if user == "root" else st.NOBODY
        self.gid = 0 if user == "root" else st.NOBODY
        self._dirs = []
        self._runs = 0
        # sandtrace's outputs: writable by whoever runs it.
        self.outdir = self._track(st.world_writable_dir())
        # HOME of the runs unless a test gives another.
        self.home = self.dir("home")

    def _track(self, path):
        self._dirs.append(Path(path))
        return Path(path)

    def dir(self, prefix="dir", parent=None, mode=0o755, owned=True):
        """A fresh directory (under /tmp unless `parent`), owned by the run's user when `owned`
        (else by root), with `mode`."""
        d = self._track(tempfile.mkdtemp(prefix=f"st-sb-{prefix}-", dir=parent))
        if owned:
            os.chown(d, self.uid, self.gid)
        os.chmod(d, mode)
        return d

    def outside_dir(self, prefix="outside"):
        """A directory that the sandbox must protect although the host would let the run's user
        read and write it (mode 0777, under /var/tmp: visible in the sandbox's read-only view,
        not hidden by its private /tmp)."""
        return self.dir(prefix, parent="/var/tmp", mode=0o777, owned=False)

    @staticmethod
    def write_file(path, content, mode=0o644, uid=None, gid=None):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        os.chmod(path, mode)
        if uid is not None:
            os.chown(path, uid, gid if gid is not None else uid)
        return path

    def chown_tree(self, root):
        """Gives `root` and everything under it to the run's user."""
        for dirpath, dirnames, filenames in os.walk(root):
            os.chown(dirpath, self.uid, self.gid)
            for name in dirnames + filenames:
                os.chown(os.path.join(dirpath, name), self.uid, self.gid, follow_symlinks=False)

    def prefix(self):
        """What runs a command as the run's user."""
        return [] if self.user == "root" else list(st.SETPRIV_NOBODY)

    def env(self, home=None, **extra):
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home or self.home), "LANG": "C"}
        env.update(extra)
        return env

    def args(self, command, *options, trace_only=False, output=None, timeout_flags=True):
        opts = [str(o) for o in options]
        if output is not None:
            opts = ["-o", str(output)] + opts
        return self.prefix() + st.sandtrace_args(*opts, command=command, trace_only=trace_only,
                                                 timeout_flags=timeout_flags)

    def run(self, command, *options, trace_only=False, output=True, expect_rc=0, home=None,
            env=None, timeout_flags=True, timeout=st.DEFAULT_TIMEOUT, **kw):
        """Runs `sandtrace run [-o OUT.jsonl] OPTIONS -- COMMAND` (enforcing unless
        `trace_only`) as the run's user; checks the exit status (unless expect_rc is None) and
        returns a Run with the parsed JSONL."""
        self._runs += 1
        out = self.outdir / f"trace-{self._runs}.jsonl" if output else None
        args = self.args(command, *options, trace_only=trace_only, output=out,
                         timeout_flags=timeout_flags)
        proc = st.run(args, env=env or self.env(home), timeout=timeout, **kw)
        if expect_rc is not None:
            assert proc.returncode == expect_rc, st.describe(proc)
        events = st.load_jsonl(out) if out is not None and out.exists() else None
        if output and expect_rc is not None:
            assert events is not None, f"no JSONL written\n{st.describe(proc)}"
        return Run(proc, events)

    def popen_as_user(self, args, **kw):
        """subprocess.Popen of `args` as the run's user (a host process of the same uid)."""
        return subprocess.Popen(self.prefix() + [str(a) for a in args], **kw)

    def cleanup(self):
        for d in reversed(self._dirs):
            shutil.rmtree(d, ignore_errors=True)
        self._dirs.clear()
