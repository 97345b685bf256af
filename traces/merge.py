"""Merging per-node traces into one trace, by causality.

A real cluster leaves one trace per node process (``traces.nodetrace``: one
file per node and incarnation), an environment trace of the faults the
orchestrator injected, and a client history. ``merge_traces`` joins them into
the one trace ``raftlab check`` and ``raftlab replay`` read. The callers are
``raftlab trace merge`` and the experiment runner.

Theory of operation
-------------------
The inputs are streams whose own order is fixed: a node incarnation's steps
(an input event and the effects it caused, never split), the environment's
events, the history's lines. The merge repeatedly emits the stream head that
comes first by wall time among the heads that are *ready*, so wall time only
breaks ties that causality leaves open:

- a ``recv`` is ready once the ``send`` with its message id was emitted (its
  Lamport clock must be above the send's, or the inputs are inconsistent);
- an incarnation's first step is ready once the previous incarnation of the
  node was emitted whole, and after the ``crash`` that ended it;
- a ``crash`` is ready once the incarnation it ends (the one running at the
  crash's wall time) was emitted whole.

If no head is ready while some remain, the inputs contradict each other and
the merge says where. Ranks of the streams (node id, incarnation, then the
environment, then clients) break the remaining ties, so the result does not
depend on the order the files were given in.

What a real node cannot write, the merge derives from evidence: a ``crash``
(``inferred``) between two incarnations no environment event separates; the
writes that reached the disk unacknowledged before a crash, from the
restart's durable state (``written``, with ``written_inferred``); a
``duplicate`` (``inferred``) for a message received more than once; causes
across files (``recv`` -> its ``send``, ``restart`` -> its ``crash``,
``complete`` -> its ``invoke``); client ``invoke``/``complete`` events from
the history. A message whose ``send`` is missing because its sender was
killed before writing it is not an error: the receiver's ``recv`` keeps the
message it carries (level ``full``), the rest of the time it is dropped as
the ``send`` holds it. Sequence numbers are renumbered; node Lamport clocks
are kept; the Lamport clocks of ``env``, ``net`` and ``client`` events are
renumbered per actor in merged order.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson

from traces.nodetrace import ENV_TRACE, parse_node_trace_name
from traces.reader import TraceError, open_trace
from traces.recorder import FileRecorder, make_header
from traces.schema import INPUT_ACTIONS, node_actor

Event = dict[str, Any]
Key = tuple[Any, ...]

MERGE_IMPL = "raftlab-merge"

#: Header fields that describe one input file, not the run.
_PER_FILE = ("schema", "version", "impl", "node", "incarnation", "level", "clock", "env")


@dataclass(slots=True)
class _Stream:
    rank: tuple[int, int, int]
    where: str
    kind: str  # node, env, client
    node: int = 0
    incarnation: int = 0
    ending: str = "complete"
    units: list[list[Event]] = field(default_factory=list)
    #: Per unit, the keys that must be satisfied before it is emitted.
    needs: list[list[Key]] = field(default_factory=list)
    pos: int = 0
    #: (seq in the file) -> seq in the merged trace.
    renumbered: dict[int, int] = field(default_factory=dict)

    def line(self, event: Event) -> int:
        """The line of ``event`` in its file (the header is line 1)."""
        return int(event.get("seq", 0)) + 1 if self.kind != "client" else int(event["_line"])

    @property
    def first_lc(self) -> int:
        return self.units[0][0]["lc"] if self.units else 0

    @property
    def last_lc(self) -> int:
        return self.units[-1][-1]["lc"] if self.units else 0


def expand_inputs(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; a directory stands for its node traces and env trace."""
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.resolve() in seen:
            continue  # a file given again, or also inside a directory given
        seen.add(path.resolve())
        if path.is_dir():
            inside = sorted(
                p
                for p in path.iterdir()
                if parse_node_trace_name(p.name) is not None or p.name == ENV_TRACE
            )
            if not inside:
                raise TraceError(str(path), 0, "no node traces (n<id>.<incarnation>.trace.jsonl)")
            found.extend(p for p in inside if p.resolve() not in seen)
            seen.update(p.resolve() for p in inside)
        else:
            found.append(path)
    return found


# -- reading ---------------------------------------------------------------------


def _read(path: Path) -> tuple[Event, list[Event], str]:
    """Header, events and the ending of one input file."""
    header, stream = open_trace(path)
    events = list(stream)
    integrity = stream.drain()
    where = str(path)
    if integrity.state == "tampered":
        raise TraceError(where, 0, f"the file was modified after writing ({integrity.message})")
    if integrity.state == "truncated":
        ending = f"killed: no closing record, last whole event seq {integrity.last_seq}"
    elif integrity.state == "complete":
        ending = "complete"
    else:
        ending = integrity.message
    return header, events, ending


def _node_stream(path: Path, header: Event, events: list[Event], ending: str) -> _Stream:
    where = str(path)
    node, incarnation = header.get("node"), header.get("incarnation", 0)
    if type(node) is not int or type(incarnation) is not int:
        raise TraceError(where, 1, "a node trace's header needs integer 'node' and 'incarnation'")
    actor = node_actor(node)
    stream = _Stream((0, node, incarnation), where, "node", node, incarnation, ending)
    last_lc = -1
    for event in events:
        line = event["seq"] + 1
        if event["n"] != actor:
            raise TraceError(where, line, f"an event of {event['n']} in the trace of {actor}")
        if event["lc"] <= last_lc:
            raise TraceError(
                where, line, f"Lamport clock {event['lc']} does not grow (previous {last_lc})"
            )
        last_lc = event["lc"]
        action = event["act"]
        if action == "send" and event.get("mid") != f"{node}:{event['lc']}":
            raise TraceError(
                where, line, f"send has message id {event.get('mid')!r}, not '{node}:{event['lc']}'"
            )
        if action == "recv":
            mid = (event.get("in") or {}).get("mid")
            if not isinstance(mid, str) or not _parse_mid(mid):
                raise TraceError(where, line, f"recv has no valid message id: {mid!r}")
        if action in INPUT_ACTIONS:
            stream.units.append([event])
        elif stream.units and event.get("cause") == stream.units[-1][0]["seq"]:
            stream.units[-1].append(event)
        else:
            raise TraceError(
                where, line, f"{action} is neither an input nor an effect of the step before it"
            )
    stream.needs = [[] for _ in stream.units]
    return stream


def _parse_mid(mid: str) -> tuple[int, int] | None:
    src, _, lc = mid.partition(":")
    return (int(src), int(lc)) if src.isdigit() and lc.isdigit() else None


def _env_stream(path: Path, events: list[Event], ending: str) -> _Stream:
    stream = _Stream((1, 0, 0), str(path), "env", ending=ending)
    for event in events:
        if event["n"] not in ("env", "net"):
            raise TraceError(
                str(path), event["seq"] + 1, f"an event of {event['n']} in an environment trace"
            )
        stream.units.append([event])
    stream.needs = [[] for _ in stream.units]
    return stream


def _history_stream(path: Path) -> _Stream:
    where = str(path)
    stream = _Stream((2, 0, 0), where, "client")
    try:
        raw_lines = path.read_bytes().splitlines()
    except OSError as err:
        raise TraceError(where, 0, f"cannot open: {err.strerror or err}") from None
    offset = 0
    last = None
    for number, raw in enumerate(raw_lines, 1):
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            raise TraceError(where, number, f"malformed JSON: {err}") from None
        if not isinstance(record, dict):
            raise TraceError(where, number, "a history line must be a JSON object")
        if number == 1 and "history" in record:
            # The client library's clock is monotonic time since started_unix_ns.
            started = record.get("started_unix_ns", 0)
            offset = started // 1000 if type(started) is int else 0
            continue
        kind, when = record.get("type"), record.get("time")
        if kind not in ("invoke", "ok", "fail", "info"):
            raise TraceError(where, number, f"type must be invoke, ok, fail or info: {kind!r}")
        if type(when) is not int:
            raise TraceError(where, number, f"merging needs an integer 'time', got {when!r}")
        if last is not None and when < last:
            raise TraceError(where, number, f"time {when} is before the line above ({last})")
        last = when
        event: Event = {"seq": 0, "t": when + offset, "n": "client", "lc": 0, "_line": number}
        event["act"] = "invoke" if kind == "invoke" else "complete"
        event["client"] = record.get("client")
        if kind != "invoke":
            event["type"] = kind
        event.update(f=record.get("f"), key=record.get("key"), value=record.get("value"))
        stream.units.append([event])
    stream.needs = [[] for _ in stream.units]
    return stream


# -- the merge -------------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    streams: list[_Stream]
    sends: dict[str, tuple[_Stream, Event]] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)
    #: (node, incarnation) -> the crash event that ends it.
    crash_of: dict[tuple[int, int], Event] = field(default_factory=dict)


def merge_traces(
    paths: Iterable[str | Path], history: str | Path | None = None
) -> tuple[Event, list[Event]]:
    """The merged trace's header and events (see the module docstring).
    Bad input raises ``TraceError`` naming the file and line."""
    files = expand_inputs(paths)
    if not files:
        raise TraceError("<merge>", 0, "no input traces")
    streams: list[_Stream] = []
    headers: list[tuple[_Stream, Event]] = []
    env_seen = False
    for path in files:
        header, events, ending = _read(path)
        if header.get("env") is True:
            if env_seen:
                raise TraceError(str(path), 1, "a second environment trace (give one)")
            env_seen = True
            streams.append(_env_stream(path, events, ending))
        elif "node" in header:
            stream = _node_stream(path, header, events, ending)
            streams.append(stream)
            headers.append((stream, header))
        else:
            raise TraceError(
                str(path), 1, "not a per-node or environment trace (its header names no node)"
            )
    if not headers:
        raise TraceError(str(files[0]), 0, "no node traces among the inputs")
    if history is not None:
        streams.append(_history_stream(Path(history)))
    streams.sort(key=lambda s: s.rank)
    _check_incarnations(streams)
    plan = _Plan(streams)
    _link_messages(plan)
    _link_crashes(plan)
    events = _schedule(plan)
    header = _header(headers, streams, history)
    return header, _rebase(header, events)


def _rebase(header: Event, events: list[Event]) -> list[Event]:
    """Times from the first event on: a real run's wall clock in
    microseconds since the epoch becomes time since the run began, as in a
    simulation (the checkers' time windows open at 0); the header keeps the
    origin."""
    if not events:
        return events
    t0 = min(e["t"] for e in events)
    header["t0_unix_us"] = t0
    header["clock"] = "microseconds since t0_unix_us"
    for event in events:
        event["t"] -= t0
    return events


def _check_incarnations(streams: list[_Stream]) -> None:
    """One file per incarnation; each incarnation's clock above the last one's."""
    files: dict[tuple[int, int], str] = {}
    previous: _Stream | None = None  # the node's last incarnation with events
    for stream in streams:
        if stream.kind != "node":
            continue
        key = (stream.node, stream.incarnation)
        if key in files:
            raise TraceError(
                stream.where,
                1,
                f"n{stream.node} incarnation {stream.incarnation} is also {files[key]}",
            )
        files[key] = stream.where
        if previous is not None and previous.node != stream.node:
            previous = None
        if previous is not None and stream.units and stream.first_lc <= previous.last_lc:
            raise TraceError(
                stream.where,
                2,
                f"the Lamport clock starts at {stream.first_lc}, not above the last of the "
                f"node's previous incarnation ({previous.last_lc} in {previous.where})",
            )
        if stream.units:
            previous = stream


def _link_messages(plan: _Plan) -> None:
    """Index the sends, make each recv wait for its send, check the clocks."""
    nodes = [s for s in plan.streams if s.kind == "node"]
    for stream in nodes:
        for unit in stream.units:
            for event in unit:
                if event["act"] != "send":
                    continue
                mid = event["mid"]
                if mid in plan.sends:
                    other = plan.sends[mid][0]
                    raise TraceError(
                        stream.where,
                        stream.line(event),
                        f"message id {mid} is also sent in {other.where}",
                    )
                plan.sends[mid] = (stream, event)
    for stream in nodes:
        for i, unit in enumerate(stream.units):
            head = unit[0]
            if head["act"] != "recv":
                continue
            mid = head["in"]["mid"]
            plan.received[mid] = plan.received.get(mid, 0) + 1
            src, send_lc = _parse_mid(mid) or (0, 0)
            found = plan.sends.get(mid)
            if head["lc"] <= send_lc:
                sent_at = f" ({found[0].where}:{found[0].line(found[1])})" if found else ""
                raise TraceError(
                    stream.where,
                    stream.line(head),
                    f"recv of message {mid} has Lamport clock {head['lc']}, not above its "
                    f"send's {send_lc}{sent_at}: the clocks are inconsistent",
                )
            if found is not None:
                stream.needs[i].append(("mid", mid))
            elif not any(s.node == src for s in nodes):
                raise TraceError(
                    stream.where,
                    stream.line(head),
                    f"recv of message {mid} from n{src}, which has no trace among the inputs",
                )
            elif not _lost_in_kill(nodes, src, send_lc):
                raise TraceError(
                    stream.where,
                    stream.line(head),
                    f"recv of message {mid}, which n{src}'s traces do not send although they "
                    "are complete around that Lamport clock",
                )


def _lost_in_kill(nodes: list[_Stream], src: int, lc: int) -> bool:
    """Whether a send of ``src`` at Lamport clock ``lc`` may be missing
    because its process was killed before writing it: an incarnation without
    a closing record had started by then and the next had not."""
    mine = [s for s in nodes if s.node == src]
    for i, stream in enumerate(mine):
        later = mine[i + 1] if i + 1 < len(mine) else None
        started = not stream.units or stream.first_lc <= lc
        before_next = later is None or not later.units or lc < later.first_lc
        if started and before_next and stream.ending != "complete":
            return True
    return False


def _link_crashes(plan: _Plan) -> None:
    """Tie each crash to the incarnation it ends; infer the crashes no
    environment event records between two incarnations."""
    by_node: dict[int, list[_Stream]] = {}
    for stream in plan.streams:
        if stream.kind == "node":
            by_node.setdefault(stream.node, []).append(stream)
    env = next((s for s in plan.streams if s.kind == "env"), None)
    if env is not None:
        for i, unit in enumerate(env.units):
            event = unit[0]
            node = event.get("node")
            if event["act"] != "crash" or type(node) is not int or node not in by_node:
                continue
            running = [s for s in by_node[node] if s.units and s.units[0][0]["t"] <= event["t"]]
            if not running:
                continue
            ended = running[-1]
            if (node, ended.incarnation) in plan.crash_of:
                continue
            plan.crash_of[(node, ended.incarnation)] = event
            env.needs[i].append(("done", node, ended.incarnation))
    inferred = 0
    for node, incarnations in sorted(by_node.items()):
        for ended, following in pairwise(incarnations):
            key = (node, ended.incarnation)
            if key not in plan.crash_of:
                last_t = ended.units[-1][-1]["t"] if ended.units else 0
                crash: Event = {"seq": 0, "t": last_t, "n": "env", "lc": 0, "act": "crash"}
                crash.update(
                    node=node,
                    reason="crash" if ended.ending != "complete" else "stopped",
                    inferred=True,
                )
                inferred += 1
                stream = _Stream((1, 1, inferred), "<inferred>", "env")
                stream.units = [[crash]]
                stream.needs = [[("done", node, ended.incarnation)]]
                plan.streams.append(stream)
                plan.crash_of[key] = crash
            if following.units:
                following.needs[0].append(("done", node, ended.incarnation))
                following.needs[0].append(("crash", node, ended.incarnation))
                _infer_written(plan.crash_of[key], ended, following)
    plan.streams.sort(key=lambda s: s.rank)


def _infer_written(crash: Event, ended: _Stream, following: _Stream) -> None:
    """Say in the crash which unacknowledged writes reached the disk, when
    the restart shows it (the ``written`` field, docs/trace-format.md).

    A process may die after a write reached the disk and before its
    ``persisted`` step, so its trace says nothing of it; the next
    incarnation's ``restart`` reports the durable state it found. The
    writes a crash keeps are a prefix of those pending (a log loses a
    suffix), so the longest prefix whose last hard state and log end match
    the restart's claim is the one that reached the disk. No prefix that
    matches: nothing is inferred, and the checkers judge the claim."""
    first = following.units[0][0]
    claim = (first.get("in") or {}).get("durable") if first["act"] == "restart" else None
    if not isinstance(claim, dict) or "written" in crash:
        return
    acked = 0
    writes: list[Event] = []
    for unit in ended.units:
        for event in unit:
            if event["act"] == "persisted":
                acked = max(acked, (event.get("in") or {}).get("id", 0))
            elif event["act"] == "persist":
                writes.append(event)
    pending = [w for w in writes if w.get("id", 0) > acked]
    hard = [claim.get("term"), claim.get("vote"), claim.get("commit")]
    found = None
    last_entry = None
    for write in pending:
        entries = write.get("entries")
        if isinstance(entries, list) and len(entries) == 2:
            last_entry = entries[1]
        if write.get("hs") == hard and last_entry in (None, claim.get("last")):
            found = write.get("id")
    if found is not None:
        crash["written"] = found
        crash["written_inferred"] = True


class _Emitter:
    """Renumbers what is emitted and fills in causes across files."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.out: list[Event] = []
        self.send_seq: dict[str, int] = {}
        self.crash_seq: dict[tuple[int, int], int] = {}
        self.open_invokes: dict[Any, int] = {}
        self.lc: dict[str, int] = {}

    def emit_unit(self, stream: _Stream, unit: list[Event]) -> list[Key]:
        """Emit ``unit``; the keys it satisfies."""
        done: list[Key] = []
        duplicated: list[tuple[Event, int]] = []
        for event in unit:
            new = self._convert(stream, event)
            self.out.append(new)
            if "seq" in event:
                stream.renumbered[event["seq"]] = new["seq"]
            if event["act"] == "send":
                self.send_seq[event["mid"]] = new["seq"]
                done.append(("mid", event["mid"]))
                copies = self.plan.received.get(event["mid"], 0)
                duplicated.extend([(event, new["seq"])] * (copies - 1))
            elif event["act"] == "crash" and stream.kind == "env":
                done.extend(self._crash_keys(event, new["seq"]))
        # After the step, never inside it: a step's events stay together.
        for event, seq in duplicated:
            self._derived_duplicate(event, seq)
        return done

    def _crash_keys(self, event: Event, seq: int) -> list[Key]:
        for (node, incarnation), crash in self.plan.crash_of.items():
            if crash is event:
                self.crash_seq[(node, incarnation)] = seq
                return [("crash", node, incarnation)]
        return []

    def _derived_duplicate(self, send: Event, send_seq: int) -> None:
        msg = send.get("msg") or {}
        event: Event = {"seq": len(self.out) + 1, "t": send["t"], "n": "net"}
        event.update(lc=self._next_lc("net"), act="duplicate", cause=send_seq, mid=send["mid"])
        event.update(src=msg.get("src"), dst=msg.get("dst"), inferred=True)
        self.out.append(event)

    def _next_lc(self, actor: str) -> int:
        lc = self.lc[actor] = self.lc.get(actor, 0) + 1
        return lc

    def _convert(self, stream: _Stream, event: Event) -> Event:
        new = {k: v for k, v in event.items() if k != "_line"}
        new["seq"] = len(self.out) + 1
        cause = new.pop("cause", 0)
        action = event["act"]
        if stream.kind == "node":
            if action not in INPUT_ACTIONS:
                new["cause"] = stream.renumbered[cause]
            elif action == "recv":
                mid = event["in"]["mid"]
                send_seq = self.send_seq.get(mid)
                if send_seq is not None:
                    new["cause"] = send_seq
                    if "msg" in event["in"]:  # the send holds it
                        new["in"] = {k: v for k, v in event["in"].items() if k != "msg"}
            elif action == "restart":
                crash_seq = self.crash_seq.get((stream.node, stream.incarnation - 1))
                if crash_seq is not None:
                    new["cause"] = crash_seq
            return new
        new["lc"] = self._next_lc(event["n"])
        if stream.kind == "client":
            client = event.get("client")
            client_key = orjson.dumps(client)
            if action == "invoke":
                self.open_invokes[client_key] = new["seq"]
            elif client_key in self.open_invokes:
                new["cause"] = self.open_invokes.pop(client_key)
        elif cause and cause in stream.renumbered:
            new["cause"] = stream.renumbered[cause]
        return new


def _schedule(plan: _Plan) -> list[Event]:
    emitter = _Emitter(plan)
    satisfied: set[Key] = set()
    waiting: dict[Key, list[int]] = {}
    streams = plan.streams
    heap: list[tuple[int, tuple[int, int, int], int]] = []

    def push(index: int) -> None:
        stream = streams[index]
        if stream.pos < len(stream.units):
            heapq.heappush(heap, (stream.units[stream.pos][0]["t"], stream.rank, index))
        elif stream.kind == "node":
            satisfy(("done", stream.node, stream.incarnation))

    def satisfy(key: Key) -> None:
        satisfied.add(key)
        for index in waiting.pop(key, ()):
            push(index)

    for index in range(len(streams)):
        push(index)
    while heap:
        _, _, index = heapq.heappop(heap)
        stream = streams[index]
        blocker = next((k for k in stream.needs[stream.pos] if k not in satisfied), None)
        if blocker is not None:
            waiting.setdefault(blocker, []).append(index)
            continue
        keys = emitter.emit_unit(stream, stream.units[stream.pos])
        stream.pos += 1
        for key in keys:
            satisfy(key)
        push(index)
    stuck = [s for s in streams if s.pos < len(s.units)]
    if stuck:
        raise _deadlock(stuck)
    return emitter.out


def _deadlock(stuck: list[_Stream]) -> TraceError:
    first = stuck[0]
    head = first.units[first.pos][0]
    waits = []
    for stream in stuck[:4]:
        unit_head = stream.units[stream.pos][0]
        needs = ", ".join(" ".join(map(str, k)) for k in stream.needs[stream.pos])
        waits.append(f"{stream.where}:{stream.line(unit_head)} waits for {needs}")
    return TraceError(
        first.where,
        first.line(head),
        "cannot order the traces, they contradict each other: " + "; ".join(waits),
    )


# -- the merged header and file --------------------------------------------------------


def _header(
    headers: list[tuple[_Stream, Event]], streams: list[_Stream], history: str | Path | None
) -> Event:
    headers.sort(key=lambda sh: sh[0].rank)
    first_stream, first = headers[0]
    for stream, header in headers[1:]:
        if header.get("raft") != first.get("raft"):
            raise TraceError(
                stream.where,
                1,
                f"its raft configuration differs from {first_stream.where}'s",
            )
    merged: Event = {k: v for k, v in first.items() if k not in _PER_FILE}
    if "raft" not in merged:
        raft = _start_config(streams)
        if raft is not None:
            merged["raft"] = raft
    nodes = {s.node for s, _ in headers}
    for _, header in headers:
        listed = header.get("nodes")
        if isinstance(listed, list):
            nodes.update(n for n in listed if type(n) is int)
    levels = {header.get("level", "full") for _, header in headers}
    merged.update(
        nodes=sorted(nodes),
        level="state" if "state" in levels else "full",
        clock=first.get("clock", "unix microseconds"),
        inputs=[
            {
                "file": s.where,
                "kind": s.kind,
                **({"node": s.node, "incarnation": s.incarnation} if s.kind == "node" else {}),
                "events": sum(len(u) for u in s.units),
                "ending": s.ending,
            }
            for s in streams
            if s.where != "<inferred>"
        ],
    )
    if history is not None:
        merged["history"] = str(history)
    return make_header(MERGE_IMPL, **merged)


def _start_config(streams: list[_Stream]) -> Any:
    """The core configuration the nodes' self-contained starts carry (their
    headers may not), checked to be one and the same."""
    found: tuple[_Stream, Event] | None = None
    for stream in streams:
        for unit in stream.units if stream.kind == "node" else ():
            head = unit[0]
            raft = (
                (head.get("in") or {}).get("raft") if head["act"] in ("boot", "restart") else None
            )
            if raft is None:
                continue
            if found is None:
                found = (stream, raft)
            elif raft != found[1]:
                raise TraceError(
                    stream.where,
                    stream.line(head),
                    f"the node starts with another raft configuration than in {found[0].where}",
                )
    return found[1] if found is not None else None


def write_merged(path: str | Path, header: Event, events: list[Event]) -> Path:
    """Write a merged trace (closing record included; ``-`` is stdout)."""
    recorder = FileRecorder(path, header)
    try:
        for event in events:
            recorder.emit(event)
    except BaseException:
        recorder.abort("failed")
        raise
    return recorder.close()
