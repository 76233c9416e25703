"""The terminal view on stderr (-v/-vv/-vvv, colours) and the program's own stdout (SPEC 2).

Issue "Pipeline core", point 5 (terminal view).
"""
import os
import subprocess
import threading

import pytest

import sandtrace_fixtures as st

ESC = b"\x1b["


def run_on_pty(args, env=None, timeout=120):
    """Runs `args` with stderr on a pseudo-terminal (stdout captured through a pipe);
    returns (returncode, stdout bytes, stderr bytes as the terminal saw them)."""
    master, slave = os.openpty()
    chunks = []

    def reader():
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every slave end is closed
                return
            if not data:
                return
            chunks.append(data)
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        p = subprocess.run([str(a) for a in args], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=slave, env=env, timeout=timeout)
    finally:
        os.close(slave)
    t.join(30)
    os.close(master)
    return p.returncode, p.stdout, b"".join(chunks)


def env_with(**extra):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(extra)
    return env


def count_lines(stderr, word):
    return sum(1 for line in stderr.splitlines() if word in line)


def test_vv_prints_every_syscall_without_colour(tmp_path):
    p = st.sandtrace("-vv", "--no-color", command=[st.helper("syscall-loop"), "6"])
    assert p.returncode == 0, st.describe(p)
    assert p.stdout == b"done 6\n"
    assert ESC not in p.stderr
    assert count_lines(p.stderr, b"getppid") == 6, p.stderr.decode(errors="replace")
    assert count_lines(p.stderr, b"execve") >= 1


def test_pty_gets_colour_by_default():
    # The positive control for the tests below: on a terminal, colours are on.
    rc, out, err = run_on_pty(st.sandtrace_args("-vv", command=[st.helper("syscall-loop"), "2"]),
                              env=env_with())
    assert rc == 0
    assert out == b"done 2\n"
    assert ESC in err, err[:2000]
    assert count_lines(err, b"getppid") == 2


def test_no_color_flag_on_a_pty():
    rc, out, err = run_on_pty(st.sandtrace_args("-vv", "--no-color",
                                                command=[st.helper("syscall-loop"), "2"]),
                              env=env_with())
    assert rc == 0 and out == b"done 2\n"
    assert count_lines(err, b"getppid") == 2
    assert ESC not in err, err[:2000]


def test_no_color_environment_on_a_pty():
    rc, out, err = run_on_pty(st.sandtrace_args("-vv", command=[st.helper("syscall-loop"), "2"]),
                              env=env_with(NO_COLOR="1"))
    assert rc == 0 and out == b"done 2\n"
    assert count_lines(err, b"getppid") == 2
    assert ESC not in err, err[:2000]


def test_no_colour_when_stderr_is_a_pipe():
    p = st.sandtrace("-vv", command=[st.helper("syscall-loop"), "2"], env=env_with())
    assert p.returncode == 0, st.describe(p)
    assert count_lines(p.stderr, b"getppid") == 2
    assert ESC not in p.stderr


def test_no_colour_when_stderr_is_a_file(tmp_path):
    with open(tmp_path / "err", "wb") as err:
        p = st.sandtrace("-vvv", command=[st.helper("files"), tmp_path, "9"], stderr=err,
                         env=env_with())
    assert p.returncode == 0
    text = (tmp_path / "err").read_bytes()
    assert ESC not in text and b"connect" in text


def test_verbosity_levels(tmp_path):
    lines = {}
    for level in ("-v", "-vv", "-vvv"):
        p = st.sandtrace(level, "--no-color", command=[st.helper("files"), tmp_path, "9"])
        assert p.returncode == 0, st.describe(p)
        assert p.stdout == b""
        lines[level] = p.stderr.splitlines()
    assert 0 < len(lines["-v"]) < len(lines["-vv"]), (len(lines["-v"]), len(lines["-vv"]))
    assert len(lines["-vvv"]) >= len(lines["-vv"])
    v = b"\n".join(lines["-v"])
    # -v: file, network and process activity.
    assert str(tmp_path / "created.txt").encode() in v
    assert b"127.0.0.1" in v and b"connect" in v
    assert b"exec" in v


def test_no_view_without_v(tmp_path):
    p = st.sandtrace("-o", tmp_path / "t.jsonl", command=[st.helper("syscall-loop"), "3"])
    assert p.returncode == 0, st.describe(p)
    assert b"getppid" not in p.stderr


@pytest.mark.parametrize("options", [["-vv"], ["-vvv", "--no-color"], ["-o", "OUT"], ["-v"]],
                         ids=["vv", "vvv", "jsonl", "v"])
@pytest.mark.parametrize("command", [["signals"], ["threads", "3", "4"], ["forker", "2"]],
                         ids=["signals", "threads", "forker"])
def test_program_stdout_is_byte_identical(tmp_path, options, command):
    argv = [st.helper(command[0])] + command[1:]
    plain = st.run(argv)
    assert plain.returncode == 0
    options = [str(tmp_path / "t.jsonl") if o == "OUT" else o for o in options]
    p = st.sandtrace(*options, command=argv)
    assert p.returncode == 0, st.describe(p)
    assert p.stdout == plain.stdout
