"""Re-running a trace's node steps on fresh cores.

Plugs into ``traces.replay`` (which knows the trace model, not Raft). The
replayer keeps, per node, a ``TracedNode`` (the same renderer the recording
used), a ``MemoryStorage`` that receives each write when its ``Persisted``
input is replayed (exactly when the simulator's disk made it durable), and
the recorded messages still in flight, so a ``recv`` can be re-fed the very
message that was sent.

A node's own trace file (``traces.nodetrace`` at level ``full``) replays
alone: its ``recv`` events carry the message (``in.msg``) and its
``restart`` the durable state it began from (``in.state``), so neither the
senders' files nor the earlier incarnations are needed. A start also sets
the Lamport clock where the recording had it: a new process resumes its
clock from its earlier files, which is the process's choice, not the core's.
"""

from __future__ import annotations

from typing import Any

from consensus.codec import CodecError, decode_input, decode_message
from consensus.config import RaftConfig
from consensus.core import DurableState, RaftCore
from consensus.effects import Persist
from consensus.errors import PeerError, RaftError
from consensus.inputs import Persisted, Receive
from consensus.membership import Membership
from consensus.storage import MemoryStorage
from consensus.traced import Envelope, TracedNode, decode_durable, durable_summary
from traces.schema import actor_node

Event = dict[str, Any]


class ReplayError(ValueError):
    """The trace lacks something replay needs (e.g. a message's send event)."""


class _ListSink:
    def __init__(self, first_seq: int) -> None:
        self.events: list[Event] = []
        self.next_seq = first_seq

    def emit(self, event: Event) -> int:
        event["seq"] = self.next_seq
        self.next_seq += 1
        self.events.append(event)
        return event["seq"]  # type: ignore[no-any-return]


class CoreReplayer:
    def __init__(self, header: Event) -> None:
        if header.get("level") == "state":
            raise ReplayError(
                "the trace was written at level 'state', which leaves out what replay needs "
                "(received messages, random draws, payloads): record at level 'full' to replay"
            )
        raw = header.get("raft")
        #: None until a self-contained start carries it (a node's own trace).
        self.config: RaftConfig | None = None if raw is None else _config(raw, "trace header")
        self.nodes: dict[int, TracedNode] = {}
        self.storage: dict[int, MemoryStorage] = {}
        self.unacked: dict[int, list[Persist]] = {}
        self.in_flight: dict[str, list[Any]] = {}  # mid -> [encoded message, deliveries left]

    # -- Replayer protocol ---------------------------------------------------

    def observe(self, event: Event) -> None:
        action = event["act"]
        if action == "send":
            # A send without an id or message cannot be delivered: its recv
            # will report it as never sent.
            if "mid" in event and "msg" in event:
                self.in_flight[event["mid"]] = [event["msg"], 1]
        elif action == "duplicate":
            slot = self.in_flight.get(event.get("mid", ""))
            if slot is not None:
                slot[1] += 1
        elif action in ("drop", "recv"):
            mid = event.get("mid") if action == "drop" else event.get("in", {}).get("mid")
            slot = self.in_flight.get(mid or "")
            if slot is not None:
                slot[1] -= 1
                if slot[1] <= 0:
                    del self.in_flight[mid or ""]
        elif action == "crash":
            node = event.get("node")
            if isinstance(node, int) and node in self.nodes:
                self.nodes[node].stop()
                self.unacked[node] = []

    def replay(self, event: Event) -> list[Event]:
        node = actor_node(event["n"])
        assert node is not None
        sink = _ListSink(event["seq"])
        traced = self.nodes.get(node)
        if traced is None:
            traced = self.nodes[node] = TracedNode(node, sink)
        traced.sink = sink
        action = event["act"]
        payload = event.get("in") or {}
        # Render the step as it was recorded: self-contained or not.
        traced.self_contained = not {"msg", "state", "raft"}.isdisjoint(payload)
        now = event.get("tk", 0)
        try:
            if action in ("boot", "restart"):
                self._start(node, traced, event, payload, now)
            else:
                self._step(node, traced, event, action, payload, now)
        except PeerError:
            pass  # recorded as the step's "error" field, compared like any other
        except ReplayError:
            raise
        except (CodecError, RaftError, KeyError, TypeError, ValueError) as err:
            raise ReplayError(f"seq {event['seq']}: cannot replay {action}: {err}") from None
        return sink.events

    # -- internals -------------------------------------------------------------

    def _start(self, node: int, traced: TracedNode, event: Event, payload: Event, now: int) -> None:
        seed = int(payload["seed"])
        if event["act"] == "boot":
            durable = DurableState.bootstrap(Membership.from_json(payload["conf"]))
            self.storage[node] = MemoryStorage(durable)
        elif "state" in payload:
            # The process wrote what its disk held: that is what it started
            # from (its disk may hold writes it never saw acknowledged).
            durable = decode_durable(payload["state"])
            recorded = payload.get("durable")
            if recorded != durable_summary(durable):
                raise ReplayError(
                    f"seq {event['seq']}: node {node} restarts from {recorded} on record, "
                    f"but its recorded durable state is {durable_summary(durable)}"
                )
            self.storage[node] = MemoryStorage(durable)
            traced.resume(0)
        elif node not in self.storage:
            raise ReplayError(f"seq {event['seq']}: n{node} restarts but never booted")
        else:
            durable = self.storage[node].durable()
            recorded = payload.get("durable")
            if recorded is not None and recorded != durable_summary(durable):
                raise ReplayError(
                    f"seq {event['seq']}: node {node} restarts from {recorded} on record, "
                    f"but replay rebuilt {durable_summary(durable)}"
                )
        self.unacked[node] = []
        config = self.config
        if "raft" in payload:
            config = _config(payload["raft"], f"seq {event['seq']}")
        elif config is None:
            raise ReplayError(
                "the trace header has no 'raft' object: replay needs the core configuration "
                "the run used"
            )
        core = RaftCore(node, config, seed, durable, now)
        traced.lc = int(event["lc"]) - 1
        traced.start(core, event["t"], seed, durable)

    def _step(
        self, node: int, traced: TracedNode, event: Event, action: str, payload: Event, now: int
    ) -> None:
        if traced.core is None:
            raise ReplayError(
                f"seq {event['seq']}: n{node} is not running (no boot or restart since "
                f"{'it crashed' if node in self.storage else 'the trace began'})"
            )
        envelope = None
        if action == "recv":
            mid = payload["mid"]
            slot = self.in_flight.get(mid)
            if slot is None and "msg" in payload:
                slot = [payload["msg"], 1]  # carried by the receiver's own trace
            if slot is None:
                raise ReplayError(f"seq {event['seq']}: message {mid} was never sent")
            message = decode_message(slot[0])
            inp: Any = Receive(message)
            envelope = Envelope(message, mid, 0)
        else:
            inp = decode_input(action, payload)
        if isinstance(inp, Persisted):
            storage = self.storage[node]
            pending = self.unacked[node]
            while pending and pending[0].id <= inp.id:
                storage.write(pending.pop(0))
        try:
            effects: list[Any] = traced.step(event["t"], now, inp, envelope=envelope)
        except PeerError as err:
            self.unacked[node].extend(e for e in err.effects if isinstance(e, Persist))
            raise
        self.unacked[node].extend(e for e in effects if isinstance(e, Persist))


def _config(raw: Any, where: str) -> RaftConfig:
    try:
        if not isinstance(raw, dict):
            raise TypeError(f"'raft' must be an object, got {type(raw).__name__}")
        return RaftConfig.from_json(dict(raw))
    except (RaftError, TypeError, ValueError) as err:
        raise ReplayError(f"{where} has a bad raft config: {err}") from None
