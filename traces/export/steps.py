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
    ("" and 0 for other steps)."""

    seq: int
    t: int
    node: int
    act: str
    msg_type: str
    msg_from: int
    nodes: Mapping[int, NodeView]
    running: frozenset[int]


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

    __slots__ = ("projection", "running", "views")

    def __init__(self) -> None:
        self.projection = Projection()
        self.views: dict[int, NodeView] = {}
        self.running: set[int] = set()

    def feed(self, event: Event) -> SpecStep | None:
        """The step ``event`` makes, or None for an event that is not one."""
        actor = event["n"]
        if event["act"] == "crash" and actor == "env":
            node = event.get("node")
            if not isinstance(node, int) or node not in self.views:
                return None
            self.running.discard(node)
            return _step(event, node, self.views, self.running)
        if event["act"] in INPUT_ACTIONS and is_node(actor):
            node = node_id(actor)
            self.projection.apply(event)
            self.views[node] = view(self.projection.state(actor))
            if event["act"] in ("boot", "restart"):
                self.running.add(node)
            return _step(event, node, self.views, self.running)
        return None


def _step(event: Event, node: int, views: dict[int, NodeView], running: set[int]) -> SpecStep:
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
    )
