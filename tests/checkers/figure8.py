"""A detector of the Raft paper's Figure 8(e) situation in a trace.

An entry of term ``t`` is committed by a leader of term ``C``, and a leader
of some term ``L`` with ``t < L < C`` was elected without holding it. That is
legal (the entry was not committed yet when the leader of ``L`` was
elected), and it is the situation the leader-completeness checker used to
call a violation. A test that claims a run exercises the rule must show the
run contains the situation; this detector is how.

It is fed by the checkers' runner, next to the checkers, and reads the
shared ``ClusterModel`` the same way they do: a leader's log when
``become_leader`` is seen, the entries a ``commit`` newly committed and the
committer's term. The leader of ``L`` may be elected before the commit or,
with its votes delivered late, after it; both are found. It reports
nothing (``finish`` returns no findings); what it saw is in
``situations``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checkers.base import Violation
from checkers.model import ClusterModel, LogModel

Event = dict[str, Any]


@dataclass(slots=True, frozen=True)
class Situation:
    """Entry ``index`` of term ``term``, committed in term ``committed_in`` at
    seq ``commit_seq``, missing from the log of ``leader``, elected leader of
    term ``leader_term`` at seq ``elected_seq``."""

    index: int
    term: int
    committed_in: int
    commit_seq: int
    leader: str
    leader_term: int
    elected_seq: int


class Figure8Detector:
    name = "figure-8e-detector"
    invariant = "Figure 8(e) situation (a legal one)"
    actions = frozenset({"become_leader", "commit"})

    def __init__(self) -> None:
        #: (term, actor, seq, log when elected), in the order seen.
        self.elections: list[tuple[int, str, int, LogModel]] = []
        #: (index, term, term of the decision, seq of the commit) of entries
        #: committed in a later term than their own: the only candidates.
        self.late: list[tuple[int, int, int, int]] = []
        self.situations: list[Situation] = []

    def feed(self, event: Event, model: ClusterModel) -> None:
        if event["act"] == "become_leader":
            self._elected(event, model)
            return
        decided = model.node(event["n"]).term
        for index, term, _ in model.newly_committed:
            if term >= decided - 1:
                continue  # no term lies strictly between
            self.late.append((index, term, decided, event["seq"]))
            for leader_term, actor, seq, log in self.elections:
                if term < leader_term < decided and not _held(log, index, term):
                    self.situations.append(
                        Situation(index, term, decided, event["seq"], actor, leader_term, seq)
                    )

    def _elected(self, event: Event, model: ClusterModel) -> None:
        actor, leader_term, seq = event["n"], event["term"], event["seq"]
        log = model.node(actor).log.copy()
        self.elections.append((leader_term, actor, seq, log))
        for index, term, decided, commit_seq in self.late:
            if term < leader_term < decided and not _held(log, index, term):
                self.situations.append(
                    Situation(index, term, decided, commit_seq, actor, leader_term, seq)
                )

    def finish(self) -> list[Violation]:
        return []


def _held(log: LogModel, index: int, term: int) -> bool:
    """Whether ``log`` holds the entry (an index folded into its snapshot is
    held: a snapshot covers only committed entries)."""
    return index <= log.snap or log.term_at(index) == term
