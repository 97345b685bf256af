"""The spec-visible steps of a trace: what the ITF and TLA+ exports write.

A raftlab trace records each node step as an input event whose ``st`` is
the state delta after the step (``traces.projection``). ``spec_steps``
folds those deltas and yields one ``SpecStep`` per node step and one per
crash (an ``env`` ``crash`` event, which stops a node without a step of its
own), each with every started node's state after it. Both exports take
their states from here, so they describe a trace the same way.

Nodes enter the state when they first start (``boot``): a node that has
not started yet has no state to show, rather than an invented one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from traces.projection import Projection
from traces.schema import INPUT_ACTIONS

Event = dict[str, Any]


@dataclass(frozen=True, slots=True)
class NodeView:
    """One node's spec-visible state (the ``st`` fields of docs/trace-format.md)."""

    term: int
    role: str
    vote: int
    leader: int
    commit: int
    applied: int
    last_index: int
    last_term: int
    snapshot_index: int
    voters: frozenset[int]
    outgoing: frozenset[int]
    learners: frozenset[int]
    learners_next: frozenset[int]
    auto_leave: bool


@dataclass(frozen=True, slots=True)
class SpecStep:
    """A node step (or a crash) and the state of every started node after it.

    ``msg_type``/``msg_from`` name the message a ``recv`` step received
    ("" and 0 for other steps); the ``msg_*`` fields after them are what
    that message said (taken from its ``send``, or the ``recv``'s own
    ``in.msg``), 0 or FALSE where the message has no such field or no
    message is known: trace validation binds actions' parameters to them.
    ``arg`` is the input's number (``applied``/``compact`` index,
    ``transfer`` target)."""

    seq: int
    t: int
    node: int
    act: str
    msg_type: str
    msg_from: int
    nodes: Mapping[int, NodeView]
    running: frozenset[int]
    msg_term: int = 0
    msg_pre: bool = False
    msg_ok: bool = False
    """``granted`` of a vote_resp, ``success`` of an append_resp."""
    msg_index: int = 0
    """A vote_req's ``last_index``, an append_req's ``prev_index``, an
    append_resp's ``index``, a snapshot's index."""
    msg_log_term: int = 0
    """A vote_req's ``last_term``, an append_req's ``prev_term``, a snapshot's term."""
    msg_last: int = 0
    """An append_req's last entry's index (its ``prev_index`` when it has none)."""
    msg_last_term: int = 0
    """That entry's term (``prev_term`` when it has none)."""
    msg_commit: int = 0
    msg_known: bool = False
    """Whether the message was found at all (a ``recv`` whose ``send`` is in the trace)."""
    arg: int = 0


def node_id(actor: str) -> int:
    """3 for ``n3``; ``ValueError`` for an actor that is not a node."""
    if actor[:1] != "n" or not actor[1:].isdigit():
        raise ValueError(f"not a node actor: {actor!r}")
    return int(actor[1:])


def is_node(actor: str) -> bool:
    return actor[:1] == "n" and actor[1:].isdigit()


def view(state: Mapping[str, Any]) -> NodeView:
    """A ``NodeView`` from a folded ``st`` (missing fields are their zero:
    ``boot`` and ``restart`` carry every field, and empty lists of ``conf``
    are omitted by the writer)."""
    conf = state.get("conf") or {}
    return NodeView(
        term=state.get("term", 0),
        role=state.get("role", "follower"),
        vote=state.get("vote", 0),
        leader=state.get("lead", 0),
        commit=state.get("commit", 0),
        applied=state.get("applied", 0),
        last_index=state.get("last", 0),
        last_term=state.get("last_term", 0),
        snapshot_index=state.get("snap", 0),
        voters=frozenset(conf.get("voters", ())),
        outgoing=frozenset(conf.get("outgoing", ())),
        learners=frozenset(conf.get("learners", ())),
        learners_next=frozenset(conf.get("learners_next", ())),
        auto_leave=bool(conf.get("auto_leave", False)),
    )


def message_source(mid: Any) -> int:
    """The sender's node id from a message id ``"<src>:<lc>"`` (0 if malformed)."""
    if isinstance(mid, str):
        head = mid.partition(":")[0]
        if head.isdigit():
            return int(head)
    return 0


def spec_steps(events: Iterable[Event]) -> Iterator[SpecStep]:
    """One ``SpecStep`` per node input event (a step, whether or not it
    changed the state) and per crash of a started node."""
    fold = StepFold()
    for event in events:
        step = fold.feed(event)
        if step is not None:
            yield step


class StepFold:
    """``spec_steps`` one event at a time, for consumers that are fed events
    rather than handed an iterable (the spec checker under ``raftlab check``)."""

    __slots__ = ("messages", "projection", "running", "views")

    def __init__(self) -> None:
        self.projection = Projection()
        self.views: dict[int, NodeView] = {}
        self.running: set[int] = set()
        #: message id -> the message its ``send`` carried
        self.messages: dict[str, Mapping[str, Any]] = {}

    def feed(self, event: Event) -> SpecStep | None:
        """The step ``event`` makes, or None for an event that is not one."""
        actor = event["n"]
        if event["act"] == "send":
            msg = event.get("msg")
            if isinstance(msg, dict) and isinstance(event.get("mid"), str):
                self.messages[event["mid"]] = msg
            return None
        if event["act"] == "crash" and actor == "env":
            node = event.get("node")
            if not isinstance(node, int) or node not in self.views:
                return None
            self.running.discard(node)
            return _step(event, node, self.views, self.running, None)
        if event["act"] in INPUT_ACTIONS and is_node(actor):
            node = node_id(actor)
            self.projection.apply(event)
            self.views[node] = view(self.projection.state(actor))
            if event["act"] in ("boot", "restart"):
                self.running.add(node)
            msg = None
            if event["act"] == "recv":
                inputs = event.get("in") or {}
                msg = inputs.get("msg") or self.messages.get(inputs.get("mid", ""))
            return _step(event, node, self.views, self.running, msg)
        return None


def _step(
    event: Event,
    node: int,
    views: dict[int, NodeView],
    running: set[int],
    msg: Mapping[str, Any] | None,
) -> SpecStep:
    inputs = event.get("in") or {}
    is_recv = event["act"] == "recv"
    return SpecStep(
        seq=event["seq"],
        t=event["t"],
        node=node,
        act=event["act"],
        msg_type=str(inputs.get("type", "")) if is_recv else "",
        msg_from=message_source(inputs.get("mid")) if is_recv else 0,
        nodes=dict(sorted(views.items())),
        running=frozenset(running),
        arg=_int(inputs.get("index", inputs.get("target", 0))),
        **(message_fields(msg) if isinstance(msg, dict) else {}),
    )


def _int(value: Any) -> int:
    return value if type(value) is int else 0


def message_fields(msg: Mapping[str, Any]) -> dict[str, Any]:
    """The ``msg_*`` fields of ``SpecStep`` for a message (as ``send`` writes it)."""
    kind = msg.get("type")
    fields: dict[str, Any] = {
        "msg_known": True,
        "msg_term": _int(msg.get("term")),
        "msg_pre": bool(msg.get("pre", False)),
        "msg_ok": bool(msg.get("granted", msg.get("success", False))),
        "msg_commit": _int(msg.get("commit")),
    }
    if kind == "vote_req":
        fields["msg_index"] = _int(msg.get("last_index"))
        fields["msg_log_term"] = _int(msg.get("last_term"))
    elif kind == "append_req":
        prev, prev_term = _int(msg.get("prev_index")), _int(msg.get("prev_term"))
        entries = msg.get("entries") or ()
        fields["msg_index"], fields["msg_log_term"] = prev, prev_term
        last = entries[-1] if entries else (prev, prev_term)
        fields["msg_last"], fields["msg_last_term"] = _int(last[0]), _int(last[1])
    elif kind == "append_resp":
        fields["msg_index"] = _int(msg.get("index"))
    elif kind == "snapshot":
        snapshot = msg.get("snapshot") or {}
        fields["msg_index"] = _int(snapshot.get("index"))
        fields["msg_log_term"] = _int(snapshot.get("term"))
    return fields
