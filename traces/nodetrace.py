"""Per-node traces for real processes: one file per node and incarnation.

In a simulation one recorder sees every actor. In a real cluster each node
process writes its own trace (``NodeTraceWriter``, the ``Sink`` its
``consensus.traced.TracedNode`` emits to), the orchestrator that injects
faults writes an environment trace (``EnvTraceWriter``), and
``traces.merge`` joins them by causality into one trace the checkers and
replay read. The server (``kv``) and the cluster tooling (``raftlab``) are
the callers.

Files are ``<dir>/n<id>.<incarnation>.trace.jsonl``, incarnation 0, 1, 2...
for each process started for the node, and ``<dir>/env.trace.jsonl``.

Why it is written this way:

- **A SIGKILL loses nothing handed to the OS.** A node trace is written
  under its final name from the start (no ``.partial`` rename: a killed
  process never renames), the header at once, and each step's events with
  one ``write(2)``, no fsync, when ``flush()`` is called. The node's
  ``TracedNode`` calls it as soon as a step's events are emitted, before the
  runtime carries out any effect (``flush_each_step``), so a message a peer
  received or a write the disk holds is never missing from the sender's
  trace; the server may call it after each runtime step too (it costs
  nothing when there is nothing new). A killed node leaves a file without a
  closing record (and perhaps a torn last line, which readers drop); a
  clean ``close()`` adds the closing record (``traces.integrity``).
- **Levels.** ``full`` writes every event as the simulator does, and more:
  the ``TracedNode`` of a ``self_contained`` sink puts each received
  message in its ``recv`` (``in.msg``), a restart's whole durable state in
  its ``restart`` (``in.state``) and the core configuration in both starts
  (``in.raft``), so ``raftlab replay`` re-runs this one file alone.
  ``state`` keeps what the checkers judge from and leaves out what only
  replay needs (``STATE_LEVEL_OMITS``); ``off`` writes no file
  (``open_node_trace`` returns None and the server passes ``sink=None``).
- **Lamport clocks continue across incarnations.** Message ids are
  ``"<src>:<lc>"``; a restarted process must not reuse one, so its clock
  starts above the largest in the node's earlier files
  (``resume_lamport``). The writer tells its ``TracedNode`` so
  (``first_lc``, ``restarted``), which also makes its first start a
  ``restart`` rather than a ``boot``.
"""

from __future__ import annotations

import os
import re
import time
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson

from traces.integrity import END_KEY, Summer
from traces.recorder import make_header

Event = dict[str, Any]

LEVELS = ("full", "state", "off")

#: The ``impl`` of the headers these writers write.
NODE_IMPL = "raftlab-node"
ENV_IMPL = "raftlab-env"

ENV_TRACE = "env.trace.jsonl"

#: What level ``state`` leaves out, for the docs and ``--help``.
STATE_LEVEL_OMITS = (
    "the random draws (rand)",
    "client command payloads (propose in.data)",
    "snapshot payloads (compact in.data, snapshot messages' data)",
    "entry payloads in append_req messages (each becomes [index, term, crc], plus 1 "
    "for a configuration entry, as in append events)",
    "received messages and restart durable state (in.msg, in.state)",
)

_NAME = re.compile(r"^n(\d+)\.(\d+)\.trace\.jsonl$")

#: Bytes read from a file's end at a time when looking for its last event.
_TAIL_CHUNK = 1 << 16


def node_trace_name(node_id: int, incarnation: int) -> str:
    return f"n{node_id}.{incarnation}.trace.jsonl"


def parse_node_trace_name(name: str) -> tuple[int, int] | None:
    """(node id, incarnation) of a node trace's file name, None for others."""
    match = _NAME.match(name)
    return (int(match[1]), int(match[2])) if match else None


def node_trace_files(directory: str | Path, node_id: int) -> list[tuple[int, Path]]:
    """The node's trace files in ``directory`` as (incarnation, path), in order."""
    found = []
    directory = Path(directory)
    if not directory.is_dir():
        return []
    for path in directory.iterdir():
        parsed = parse_node_trace_name(path.name)
        if parsed is not None and parsed[0] == node_id:
            found.append((parsed[1], path))
    return sorted(found)


def next_incarnation(directory: str | Path, node_id: int) -> int:
    """The incarnation number a newly started process of the node takes."""
    files = node_trace_files(directory, node_id)
    return files[-1][0] + 1 if files else 0


def last_lamport(path: str | Path) -> int:
    """The Lamport clock of the last whole event in a trace file (0 if none).

    A node's clock only grows, so its last event holds its largest clock;
    reading backwards from the end finds it without reading the file. A torn
    last line (a killed writer) and the closing record are skipped."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        end = size
        tail = b""
        while end > 0:
            start = max(0, end - _TAIL_CHUNK)
            f.seek(start)
            tail = f.read(end - start) + tail
            end = start
            lines = tail.split(b"\n")
            # lines[0] may be cut (unless we reached the start); the last
            # element is what follows the final newline: torn or empty.
            whole = lines[1:-1] if end > 0 else lines[:-1]
            for line in reversed(whole):
                lc = _event_lc(line)
                if lc is not None:
                    return lc
            if end > 0:
                # Keep the possibly cut first line for the next round.
                tail = lines[0]
        return 0


def _event_lc(line: bytes) -> int | None:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(event, dict) or "seq" not in event or END_KEY in event:
        return None
    lc = event.get("lc")
    return lc if type(lc) is int else None


def resume_lamport(directory: str | Path, node_id: int) -> int:
    """The largest Lamport clock in the node's trace files in ``directory``:
    a restarted process starts its clock above it."""
    return max((last_lamport(p) for _, p in node_trace_files(directory, node_id)), default=0)


# -- trimming for level "state" --------------------------------------------------


def _trim(event: Event) -> Event:
    """The event as level ``state`` writes it (a copy where anything goes)."""
    action = event["act"]
    if "rand" in event or "in" in event:
        event = dict(event)
        event.pop("rand", None)
        payload = event.get("in")
        if isinstance(payload, dict) and (
            "msg" in payload or "state" in payload or action in ("propose", "compact")
        ):
            payload = {k: v for k, v in payload.items() if k not in ("msg", "state", "data")}
            event["in"] = payload
    elif action == "send":
        msg = event.get("msg")
        if isinstance(msg, dict) and msg.get("type") in ("append_req", "snapshot"):
            event = dict(event)
            event["msg"] = _trim_message(msg)
    return event


def _trim_message(msg: Event) -> Event:
    msg = dict(msg)
    if msg.get("type") == "snapshot":
        snapshot = msg.get("snapshot")
        if isinstance(snapshot, dict):
            msg["snapshot"] = {k: v for k, v in snapshot.items() if k != "data"}
        return msg
    trimmed = []
    for entry in msg.get("entries") or ():
        if isinstance(entry, list) and len(entry) >= 3 and isinstance(entry[2], str):
            short = [entry[0], entry[1], zlib.crc32(entry[2].encode())]
            if len(entry) > 3:
                short.append(1)
            trimmed.append(short)
        else:
            trimmed.append(entry)
    msg["entries"] = trimmed
    return msg


# -- writers ---------------------------------------------------------------------


class _LineFile:
    """Lines written with one ``write(2)`` per flush, under the final name
    from the start, with the running integrity data for a closing record."""

    __slots__ = ("_fd", "_pending", "_summer", "path", "seq")

    def __init__(self, path: Path, header: Event) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Exclusive: an earlier incarnation's file is never overwritten.
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self._summer = Summer()
        line = orjson.dumps(header) + b"\n"
        self._summer.add_header(line)
        self._pending: list[bytes] = [line]
        self.seq = 0
        self.flush()  # the header at once: even a process killed at start leaves a valid file

    def add(self, event: Event) -> None:
        line = orjson.dumps(event) + b"\n"
        self._summer.add(line, event)
        self._pending.append(line)

    def flush(self) -> None:
        if not self._pending or self._fd is None:
            return
        data = memoryview(b"".join(self._pending))
        self._pending.clear()
        while data:
            written = os.write(self._fd, data)
            data = data[written:]

    def close(self, end: str = "complete", reason: str = "") -> None:
        if self._fd is None:
            return
        self._pending.append(orjson.dumps(self._summer.closing(end, reason)) + b"\n")
        self.flush()
        os.fsync(self._fd)
        self.abandon()

    def abandon(self) -> None:
        """Stop without a closing record: the file a killed process leaves
        (whatever was flushed)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class NodeTraceWriter:
    """The trace of one node process (one incarnation), implementing
    ``consensus.traced.Sink``; see the module docstring."""

    __slots__ = (
        "_file",
        "first_lc",
        "flush_each_step",
        "level",
        "node_id",
        "restarted",
        "self_contained",
    )

    def __init__(
        self,
        path: str | Path,
        node_id: int,
        level: str,
        header_fields: Mapping[str, Any] | None = None,
        *,
        incarnation: int = 0,
        first_lc: int = 0,
    ) -> None:
        """``header_fields`` describe the run (replay needs ``raft``, the
        core configuration; checkers read ``tick_us``). ``first_lc`` is
        where the node's Lamport clock resumes (``resume_lamport``);
        ``incarnation`` above 0 makes the node's first start a restart."""
        if level not in ("full", "state"):
            raise ValueError(
                f"trace level must be 'full' or 'state' for a writer, not {level!r} "
                "(level 'off' writes no file: use open_node_trace)"
            )
        self.node_id = node_id
        self.level = level
        #: Read by TracedNode (consensus/traced.py) when it is built.
        self.self_contained = level == "full"
        self.flush_each_step = True
        self.restarted = incarnation > 0
        self.first_lc = first_lc
        header = make_header(
            NODE_IMPL,
            **dict(header_fields or {}),
            node=node_id,
            incarnation=incarnation,
            level=level,
            clock="unix microseconds",
        )
        self._file = _LineFile(Path(path), header)

    @property
    def path(self) -> Path:
        return self._file.path

    def emit(self, event: Event) -> int:
        file = self._file
        file.seq += 1
        event["seq"] = file.seq
        file.add(event if self.self_contained else _trim(event))
        return file.seq

    def flush(self) -> None:
        """Hand the events emitted since the last flush to the OS (one
        ``write(2)``, no fsync): call after every runtime step."""
        self._file.flush()

    def close(self) -> None:
        """A clean stop: the closing record, then fsync."""
        self._file.close()

    def abandon(self) -> None:
        """Stop as a SIGKILL would: what was flushed stays, no closing record."""
        self._file.abandon()


def open_node_trace(
    directory: str | Path,
    node_id: int,
    level: str,
    incarnation: int | None = None,
    header_fields: Mapping[str, Any] | None = None,
) -> NodeTraceWriter | None:
    """The writer for a node process starting now, None at level ``off``.

    ``incarnation`` defaults to ``next_incarnation``; from incarnation 1 on
    the Lamport clock resumes from the node's earlier files."""
    if level not in LEVELS:
        raise ValueError(f"unknown trace level {level!r} (known: {', '.join(LEVELS)})")
    if level == "off":
        return None
    if incarnation is None:
        incarnation = next_incarnation(directory, node_id)
    first_lc = resume_lamport(directory, node_id) if incarnation > 0 else 0
    path = Path(directory) / node_trace_name(node_id, incarnation)
    return NodeTraceWriter(
        path, node_id, level, header_fields, incarnation=incarnation, first_lc=first_lc
    )


def wall_clock_us() -> int:
    return time.time_ns() // 1000


class EnvTraceWriter:
    """The orchestrator's trace of the faults it injected, written and
    flushed as each happens.

    ``crash``, ``pause`` and ``resume`` are ``env`` events; ``partition`` and
    ``heal`` are ``net`` events, as in the schema (the simulator's network
    is the actor that cuts links). A restart needs no event here: the node's
    next incarnation opens with its own ``restart`` event, and the merge
    places it after the crash."""

    __slots__ = ("_clock", "_file", "_lc")

    def __init__(
        self,
        path: str | Path,
        header_fields: Mapping[str, Any] | None = None,
        clock: Callable[[], int] = wall_clock_us,
    ) -> None:
        """``clock`` gives the time stamped on each event, in microseconds
        (the wall clock, the same the nodes stamp their events with)."""
        self._clock = clock
        self._lc: dict[str, int] = {}
        header = make_header(
            ENV_IMPL, **dict(header_fields or {}), env=True, clock="unix microseconds"
        )
        self._file = _LineFile(Path(path), header)

    @property
    def path(self) -> Path:
        return self._file.path

    def _record(
        self, actor: str, action: str, cause: int = 0, t_us: int | None = None, **fields: Any
    ) -> int:
        file = self._file
        file.seq += 1
        lc = self._lc[actor] = self._lc.get(actor, 0) + 1
        t = self._clock() if t_us is None else t_us
        event: Event = {"seq": file.seq, "t": t, "n": actor, "lc": lc, "act": action}
        if cause:
            event["cause"] = cause
        event.update(fields)
        file.add(event)
        file.flush()
        return file.seq

    def crash(self, node: int, reason: str = "crash", written: int | None = None) -> int:
        """The node's process was killed (SIGKILL). ``written``: every write
        up to this ``persist`` id is known to be on the disk (see
        docs/trace-format.md); leave it out when unknown."""
        extra = {"written": written} if written is not None else {}
        return self._record("env", "crash", node=node, reason=reason, **extra)

    def pause(self, node: int, resume_after_us: int | None = None) -> int:
        """The node's process was frozen (SIGSTOP)."""
        extra = {"resume_after_us": resume_after_us} if resume_after_us is not None else {}
        return self._record("env", "pause", node=node, **extra)

    def resume(self, node: int, pause_seq: int = 0) -> int:
        """The node's process was thawed (SIGCONT); ``pause_seq`` is what
        ``pause`` returned."""
        return self._record("env", "resume", cause=pause_seq, node=node)

    def partition(self, groups: list[list[int]], heal_after_us: int | None = None) -> int:
        """Links between ``groups`` were cut (both ways)."""
        extra = {"heal_after_us": heal_after_us} if heal_after_us is not None else {}
        return self._record(
            "net", "partition", kind="split", groups=[sorted(g) for g in groups], **extra
        )

    def one_way(self, src: list[int], dst: list[int]) -> int:
        """Messages from ``src`` to ``dst`` are lost (the other way works)."""
        cut: dict[str, Any] = {"from": sorted(src), "to": sorted(dst)}
        return self._record("net", "partition", kind="one-way", **cut)

    def heal(self) -> int:
        """Every link works again."""
        return self._record("net", "heal")

    def record(
        self, actor: str, action: str, cause: int = 0, t_us: int | None = None, **fields: Any
    ) -> int:
        """Any event of the schema's ``env`` or ``net`` vocabulary, with its
        own time if given (e.g. copied from a simulated run)."""
        return self._record(actor, action, cause, t_us, **fields)

    def close(self) -> None:
        self._file.close()

    def abandon(self) -> None:
        self._file.abandon()
