"""The plug-in side of sandtrace's external analyser protocol (docs/plugins.md), for Python.

An external analyser is started by `sandtrace run --analyzer CMD` with two ZeroMQ endpoints in
its environment. It connects a PAIR socket to each:

- SANDTRACE_EVENTS: it receives messages of two frames, a header
  ["sandtrace", 1, type, seq, first_index, count] and a body of `count` MessagePack objects.
  type 3 is a batch of events (maps, exactly the JSONL lines of docs/events.md); type 4 is the
  end of the trace, which it must acknowledge by sending the single frame b"ack".
- SANDTRACE_ALERTS: it sends its own event batches the same way (type 3; seq and first_index
  count its own messages and objects from 0), then one end message (type 4) whose body is
  [0, 0, 0, 0, ""]; sandtrace acknowledges it with b"ack".

Use it like this:

    plugin = Plugin()
    for event in plugin.events():          # ends after the trace's end message
        if looks_bad(event):
            plugin.alert("my_rule", "high", "what happened", event)
    plugin.close()                          # flushes and sends the end message

Needs Debian's python3-zmq and python3-msgpack (run it with /usr/bin/python3).
"""
import os
import time

import msgpack
import zmq

MAGIC = "sandtrace"
VERSION = 1
EVENT_BATCH = 3
END = 4
SEVERITIES = ("low", "medium", "high", "critical")


class Plugin:
    def __init__(self, events_endpoint=None, alerts_endpoint=None, batch_size=256):
        self._context = zmq.Context()
        self._events = self._context.socket(zmq.PAIR)
        self._events.connect(events_endpoint or os.environ["SANDTRACE_EVENTS"])
        self._alerts = self._context.socket(zmq.PAIR)
        self._alerts.setsockopt(zmq.LINGER, 5000)
        self._alerts.connect(alerts_endpoint or os.environ["SANDTRACE_ALERTS"])
        self._seq = 0
        self._index = 0
        self._pending = []
        self._batch_size = batch_size
        self.end = None  # the trace's end: [outcome, exit_code, signal, end_ns, detail]

    def events(self):
        """Yields every event of the run (dicts), in order, until the trace's end."""
        while True:
            frames = self._events.recv_multipart()
            header = msgpack.unpackb(frames[0], raw=False)
            if header[0] != MAGIC or header[1] != VERSION:
                raise ValueError(f"not a sandtrace v{VERSION} message: {header!r}")
            kind, count = header[2], header[5]
            unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
            unpacker.feed(frames[1] if len(frames) > 1 else b"")
            if kind == END:
                self.end = next(iter(unpacker), None)
                self._events.send(b"ack")
                return
            if kind == EVENT_BATCH:
                for _ in range(count):
                    yield next(unpacker)
            self.flush()  # send alerts batch by batch, as the events come

    def emit(self, event):
        """Queues one event of a type of your own (a dict with "event_type")."""
        self._pending.append(event)
        if len(self._pending) >= self._batch_size:
            self.flush()

    def alert(self, rule, severity, message, event=None, **fields):
        """Queues an alert: rule id, severity (low|medium|high|critical), message, and the
        triggering event (its pid and path are copied to the alert)."""
        assert severity in SEVERITIES, severity
        alert = {"event_type": "alert", "rule": rule, "severity": severity, "message": message}
        if event is not None:
            alert["pid"] = event.get("pid", 0)
            alert["event"] = event
            path = (event.get("args") or {}).get("decoded", {}).get("path") or event.get("path")
            if path:
                alert["path"] = path
            if event.get("syscall"):
                alert["syscall"] = event["syscall"]
        alert.update(fields)
        self.emit(alert)

    def flush(self):
        if not self._pending:
            return
        body = b"".join(msgpack.packb(e, use_bin_type=True) for e in self._pending)
        self._send(EVENT_BATCH, len(self._pending), body)
        self._pending = []

    def close(self, timeout_s=5):
        """Sends what is queued and the end message, waits for sandtrace's acknowledgement."""
        self.flush()
        self._send(END, 1, msgpack.packb([0, 0, 0, 0, ""]))
        if self._alerts.poll(int(timeout_s * 1000)):
            self._alerts.recv()
        self._events.close(linger=0)
        self._alerts.close()
        self._context.term()

    def _send(self, kind, count, body):
        header = msgpack.packb([MAGIC, VERSION, kind, self._seq, self._index, count])
        self._alerts.send_multipart([header, body])
        self._seq += 1
        self._index += count if kind == EVENT_BATCH else 1
