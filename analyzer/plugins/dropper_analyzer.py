#!/usr/bin/python3
"""Example external analyser for `sandtrace run --analyzer`: finds "download and execute".

Rules (alert rule ids):
- dropped_executable (critical): a program the run executed was written by the run itself
  (an open with write access, or a rename/link, to the same path before the exec). This is how
  droppers and second-stage payloads behave: fetch or unpack a binary, chmod +x, run it.
- made_executable (high): the run made a file it wrote executable (chmod/fchmodat with an
  execute bit).

It also emits one derived event at the end, `event_type: "dropper_report"`, with the number of
files written and programs executed.

Usage: sandtrace run --analyzer analyzer/plugins/dropper_analyzer.py -o run.jsonl -- CMD...
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sandtrace_plugin import Plugin  # noqa: E402

WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC")
OPEN_CALLS = ("open", "openat", "openat2", "creat")
MOVE_CALLS = ("rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat")
CHMOD_CALLS = ("chmod", "fchmodat", "fchmodat2")


def main():
    plugin = Plugin()
    written = {}    # path -> the event that wrote it
    executed = 0
    for event in plugin.events():
        kind = event.get("event_type")
        if kind == "syscall" and event.get("success"):
            name = event.get("syscall")
            decoded = (event.get("args") or {}).get("decoded") or {}
            path = decoded.get("path")
            if name in OPEN_CALLS and path and (
                    name == "creat" or any(f in decoded.get("flags", "") for f in WRITE_FLAGS)):
                written[os.path.normpath(path)] = event
            elif name in MOVE_CALLS and decoded.get("path2"):
                written[os.path.normpath(decoded["path2"])] = event
            elif name in CHMOD_CALLS and path and os.path.normpath(path) in written:
                mode = int(decoded.get("mode", "0"), 8)
                if mode & 0o111:
                    plugin.alert("made_executable", "high",
                                 f"{path} was written by the run and then made executable",
                                 event)
        elif kind == "process" and event.get("action") == "exec":
            executed += 1
            path = os.path.normpath(event.get("path", ""))
            argv0 = os.path.normpath((event.get("argv") or [""])[0] or "")
            hit = written.get(path) or written.get(argv0)
            if hit is not None:
                plugin.alert("dropped_executable", "critical",
                             f"the run executed {path}, a file it wrote itself", event,
                             path=path, written_by=hit.get("pid", 0))
    plugin.emit({"event_type": "dropper_report", "files_written": len(written),
                 "programs_executed": executed})
    plugin.close()


if __name__ == "__main__":
    main()
