"""The checkers' log model against the node's own account of its log.

The model (``ClusterModel``) rebuilds every log from ``append``,
``truncate`` and snapshot events. These checkers make sure that rebuilding
is honest: an ``append`` may not silently rewrite an entry the log already
holds (a conflict is resolved by an explicit ``truncate`` first), the
model must agree with the ``last``, ``last_term``, ``snap`` and ``commit``
the node reports in its ``st`` after each step, and no node commits past
the end of its own log.
"""

from __future__ import annotations

from typing import Any

from checkers.base import InvariantChecker
from checkers.model import ClusterModel

Event = dict[str, Any]

#: The ``st`` fields the model rebuilds on its own.
_REBUILT = frozenset({"last", "last_term", "snap", "commit"})
#: Effects that change what the model rebuilds for a node.
_LOG_EFFECTS = frozenset({"append", "truncate", "snapshot_take", "snapshot_install", "commit"})


class CommitWithinLog(InvariantChecker):
    """A node never commits beyond the end of its own log, and a follower
    never beyond what a leader told it: a follower's commit index is at most
    the highest commit index carried by a message it was delivered
    (``append_req``, ``heartbeat``), or the index of a snapshot it was sent
    or installed.
    A leader's own commits are judged by ``joint-quorum``."""

    name = "commit-within-log"
    invariant = "Commit never beyond the committer's log"
    actions = frozenset(
        {"commit", "recv:append_req", "recv:heartbeat", "recv:snapshot", "snapshot_install"}
    )

    def __init__(self, header: Event | None = None) -> None:
        super().__init__(header)
        #: node -> (highest commit index it was told, the seq that told it)
        self.told: dict[str, tuple[int, int]] = {}

    def feed(self, event: Event, model: ClusterModel) -> None:
        action, actor = event["act"], event["n"]
        if action == "recv":
            msg = model.delivered
            if msg is None:
                return
            kind = msg.get("type")
            if kind in _CARRIES_COMMIT:
                self._tell(actor, msg.get("commit", 0), event["seq"])
            elif kind == "snapshot":  # a snapshot is committed up to its index
                self._tell(actor, (msg.get("snapshot") or {}).get("index", 0), event["seq"])
            return
        if action == "snapshot_install":
            self._tell(actor, event.get("index", 0), event["seq"])
            return
        node = model.node(actor)
        log = node.log
        index = event.get("index", 0)
        if index > log.last:
            self.found.add(
                (event["seq"],),
                f"{actor} committed index {index} but its log ends at {log.last}: a node can "
                "only commit entries it holds.",
                (model.describe(actor),),
            )
            return
        if node.role == "leader":
            return
        told, at = self.told.get(actor, (0, 0))
        if index > told and index > model.state(actor).get("commit", 0):
            self.found.add(
                (at, event["seq"]) if at else (event["seq"],),
                f"{actor}, a {node.role}, committed index {index} but no message it was "
                f"delivered said more than {told} was committed: a follower learns the "
                "commit index from its leader.",
                (model.describe(actor),),
            )

    def _tell(self, actor: str, index: int, seq: int) -> None:
        if index > self.told.get(actor, (0, 0))[0]:
            self.told[actor] = (index, seq)


#: Messages that carry the leader's commit index.
_CARRIES_COMMIT = frozenset({"append_req", "heartbeat"})


class OwnTermCommit(InvariantChecker):
    """A leader commits by counting replicas only an entry of its own term
    (section 5.4.2, Figure 8): the index its ``commit`` names holds an entry
    of the leader's current term; earlier entries are committed with it."""

    name = "own-term-commit"
    invariant = "Leaders commit only entries of their own term"
    actions = frozenset({"commit"})

    def feed(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        node = model.node(actor)
        if node.role != "leader":
            return
        index = event.get("index", 0)
        term = node.log.term_at(index)
        if term is None or term == node.term:
            return
        self.found.add(
            (event["seq"],),
            f"{actor}, leader of term {node.term}, committed index {index}, an entry of term "
            f"{term}: an entry of an earlier term may be on a majority and still be "
            "overwritten (Figure 8); it is committed only with an entry of the current term.",
            (model.describe(actor),),
        )


class LogModelAgreement(InvariantChecker):
    """Appends never rewrite entries in place, and the log rebuilt from the
    events agrees with the node's reported state.

    An ``append`` of an index the log already holds, with a different term
    or payload and no ``truncate`` before it, is a violation (the model
    follows the note, so the later comparisons still make sense). After
    every step whose events or ``st`` touch the log or the commit index, the
    model's last index, last term, snapshot index and commit index must be
    the ``st`` values; a disagreement is reported once, until the two agree
    again."""

    name = "log-model-agreement"
    invariant = "The log the events describe is the log the node reports"
    actions = frozenset({"append"}) | _LOG_EFFECTS

    def __init__(self, header: Event | None = None) -> None:
        super().__init__(header)
        self.touched: set[str] = set()
        self.disagreeing: set[tuple[str, str]] = set()

    def feed(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        self.touched.add(actor)
        if event["act"] != "append":
            return
        for index, old_term, old_crc, term, crc in model.overlaps:
            if (old_term, old_crc) == (term, crc):
                continue
            self.found.add(
                (event["seq"],),
                f"{actor} appended entry {index} of term {term} (crc {crc:08x}) over its entry "
                f"{index} of term {old_term} (crc {old_crc:08x}) without truncating first: "
                "a log changes an entry only by deleting it and what follows.",
                (model.describe(actor),),
            )
            return

    def end_step(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        delta = event.get("st")
        if actor in self.touched:
            self.touched.discard(actor)
        elif not delta or _REBUILT.isdisjoint(delta):
            return
        if event["act"] == "restart":
            return  # judged against the disk by durable-before-claimed
        node = model.node(actor)
        log = node.log
        st = model.state(actor)
        last = log.last
        last_term = log.term_at(last)
        if (
            st.get("last", last) == last
            and st.get("snap", log.snap) == log.snap
            and st.get("commit", node.commit) == node.commit
            and (last_term is None or st.get("last_term", last_term) == last_term)
        ):
            if self.disagreeing:
                self.disagreeing = {key for key in self.disagreeing if key[0] != actor}
            return
        rebuilt = {"last": last, "last_term": last_term, "snap": log.snap, "commit": node.commit}
        for field, value in rebuilt.items():
            reported = st.get(field)
            key = (actor, field)
            if value is None or reported is None or reported == value:
                self.disagreeing.discard(key)
                continue
            if key in self.disagreeing:
                continue
            self.disagreeing.add(key)
            self.found.add(
                (event["seq"],),
                f"after the step at seq {event['seq']}, {actor} reports {field} {reported} but "
                f"its events give {field} {value}: either the events hide a change to the log "
                "or the node's state is wrong.",
                (model.describe(actor),),
            )
