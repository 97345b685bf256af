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

import bisect
import dataclasses
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
    commit_term: int = 0
    """The term of the entry at ``commit`` in the node's log, as the node's
    ``append``/``truncate``/``snapshot_install`` events built it (-1 when the
    trace does not say: after a snapshot install, or above the commit index a
    restart came back with). Not part of ``st``: the step's effects give it."""
    uncommitted_confs: int = 0
    """How many configuration entries the node's log holds above ``commit``,
    as its ``append`` events (the fourth element of an entry) built it;
    entries above a restart's commit index, whose kind the trace does not
    say, are not counted. Not part of ``st`` either."""
    durable: tuple[int, int] = (0, 0)
    """``(term, vote)`` of the node's hard state as its last completed write
    left it on disk: the ``hs`` of the last ``persist`` a ``persisted`` step
    covered (a boot's or restart's own term and vote before any);
    ``(UNKNOWN_TERM, 0)`` until the trace shows a ``persist`` at all (a
    hand-made trace may leave writes out)."""


@dataclass(frozen=True, slots=True)
class SpecStep:
    """A node step (or a crash) and the state of every started node after it.

    ``msg_type``/``msg_from`` name the message a ``recv`` step received
    ("" and 0 for other steps); the ``msg_*`` fields after them are what
    that message said (taken from its ``send``, or the ``recv``'s own
    ``in.msg``), 0 or FALSE where the message has no such field or no
    message is known: trace validation binds actions' parameters to them.
    ``arg`` is the input's number (``applied``/``compact`` index,
    ``transfer`` target, how many changes a ``propose_conf`` holds)."""

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
    promised_term: int = 0
    """For a ``restart``: the term of the last vote the node promised before
    it (a ``vote_req`` it sent as a candidate, or a granted ``vote_resp``;
    PreVote ones promise nothing), 0 if none; ``promised_vote`` whom for."""
    promised_vote: int = 0
    appended: tuple[tuple[int, int, int, int], ...] = ()
    """The entries the step's ``append`` events put in the node's log, each
    ``(index, term, crc, prev_term)``: ``prev_term`` is the term of the entry
    before it in that log (UNKNOWN_TERM where the trace does not say)."""
    applied: tuple[tuple[int, int, int], ...] = ()
    """The entries the step's ``apply`` events handed to the state machine,
    each ``(index, term, crc)``."""
    lease_read: tuple[int, ...] = ()
    """``(node, index)`` if the step served a read under the leader lease
    (its ``lease_read`` event; the lowest index if several), else ``()``."""
    promised: tuple[tuple[int, int, int], ...] = ()
    """``(node, term, candidate)`` for each vote a message the step sent
    promises: a candidate's own (a non-PreVote ``vote_req``), a granted
    non-PreVote ``vote_resp``."""


def node_id(actor: str) -> int:
    """3 for ``n3``; ``ValueError`` for an actor that is not a node."""
    if actor[:1] != "n" or not actor[1:].isdigit():
        raise ValueError(f"not a node actor: {actor!r}")
    return int(actor[1:])


def is_node(actor: str) -> bool:
    return actor[:1] == "n" and actor[1:].isdigit()


def view(state: Mapping[str, Any], earlier: NodeView | None = None) -> NodeView:
    """A ``NodeView`` from a folded ``st`` (missing fields are their zero:
    ``boot`` and ``restart`` carry every field, and empty lists of ``conf``
    are omitted by the writer), with ``earlier``'s ``commit_term`` and
    ``uncommitted_confs``, which ``st`` does not hold."""
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
        commit_term=earlier.commit_term if earlier is not None else 0,
        uncommitted_confs=earlier.uncommitted_confs if earlier is not None else 0,
        durable=earlier.durable if earlier is not None else (0, 0),
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
    last = fold.flush()
    if last is not None:
        yield last


#: ``commit_term`` of a node whose entry at its commit index has no known term.
UNKNOWN_TERM = -1


class StepFold:
    """``spec_steps`` one event at a time, for consumers that are fed events
    rather than handed an iterable (the spec checker under ``raftlab check``).

    A step is complete only after its effects (the events that follow its
    input event), which say what the step did to the node's log: so ``feed``
    returns a step when the next one begins, and ``flush`` the last one."""

    __slots__ = (
        "confs",
        "durability_traced",
        "durable",
        "effects",
        "logs",
        "messages",
        "pending",
        "projection",
        "promises",
        "running",
        "views",
        "writes",
    )

    def __init__(self) -> None:
        self.projection = Projection()
        self.views: dict[int, NodeView] = {}
        self.running: set[int] = set()
        #: message id -> the message its ``send`` carried
        self.messages: dict[str, Mapping[str, Any]] = {}
        #: node -> the term of each log entry by index (0 up to its last), as
        #: its append, truncate and snapshot events built it; UNKNOWN_TERM
        #: where the trace does not say
        self.logs: dict[int, list[int]] = {}
        #: node -> the indexes of the configuration entries in its log, ascending
        self.confs: dict[int, list[int]] = {}
        #: what the pending step's effects appended, applied and read by lease
        self.effects = StepEffects()
        #: node -> (term, candidate) of the last vote its sent messages promised
        self.promises: dict[int, tuple[int, int]] = {}
        #: node -> (term, vote) on its disk, and its writes asked for and not
        #: yet done: (persist id, term, vote)
        self.durable: dict[int, tuple[int, int]] = {}
        self.writes: dict[int, list[tuple[int, int, int]]] = {}
        #: whether a ``persist`` has been seen: before one, nothing says what is on disk
        self.durability_traced = False
        #: the step begun and not yet returned: its event, node and message
        self.pending: tuple[Event, int, Mapping[str, Any] | None] | None = None

    def feed(self, event: Event) -> SpecStep | None:
        """The step that ``event`` completes (the one before it), or None."""
        actor, act = event["n"], event["act"]
        if act == "send":
            msg = event.get("msg")
            if isinstance(msg, dict) and isinstance(event.get("mid"), str):
                self.messages[event["mid"]] = msg
                if is_node(actor):
                    sender = node_id(actor)
                    promise = promised_vote(sender, msg)
                    if promise is not None:
                        self.promises[sender] = promise
                        if self.pending is not None and self.pending[1] == sender:
                            self.effects.promised.append((sender, *promise))
            return None
        if act == "crash" and actor == "env":
            node = event.get("node")
            if not isinstance(node, int) or node not in self.views:
                return None
            done = self.flush()
            self.running.discard(node)
            self.pending = (event, node, None)
            self.effects = StepEffects()
            return done
        if not is_node(actor):
            return None
        node = node_id(actor)
        if act in INPUT_ACTIONS:
            done = self.flush()
            self.projection.apply(event)
            state = self.projection.state(actor)
            earlier = self.views.get(node)
            if earlier is None or "st" in event or act in ("boot", "restart"):
                # what the log's records say (commit_term, uncommitted_confs)
                # is carried over; flush corrects it once the effects are in
                self.views[node] = view(state, earlier)
            if act in ("boot", "restart"):
                self.running.add(node)
                self._start_log(node, state, act == "boot")
                self.durable[node] = (state.get("term", 0), state.get("vote", 0))
                self.writes[node] = []
            elif act == "persisted":
                self._written(node, _int((event.get("in") or {}).get("id")))
            self.effects = StepEffects()
            msg = None
            if act == "recv":
                inputs = event.get("in") or {}
                msg = inputs.get("msg") or self.messages.get(inputs.get("mid", ""))
            self.pending = (event, node, msg)
            return done
        if self.pending is not None and self.pending[1] == node:
            self.effects.note(event, self.logs.get(node, []))
        if act == "persist":
            self.durability_traced = True
            hs = event.get("hs") or (0, 0)
            self.writes.setdefault(node, []).append((_int(event.get("id")), hs[0], hs[1]))
        self._log_effect(node, event)
        return None

    def flush(self) -> SpecStep | None:
        """The step begun last, now that its effects are in (None if none is)."""
        if self.pending is None:
            return None
        event, node, msg = self.pending
        self.pending = None
        if event["act"] != "crash":
            current = self.views[node]
            term = self._term_at(node, current.commit)
            confs = self.confs.get(node, [])
            pending = len(confs) - bisect.bisect_right(confs, current.commit)
            durable = self.durable.get(node, (0, 0))
            if not self.durability_traced:
                durable = (UNKNOWN_TERM, 0)
            if (
                term != current.commit_term
                or pending != current.uncommitted_confs
                or durable != current.durable
            ):
                self.views[node] = dataclasses.replace(
                    current, commit_term=term, uncommitted_confs=pending, durable=durable
                )
        effects = self.effects
        extra: dict[str, Any] = {}
        if effects.appended:
            extra["appended"] = tuple(effects.appended)
        if effects.applied:
            extra["applied"] = tuple(effects.applied)
        if effects.lease_read:
            extra["lease_read"] = effects.lease_read
        if effects.promised:
            extra["promised"] = tuple(effects.promised)
        if event["act"] == "restart" and node in self.promises:
            extra["promised_term"], extra["promised_vote"] = self.promises[node]
        return _step(event, node, self.views, self.running, msg, extra)

    def _written(self, node: int, done: int) -> None:
        """A ``persisted`` step: the writes up to ``done`` are on disk."""
        writes = self.writes.get(node, [])
        finished = [w for w in writes if w[0] <= done]
        if finished:
            self.durable[node] = finished[-1][1:]
            del writes[: len(finished)]

    def _term_at(self, node: int, index: int) -> int:
        terms = self.logs.get(node, [])
        return terms[index] if 0 <= index < len(terms) else UNKNOWN_TERM

    def _start_log(self, node: int, state: Mapping[str, Any], boot: bool) -> None:
        """A boot's log is its bootstrap snapshot (term 0); a restart's is
        what reached the disk: the trace shows its length, and the entries up
        to its commit index (committed, so the same as before the crash)."""
        last, commit = state.get("last", 0), state.get("commit", 0)
        if boot:
            self.logs[node] = [0] * (last + 1)
            self.confs[node] = []
            return
        terms = self.logs.get(node, [])[: commit + 1]
        self.logs[node] = terms + [UNKNOWN_TERM] * (last + 1 - len(terms))
        confs = self.confs.get(node, [])
        self.confs[node] = confs[: bisect.bisect_right(confs, commit)]

    def _log_effect(self, node: int, event: Event) -> None:
        act = event["act"]
        terms = self.logs.setdefault(node, [0])
        confs = self.confs.setdefault(node, [])
        if act == "append":
            for entry in event.get("entries") or ():
                index, term = entry[0], entry[1]
                if index < len(terms) and terms[index] == term:
                    continue  # an entry the log has is kept, with what follows (Raft)
                del terms[index:]
                del confs[bisect.bisect_left(confs, index) :]
                terms.extend([UNKNOWN_TERM] * (index - len(terms)))
                terms.append(term)
                if len(entry) > 3 and entry[3]:
                    confs.append(index)
        elif act == "truncate":
            after = event.get("after", 0)
            del terms[after + 1 :]
            del confs[bisect.bisect_right(confs, after) :]
        elif act == "snapshot_install":
            index = event.get("index", 0)
            self.logs[node] = [UNKNOWN_TERM] * index + [event.get("last_term", UNKNOWN_TERM)]
            confs.clear()


class StepEffects:
    """What one step's effects did that the spec judges: the entries its
    ``append`` events put in the log (with the term of the entry before each,
    from the log as it was), the entries its ``apply`` events applied, the
    read it served under the lease, and the votes its sent messages promise
    (noted as the ``send`` events come, by ``StepFold.feed``)."""

    __slots__ = ("appended", "applied", "lease_read", "promised")

    def __init__(self) -> None:
        self.appended: list[tuple[int, int, int, int]] = []
        self.applied: list[tuple[int, int, int]] = []
        self.lease_read: tuple[int, ...] = ()
        self.promised: list[tuple[int, int, int]] = []

    def note(self, event: Event, terms: list[int]) -> None:
        """Take ``event``, an effect of the step, before the log's terms
        (``terms``) take it."""
        act = event["act"]
        if act == "append":
            last = (-1, UNKNOWN_TERM)  # the entry before, within this event
            for entry in event.get("entries") or ():
                index, term, crc = _int(entry[0]), _int(entry[1]), _int(entry[2])
                if last[0] == index - 1:
                    prev = last[1]
                else:
                    prev = terms[index - 1] if 0 < index <= len(terms) else UNKNOWN_TERM
                self.appended.append((index, term, crc, prev))
                last = (index, term)
        elif act == "apply":
            for entry in event.get("entries") or ():
                self.applied.append((_int(entry[0]), _int(entry[1]), _int(entry[2])))
        elif act == "lease_read":
            node, index = node_id(event["n"]), _int(event.get("index"))
            if not self.lease_read or index < self.lease_read[1]:
                self.lease_read = (node, index)


def promised_vote(sender: int, msg: Mapping[str, Any]) -> tuple[int, int] | None:
    """``(term, candidate)`` of the vote a message promises (Raft: a vote is
    durable before the message that gives it leaves): a candidate's own
    (a ``vote_req``), a granted ``vote_resp``; PreVote ones promise nothing."""
    if msg.get("pre"):
        return None
    if msg.get("type") == "vote_req":
        return (_int(msg.get("term")), sender)
    if msg.get("type") == "vote_resp" and msg.get("granted"):
        return (_int(msg.get("term")), _int(msg.get("dst")))
    return None


def _step(
    event: Event,
    node: int,
    views: dict[int, NodeView],
    running: set[int],
    msg: Mapping[str, Any] | None,
    extra: Mapping[str, Any],
) -> SpecStep:
    """The step of ``event``; ``extra`` holds the fields its effects and
    earlier events give (appended, applied, lease_read, promised_*)."""
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
        arg=_arg(event["act"], inputs),
        **(message_fields(msg) if isinstance(msg, dict) else {}),
        **extra,
    )


def _arg(act: str, inputs: Mapping[str, Any]) -> int:
    """``SpecStep.arg``: the index of ``applied``/``compact``, the target of
    ``transfer``, the number of changes a ``propose_conf`` proposes (0: leave
    a joint configuration)."""
    if act == "propose_conf":
        items = (inputs.get("change") or {}).get("items")
        return len(items) if isinstance(items, list) else 0
    return _int(inputs.get("index", inputs.get("target", 0)))


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
