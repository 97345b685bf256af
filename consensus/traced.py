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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from consensus.codec import encode_input, encode_message
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
from traces.schema import STATE_FIELDS, node_actor

Event = dict[str, Any]


class Sink(Protocol):
    def emit(self, event: Event) -> int:
        """Store an event, assign and return its sequence number."""
        ...


class Envelope:
    """A message in flight with its trace identity."""

    __slots__ = ("mid", "msg", "seq")

    def __init__(self, msg: Any, mid: str, seq: int) -> None:
        self.msg = msg
        self.mid = mid
        self.seq = seq


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
    __slots__ = ("actor", "core", "lc", "node_id", "prev_state", "sink")

    def __init__(self, node_id: int, sink: Sink | None) -> None:
        self.node_id = node_id
        self.actor = node_actor(node_id)
        self.sink = sink
        self.core: RaftCore | None = None
        self.lc = 0
        self.prev_state: tuple[Any, ...] | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(
        self,
        core: RaftCore,
        t_us: int,
        seed: int,
        durable: DurableState,
        cause: int = 0,
        restart: bool | None = None,
    ) -> None:
        """Record a node starting: ``boot`` on first start, ``restart`` after.
        ``restart`` overrides the guess (a new process recovering its disk
        is a restart though this wrapper never saw the node run)."""
        if restart is None:
            restart = self.core is not None or self.prev_state is not None
        self.core = core
        if self.sink is None:
            return
        payload: Event = {"seed": seed}
        if restart:
            payload["durable"] = durable_summary(durable)
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
            sender_lc = int(envelope.mid.rsplit(":", 1)[1]) if envelope.mid else 0
            self.lc = max(self.lc, sender_lc) + 1
            event = self._head(t_us, "recv", now)
            event["in"] = {"mid": envelope.mid, "type": envelope.msg.KIND}
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
                on_send(Envelope(effect.msg, line["mid"], line_seq))
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
        delta: Event = {}
        for i, name in enumerate(STATE_FIELDS):
            value = state[i]
            if prev is None or prev[i] != value:
                delta[name] = value.to_json() if isinstance(value, Membership) else value
        self.prev_state = state
        if delta:
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
        if isinstance(effect, Note):
            base["act"] = effect.action
            base.update(effect.detail)
        elif isinstance(effect, Send):
            base["act"] = "send"
            base["mid"] = f"{self.node_id}:{self.lc}"
            base["msg"] = encode_message(effect.msg)
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
