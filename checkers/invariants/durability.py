"""Invariants of durable state: what a node promised must survive a crash.

Raft's safety argument assumes that a node's term, vote and acknowledged log
entries are on stable storage before anyone relies on them. The trace shows
every write (``persist``), its completion (``persisted``), every message
that left (``send``) and what a restarted node claims to hold (``restart``
with ``in.durable``); the model rebuilds each node's disk from the writes
alone (``ClusterModel``: ``disk``, ``hard``), and these checkers compare the
claims and the messages with it.

A trace without a single ``persist`` event does not show durability at all
(hand-made traces often leave it out); the checkers that need writes then
say nothing rather than call every message premature.
"""

from __future__ import annotations

from typing import Any

from checkers.base import InvariantChecker, NeedsDurability
from checkers.model import ClusterModel, NodeModel

Event = dict[str, Any]


def _hard(node: NodeModel) -> str:
    term, vote, commit = node.hard
    return f"term {term}, vote {vote or 'none'}, commit {commit}"


class DurableBeforeClaimed(NeedsDurability):
    """A restarted node claims only what its completed writes made durable:
    its ``in.durable`` (term, vote, commit, snapshot, last index) is the disk
    rebuilt from the writes acknowledged by ``persisted`` (and those a
    ``crash`` event's optional ``written`` id says reached the disk); and the
    state it restarts with (``st``) is that durable state."""

    name = "durable-before-claimed"
    invariant = "Restarts claim only durable state"
    actions = frozenset({"restart"})

    def feed(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        node = model.node(actor)
        claim = (event.get("in") or {}).get("durable")
        witnesses = (event["cause"], event["seq"]) if event.get("cause") else (event["seq"],)
        if not model.restart_found:
            self.hold(
                model,
                witnesses,
                f"{actor} restarted claiming durable {_claim(claim)}, but its completed "
                f"writes made durable {_hard(node)}, snapshot {node.disk.snap}, last "
                f"{node.disk.last} ({len(node.lost)} write(s) were still in flight at the "
                "crash). A restart may bring back only what reached the disk.",
                (model.describe(actor),),
            )
            return
        st = event.get("st") or {}
        disk = node.disk
        expected = {
            "term": node.hard[0],
            "vote": node.hard[1],
            "commit": node.hard[2],
            "snap": disk.snap,
            "last": disk.last,
            "last_term": disk.term_at(disk.last),
        }
        wrong = [
            f"{key} {st.get(key)} (durable: {value})"
            for key, value in expected.items()
            if value is not None and key in st and st[key] != value
        ]
        if wrong:
            self.hold(
                model,
                witnesses,
                f"{actor} restarted with {', '.join(wrong)}: the state a node restarts "
                "with must be the one on its disk.",
                (model.describe(actor),),
            )


def _claim(claim: Any) -> str:
    if not isinstance(claim, dict):
        return "nothing"
    return ", ".join(f"{k} {claim.get(k)}" for k in ("term", "vote", "commit", "snap", "last"))


class VoteOnce(InvariantChecker):
    """A node gives at most one vote per term, across crashes: no two grants
    (or a grant and its own candidacy) in one term for different candidates,
    and a restart never forgets a vote the node gave (its durable term is
    later, or it is the same term with the same vote).

    A vote is judged given by the messages that left the node (a granted
    ``vote_resp``, or its own ``vote_req`` as a candidate) and by its own
    ``become_leader``, never by its ``st``."""

    name = "vote-once"
    invariant = "At most one vote per node per term"
    actions = frozenset({"send:vote_resp", "send:vote_req", "become_leader", "restart"})

    def __init__(self, header: Event | None = None) -> None:
        super().__init__(header)
        self.votes: dict[tuple[str, int], tuple[int, int]] = {}  # (voter, term) -> (cand., seq)
        self.latest: dict[str, tuple[int, int, int]] = {}  # voter -> (term, candidate, seq)

    def feed(self, event: Event, model: ClusterModel) -> None:
        action, actor = event["act"], event["n"]
        if action == "restart":
            self._restarted(event, model)
            return
        if action == "become_leader":
            self._voted(event, model, event["term"], model.node(actor).id)
            return
        msg = event.get("msg")
        if msg is None:
            return
        kind = msg.get("type")
        if kind == "vote_resp":
            if msg.get("granted") and not msg.get("pre"):
                self._voted(event, model, msg["term"], msg["dst"])
        elif kind == "vote_req" and not msg.get("pre"):
            self._voted(event, model, msg["term"], model.node(actor).id)

    def _voted(self, event: Event, model: ClusterModel, term: int, candidate: int) -> None:
        actor, seq = event["n"], event["seq"]
        first = self.votes.get((actor, term))
        if first is None:
            self.votes[(actor, term)] = (candidate, seq)
            latest = self.latest.get(actor)
            if latest is None or latest[0] < term:
                self.latest[actor] = (term, candidate, seq)
            return
        if first[0] == candidate:
            return
        self.found.add(
            (first[1], seq),
            f"{actor} voted for n{first[0]} in term {term} at seq {first[1]} and for "
            f"n{candidate} in the same term at seq {seq}. A node votes once per term; two "
            "votes can make two leaders.",
            (model.describe(actor),),
        )

    def _restarted(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        latest = self.latest.get(actor)
        claim = (event.get("in") or {}).get("durable")
        if latest is None or not isinstance(claim, dict):
            return
        term, candidate, seq = latest
        durable_term, durable_vote = claim.get("term", 0), claim.get("vote", 0)
        if durable_term > term or (durable_term == term and durable_vote == candidate):
            return
        self.found.add(
            (seq, event["seq"]),
            f"{actor} voted for n{candidate} in term {term} at seq {seq}, but restarted "
            f"with durable term {durable_term} and vote {durable_vote or 'none'}: the vote "
            "was not durable before it was given, and the node may now vote again in "
            f"term {term}.",
            (model.describe(actor),),
        )


class DurableBeforeSend(NeedsDurability):
    """A message leaves a node only once the state it depends on is durable
    (the ``persisted`` covering it came first): its term is on the disk;
    a granted vote or a candidate's vote request is the durable vote of
    that term (or a later term is durable); a successful append
    acknowledgement of index i in the durable term has the entries up to i
    on the disk. PreVote messages change nothing and are not judged."""

    name = "durable-before-send"
    invariant = "Durable before send"
    actions = frozenset({"send"})

    def feed(self, event: Event, model: ClusterModel) -> None:
        msg = event.get("msg")
        if msg is None:
            return
        actor = event["n"]
        node = model.node(actor)
        durable_term, durable_vote, _ = node.hard
        term, kind = msg.get("term", 0), msg.get("type")
        if durable_term > term or (kind not in _DEPENDENT and durable_term == term):
            return  # the common case: nothing newer than the disk
        if msg.get("pre"):
            return
        problem = ""
        if durable_term < term:
            problem = f"its term {term} was not durable"
        elif durable_term > term:
            return
        elif kind == "vote_resp" and msg.get("granted") and durable_vote != msg.get("dst"):
            problem = f"its vote for n{msg.get('dst')} was not durable"
        elif kind == "vote_req" and durable_vote != node.id:
            problem = "its vote for itself was not durable"
        elif kind == "append_resp" and msg.get("success"):
            index = msg.get("index", 0)
            if not _on_disk(node, index, term):
                problem = f"its log up to {index} was not durable (disk ends at {node.disk.last})"
        if problem:
            self.hold(
                model,
                (event["seq"],),
                f"{actor} sent {kind} to n{msg.get('dst')} in term {term} while {problem}: "
                f"durable {_hard(node)}. A crash now would let it take back what the "
                "message promised.",
                (model.describe(actor),),
            )


#: Messages that depend on more than the term: votes and acknowledgements.
_DEPENDENT = frozenset({"vote_resp", "vote_req", "append_resp"})


def _on_disk(node: NodeModel, index: int, term: int) -> bool:
    """Whether the entries that an acknowledgement of ``index`` in ``term``
    speaks for are on the disk. Usually they are the node's own log up to
    ``index``; but an acknowledgement held back for its write can leave after
    a newer leader has already overwritten that entry in memory (the newer
    write still in flight): it then speaks for the older log, whose entry of
    at most ``term`` must be what the disk holds."""
    disk = node.disk
    if index <= disk.snap:
        return True
    if index > disk.last:
        return False
    mine = node.log.term_at(index)
    if mine is None:
        return True
    on_disk = disk.term_at(index)
    if mine > term:
        return on_disk is not None and on_disk <= term
    return on_disk == mine
