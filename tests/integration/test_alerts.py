"""Reporting rules (issue 4): the built-in rules and a policy's [[rules]] turn a trace into
`alert` events with rule id and severity, fill the summary's suspicious_activity and
alert_count, land in SQLite's alerts table, and are printed on the terminal (high and critical
ones even without -v)."""
import sqlite3

import sandtrace_fixtures as st


def make_home(tmp_path):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("not a real key\n")
    (home / ".bashrc").write_text("# rc\n")
    (home / "project").mkdir()
    (home / "project" / ".env").write_text("TOKEN=1\n")
    return home


def run_reader(tmp_path, *options, paths):
    """Traces st-files-like reads of `paths` with cat (trace-only: nothing is masked)."""
    out, db = tmp_path / "run.jsonl", tmp_path / "run.db"
    home = make_home(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C"}
    command = ["/bin/sh", "-c", " ; ".join(f"cat {p(home)} > /dev/null" for p in paths)]
    p = st.sandtrace("-o", out, "-o", db, "--allow-exec", *options, command=command, env=env)
    assert p.returncode == 0, st.describe(p)
    return st.load_jsonl(out), db, p, home


def alerts_of(events):
    return [e for e in events if e["event_type"] == "alert"]


def test_builtin_rules_fire_once_per_subject_and_reach_every_output(tmp_path):
    events, db, p, home = run_reader(
        tmp_path, paths=[lambda h: h / ".ssh" / "id_rsa", lambda h: h / ".ssh" / "id_rsa",
                         lambda h: h / "project" / ".env", lambda h: "/etc/hostname"])
    alerts = alerts_of(events)
    by_rule = {}
    for a in alerts:
        by_rule.setdefault(a["rule"], []).append(a)
    assert len(by_rule.get("ssh_key", [])) == 1, alerts  # read twice, reported once
    assert by_rule["ssh_key"][0]["severity"] == "high"
    assert by_rule["ssh_key"][0]["event"]["args"]["decoded"]["path"] == str(home / ".ssh" / "id_rsa")
    assert "dotenv" in by_rule, alerts
    assert not [a for a in alerts if "hostname" in a["message"]], alerts
    # Each alert comes right after the event that fired it.
    for i, e in enumerate(events):
        if e["event_type"] == "alert" and e["event"]["event_type"] == "syscall":
            assert events[i - 1] == e["event"] or events[i - 1]["event_type"] == "alert"
    s = st.summary(events)
    assert s["alert_count"] == len(alerts)
    assert {"ssh_key", "dotenv"} <= {x["rule"] for x in s["suspicious_activity"]}
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT rule, severity FROM alerts").fetchall()
    assert sorted(rows) == sorted((a["rule"], a["severity"]) for a in alerts)
    # High alerts are on the terminal without -v; nothing else is.
    assert b"!! alert [high] ssh_key" in p.stderr, p.stderr
    assert b"openat" not in p.stderr.replace(b"openat " + str(home).encode(), b"")


def test_policy_rules_add_change_and_disable_builtins(tmp_path):
    policy = tmp_path / "rules.toml"
    policy.write_text("""
[[rules]]
id = "hostname_read"
kind = "file"
severity = "critical"
message = "reads the host name file"
paths = ["/etc/hostname"]

[[rules]]
id = "ssh_key"
severity = "low"

[[rules]]
id = "dotenv"
enabled = false
""")
    events, _, p, _ = run_reader(
        tmp_path, "--policy", policy,
        paths=[lambda h: h / ".ssh" / "id_rsa", lambda h: h / "project" / ".env",
               lambda h: "/etc/hostname"])
    rules = {a["rule"]: a for a in alerts_of(events)}
    assert rules["hostname_read"]["severity"] == "critical"
    assert rules["hostname_read"]["message"].startswith("reads the host name file")
    assert rules["ssh_key"]["severity"] == "low"
    assert "dotenv" not in rules
    assert b"hostname_read" in p.stderr  # critical: shown without -v
    assert b"ssh_key" not in p.stderr    # low: only in the outputs


def test_denied_syscalls_and_network_attempts_alert(tmp_path):
    policy = tmp_path / "deny.toml"
    policy.write_text('[syscalls]\ndeny = ["uname"]\n')
    out = tmp_path / "run.jsonl"
    p = st.sandtrace("-o", out, "--policy", policy, command=["/bin/uname"], trace_only=False)
    assert p.returncode != 0, st.describe(p)
    events = st.load_jsonl(out)
    denied = [a for a in alerts_of(events) if a["rule"] == "denied_syscall"]
    assert denied and denied[0]["event"]["syscall"] == "uname", alerts_of(events)

    events, _ = st.traced(tmp_path, ["/bin/true"], name="true.jsonl")
    assert not [a for a in alerts_of(events) if a["rule"] == "network_attempt"]
    net = tmp_path / "net.jsonl"
    p = st.sandtrace("-o", net, command=["/usr/bin/python3", "-c",
                     "import socket; s=socket.socket(); s.settimeout(1)\n"
                     "try: s.connect(('127.0.0.1', 9))\nexcept OSError: pass"])
    assert p.returncode == 0, st.describe(p)
    attempts = [a for a in alerts_of(st.load_jsonl(net)) if a["rule"] == "network_attempt"]
    assert attempts and attempts[0]["severity"] == "medium", attempts
