"""A core together with what its trace needs.

``TracedNode`` wraps one node's successive cores (a restart makes a new core,
the trace identity stays) and writes each step as trace events: the input
event, then one event per effect. The same class renders steps during replay,
so recording and replay cannot drift apart.

Tracing off costs nothing but one attribute test per step: with no sink the
wrapper calls ``core.step`` and returns.

Message ids are ``"<src>:<lc>"``, the sender's node id and the Lamport clock
of its send event. Lamport clocks only grow (across restarts too, since the
wrapper outlives the core), so ids are unique without coordination, and a
receiver reads the sender's clock straight from the id.

A real process writes its own trace file per incarnation
(``traces.nodetrace``). Two things then come from the sink rather than from
this object's history: a process that restarts after a crash is a new
``TracedNode``, so its sink says where the Lamport clock resumes and that
the next start is a ``restart`` (``first_lc``, ``restarted``); and a trace
that must replay on its own, without the senders' files, carries each
received message and the durable state a restart began from
(``self_contained``: ``in.msg`` on ``recv``, ``in.state`` on ``restart``,
``in.raft``, the core configuration, on both starts);
and a sink with ``flush_each_step`` has its ``flush()`` called once each
step's events are emitted, before the driver acts on the step's effects.
Sinks without these attributes (the simulator's recorders) get the defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from consensus.codec import (
    CodecError,
    decode_entry,
    decode_snapshot,
    encode_entry,
    encode_input,
    encode_message,
    encode_snapshot,
)
from consensus.core import DurableState, RaftCore
from consensus.effects import (
    Accepted,
    Effect,
    Note,
    Persist,
    ReadReady,
    ReadRefused,
    Refused,
    Send,
)
from consensus.errors import PeerError
from consensus.inputs import Input
from consensus.membership import Membership
from consensus.records import HardState
from traces.schema import STATE_FIELDS, node_actor

Event = dict[str, Any]


class Sink(Protocol):
    def emit(self, event: Event) -> int:
        """Store an event, assign and return its sequence number."""
        ...


class Envelope:
    """A message in flight with its trace identity."""

    __slots__ = ("lc", "mid", "msg", "seq")

    def __init__(self, msg: Any, mid: str, seq: int, lc: int = -1) -> None:
        self.msg = msg
        self.mid = mid
        self.seq = seq
        #: The sender's Lamport clock, the number after the colon in ``mid``
        #: (-1: not known, read from ``mid``): set by the tracer that sent
        #: it, which saves the receiver parsing it back out of the string.
        self.lc = lc


def encode_durable(durable: DurableState) -> Event:
    """The whole durable state as JSON (``in.state`` of a self-contained
    ``restart``): hard state, snapshot and every log entry after it."""
    hs = durable.hard_state
    return {
        "hs": [hs.term, hs.vote, hs.commit],
        "snapshot": encode_snapshot(durable.snapshot),
        "entries": [encode_entry(e) for e in durable.entries],
    }


def decode_durable(raw: Any) -> DurableState:
    """The inverse of ``encode_durable``; ``CodecError`` if ``raw`` is not one."""
    if not isinstance(raw, dict):
        raise CodecError(f"durable state must be an object: {raw!r}")
    hs = raw.get("hs")
    if not (isinstance(hs, list) and len(hs) == 3 and all(type(x) is int for x in hs)):
        raise CodecError(f"durable state 'hs' must be [term, vote, commit]: {hs!r}")
    entries = raw.get("entries")
    if not isinstance(entries, list):
        raise CodecError(f"durable state 'entries' must be a list: {entries!r}")
    return DurableState(
        HardState(hs[0], hs[1], hs[2]),
        decode_snapshot(raw.get("snapshot")),
        tuple(decode_entry(e) for e in entries),
    )


def durable_summary(durable: DurableState) -> dict[str, int]:
    hs, snap = durable.hard_state, durable.snapshot
    last = durable.entries[-1] if durable.entries else None
    return {
        "term": hs.term,
        "vote": hs.vote,
        "commit": hs.commit,
        "snap": snap.index,
        "last": last.index if last else snap.index,
    }


class TracedNode:
    __slots__ = (
        "actor",
        "core",
        "flush",
        "lc",
        "node_id",
        "prev_state",
        "ran_before",
        "self_contained",
        "sink",
    )

    def __init__(self, node_id: int, sink: Sink | None) -> None:
        self.node_id = node_id
        self.actor = node_actor(node_id)
        self.sink = sink
        self.core: RaftCore | None = None
        self.lc = 0
        self.prev_state: tuple[Any, ...] | None = None
        #: This node ran before (in an earlier process): its next start is a restart.
        self.ran_before = False
        #: Write received messages and a restart's durable state into the trace.
        self.self_contained = bool(getattr(sink, "self_contained", False))
        #: Called once a step's events are all emitted, before the driver
        #: carries out any of its effects: a process killed at any point
        #: leaves in its trace every step whose effects it began.
        self.flush: Callable[[], None] | None = (
            sink.flush if getattr(sink, "flush_each_step", False) else None  # type: ignore[union-attr]
        )
        if getattr(sink, "restarted", False):
            self.resume(int(getattr(sink, "first_lc", 0)))

    def resume(self, lc: int) -> None:
        """Continue a node that ran in an earlier process, whose last event
        had Lamport clock ``lc``: the clock goes on above it (message ids
        stay unique) and the next ``start`` is recorded as a ``restart``."""
        self.lc = max(self.lc, lc)
        self.ran_before = True

    # -- lifecycle ---------------------------------------------------------

    def start(
        self,
        core: RaftCore,
        t_us: int,
        seed: int,
        durable: DurableState,
        cause: int = 0,
    ) -> None:
        """Record a node starting: ``boot`` on first start, ``restart`` after
        (also in a new process whose sink says an earlier incarnation ran:
        ``ran_before``)."""
        restart = self.core is not None or self.prev_state is not None or self.ran_before
        self.core = core
        if self.sink is None:
            return
        payload: Event = {"seed": seed}
        if self.self_contained:
            payload["raft"] = core.config.to_json()  # the file replays without its header's
        if restart:
            payload["durable"] = durable_summary(durable)
            if self.self_contained:
                payload["state"] = encode_durable(durable)
        else:
            payload["conf"] = durable.snapshot.membership.to_json()
        self.prev_state = None  # a (re)start event carries the full state
        self.lc += 1
        event = self._head(t_us, "restart" if restart else "boot", core.now)
        event["in"] = payload
        if cause:
            event["cause"] = cause
        self._finish_input(event, core)
        self.sink.emit(event)
        if self.flush is not None:
            self.flush()

    def stop(self) -> None:
        """The node crashed or was shut down: its volatile state is gone."""
        self.core = None

    # -- steps ---------------------------------------------------------------

    def step(
        self,
        t_us: int,
        now: int,
        inp: Input,
        envelope: Envelope | None = None,
        cause: int = 0,
        on_send: Callable[[Envelope], None] | None = None,
    ) -> list[Effect]:
        """Step the core; with a sink, write the step to the trace.

        ``envelope`` is the delivered message's envelope for ``Receive``.
        ``on_send`` (if given) receives every outgoing message's envelope, in
        order, before this returns.
        """
        core = self.core
        assert core is not None, "step on a stopped node"
        error = ""
        try:
            effects = core.step(now, inp)
        except PeerError as err:
            effects = list(err.effects)  # type: ignore[arg-type]
            error = str(err)
        sink = self.sink
        if sink is None:
            if on_send is not None:
                for effect in effects:
                    if isinstance(effect, Send):
                        on_send(Envelope(effect.msg, "", 0))
            return effects
        if envelope is not None:
            sender_lc = envelope.lc
            if sender_lc < 0:
                sender_lc = int(envelope.mid.rsplit(":", 1)[1]) if envelope.mid else 0
            self.lc = max(self.lc, sender_lc) + 1
            event = self._head(t_us, "recv", now)
            event["in"] = {"mid": envelope.mid, "type": envelope.msg.KIND}
            if self.self_contained:
                event["in"]["msg"] = encode_message(envelope.msg)
            if envelope.seq:
                event["cause"] = envelope.seq
        else:
            self.lc += 1
            action, payload = encode_input(inp)
            event = self._head(t_us, action, now)
            if payload is not None:
                event["in"] = payload
            if cause:
                event["cause"] = cause
        if error:
            event["error"] = error
        self._finish_input(event, core)
        seq = sink.emit(event)
        for effect in effects:
            line = self._effect_event(effect, t_us, seq)
            if line is None:
                continue
            line_seq = sink.emit(line)
            if on_send is not None and isinstance(effect, Send):
                on_send(Envelope(effect.msg, line["mid"], line_seq, line["lc"]))
        if self.flush is not None:
            self.flush()
        if error:
            failure = PeerError(error)
            failure.effects = effects
            raise failure
        return effects

    # -- rendering -------------------------------------------------------------

    def _head(self, t_us: int, action: str, now: int) -> Event:
        core = self.core
        assert core is not None
        return {
            "seq": 0,
            "t": t_us,
            "n": self.actor,
            "lc": self.lc,
            "term": core.term,
            "act": action,
            "tk": now,
        }

    def _finish_input(self, event: Event, core: RaftCore) -> None:
        event["term"] = core.term
        if core.draws:
            event["rand"] = list(core.draws)
        state = core.spec_state()
        prev = self.prev_state
        if state != prev:  # most steps change none of it: one tuple comparison
            delta: Event = {}
            for i, name in enumerate(STATE_FIELDS):
                value = state[i]
                if prev is None or prev[i] != value:
                    delta[name] = value.to_json() if isinstance(value, Membership) else value
            self.prev_state = state
            event["st"] = delta
        event["dg"] = core.digest()

    def _effect_event(self, effect: Effect, t_us: int, cause: int) -> Event | None:
        self.lc += 1
        core = self.core
        assert core is not None
        base: Event = {
            "seq": 0,
            "t": t_us,
            "n": self.actor,
            "lc": self.lc,
            "term": core.term,
            "cause": cause,
        }
        if isinstance(effect, Send):  # the commonest effect first
            base["act"] = "send"
            base["mid"] = f"{self.node_id}:{self.lc}"
            base["msg"] = encode_message(effect.msg)
        elif isinstance(effect, Note):
            base["act"] = effect.action
            base.update(effect.detail)
        elif isinstance(effect, Persist):
            base["act"] = "persist"
            base["id"] = effect.id
            hs = effect.hard_state
            base["hs"] = [hs.term, hs.vote, hs.commit]
            if effect.entries:
                base["entries"] = [effect.entries[0].index, effect.entries[-1].index]
            if effect.snapshot is not None:
                base["snap"] = effect.snapshot.index
        elif isinstance(effect, Accepted):
            base["act"] = "accepted"
            base["index"] = effect.index
        elif isinstance(effect, Refused):
            base["act"] = "refused"
            base["reason"] = effect.reason
            base["leader"] = effect.leader
        elif isinstance(effect, ReadReady):
            base["act"] = "read_ready"
            base["ctx"] = effect.ctx
            base["index"] = effect.index
        elif isinstance(effect, ReadRefused):
            base["act"] = "read_refused"
            base["ctx"] = effect.ctx
            base["reason"] = effect.reason
            base["leader"] = effect.leader
        else:
            # ApplyEntries and RestoreSnapshot are described by the apply and
            # snapshot_install notes that precede them.
            self.lc -= 1
            return None
        return base
