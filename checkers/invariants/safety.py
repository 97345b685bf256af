"""The Raft paper's safety properties (Figure 3), plus monotonic progress.

Each class checks one property over a trace, reading the shared
``ClusterModel``; see each docstring for the exact rule.
"""

from __future__ import annotations

from bisect import insort
from typing import Any

from checkers.base import InvariantChecker
from checkers.model import ClusterModel, LogModel
from traces.schema import INPUT_ACTIONS

Event = dict[str, Any]


class ElectionSafety(InvariantChecker):
    """At most one leader can be elected in a given term (section 5.2)."""

    name = "election-safety"
    invariant = "Election Safety"
    actions = frozenset({"become_leader"})

    def __init__(self, header: Event | None = None) -> None:
        super().__init__(header)
        self.leaders: dict[int, tuple[str, int, list[int]]] = {}

    def feed(self, event: Event, model: ClusterModel) -> None:
        term, actor = event["term"], event["n"]
        first = self.leaders.get(term)
        votes = list(event.get("votes", []))
        if first is None:
            self.leaders[term] = (actor, event["seq"], votes)
        elif first[0] != actor:
            self.found.add(
                (first[1], event["seq"]),
                f"two leaders in term {term}: {first[0]} became leader at seq {first[1]} "
                f"(votes from {_ids(first[2])}) and {actor} at seq {event['seq']} "
                f"(votes from {_ids(votes)}). A term may have at most one leader; two "
                f"winning vote sets must share a voter, who voted twice in term {term}.",
                (model.describe(first[0]), model.describe(actor)),
            )


class LeaderAppendOnly(InvariantChecker):
    """A leader never overwrites or deletes entries in its log; it only
    appends (section 5.3)."""

    name = "leader-append-only"
    invariant = "Leader Append-Only"
    actions = frozenset({"append", "truncate", "snapshot_install"})

    def feed(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        node = model.node(actor)
        if node.role != "leader":
            return
        action = event["act"]
        if action == "truncate":
            what = f"deleted its entries after index {event.get('after')}"
        elif action == "snapshot_install":
            what = f"replaced its log with a snapshot at index {event.get('index')}"
        else:
            first = model.appended[0][0] if model.appended else model.prev_last + 1
            if first > model.prev_last:
                return
            what = f"overwrote entries from index {first} (its log ended at {model.prev_last})"
        self.found.add(
            (event["seq"],),
            f"{actor} {what} while leader of term {node.term}. A leader only appends; "
            "entries it deletes may already be on a quorum and counted as committed.",
            (model.describe(actor),),
        )


class LogMatching(InvariantChecker):
    """If two logs contain an entry with the same index and term, the logs are
    identical in all entries up through that index (section 5.3).

    Each entry's chain hash covers the whole prefix ending at it, so the
    property reduces to: equal (index, term) implies equal chain hash."""

    name = "log-matching"
    invariant = "Log Matching"
    actions = frozenset({"append"})

    def __init__(self, header: Event | None = None) -> None:
        super().__init__(header)
        #: (index, term) -> (chain hash, first holder, its seq, and a second
        #: holder of the same chain and its seq, "" and 0 until there is one).
        self.seen: dict[tuple[int, int], tuple[int, str, int, str, int]] = {}

    def feed(self, event: Event, model: ClusterModel) -> None:
        actor, seq = event["n"], event["seq"]
        for index, term, link, _ in model.appended:
            if link is None:
                continue
            first = self.seen.get((index, term))
            if first is None:
                self.seen[(index, term)] = (link, actor, seq, "", 0)
                continue
            known, holder, at, other, other_at = first
            if known == link:
                if not other and holder != actor:
                    self.seen[(index, term)] = (known, holder, at, actor, seq)
                continue
            if holder == actor:
                # The node that first held the entry holds it over other
                # entries now: compare with another holder of the old one.
                if not other:
                    self.seen[(index, term)] = (link, actor, seq, "", 0)
                    continue
                holder, at = other, other_at
            self.found.add(
                (at, seq),
                f"{holder} and {actor} both hold entry {index} of term {term}, but the "
                f"entries before it differ{_first_difference(model, holder, actor, index)}. "
                "Two logs that agree on an entry's index and term must agree on everything "
                "before it.",
                (model.describe(holder), model.describe(actor)),
            )
            return


class LeaderCompleteness(InvariantChecker):
    """If an entry is committed in a given term, it is present in the logs of
    the leaders of all higher terms (section 5.4).

    "Committed in term C" is the term of the commit *decision*: the term of
    the node whose commit event first covered the entry, not the entry's own
    term. An entry of term 1 committed by the leader of term 3 need not be
    held by the leader of term 2 (the paper's Figure 8(e)), so both checks
    compare leaders with C: when a node becomes leader of term T, its log
    must hold every entry committed in a term below T; when an entry is
    committed in term C (possibly after later elections), every leader
    elected so far in a term above C must have held it when elected."""

    name = "leader-completeness"
    invariant = "Leader Completeness"
    actions = frozenset({"become_leader", "commit"})

    def __init__(self, header: Event | None = None) -> None:
        super().__init__(header)
        self.elections: list[tuple[int, str, int, LogModel]] = []  # (term, actor, seq, log)
        #: (last index, term of the decision) per commit event that committed
        #: something new, in index order: the highest index committed in a
        #: term below T is a short walk back from the end.
        self.decisions: list[tuple[int, int]] = []

    def feed(self, event: Event, model: ClusterModel) -> None:
        if event["act"] == "become_leader":
            self._elected(event, model)
            return
        fresh = model.newly_committed
        if not fresh:
            return
        decided = model.node(event["n"]).term
        self.decisions.append((fresh[-1][0], decided))
        for index, term, link in fresh:
            self._committed(event, model, index, term, link, decided)

    def _elected(self, event: Event, model: ClusterModel) -> None:
        actor, term = event["n"], event["term"]
        log = model.node(actor).log
        top, decided = 0, 0
        for last, when in reversed(self.decisions):
            if when < term:
                top, decided = last, when
                break
        if top > log.snap:
            entry = model.committed.get(top)
            if entry is not None and not _holds(log, top, entry[0], entry[1]):
                self.found.add(
                    (event["seq"],),
                    f"{actor} became leader of term {term} without committed entry {top} "
                    f"(term {entry[0]}), committed in term {decided}: its log ends at {log.last}"
                    + (f" with term {log.term_at(top)} there" if log.term_at(top) else "")
                    + ". Voters must refuse candidates whose logs are less up to date.",
                    (model.describe(actor),),
                )
        insort(self.elections, (term, actor, event["seq"], log.copy()))

    def _committed(
        self,
        event: Event,
        model: ClusterModel,
        index: int,
        term: int,
        link: int | None,
        decided: int,
    ) -> None:
        for leader_term, actor, seq, log in reversed(self.elections):
            if leader_term <= decided:
                break
            if index > log.snap and not _holds(log, index, term, link):
                self.found.add(
                    (seq, event["seq"]),
                    f"entry {index} of term {term} was committed in term {decided} by "
                    f"{event['n']} at seq {event['seq']}, but {actor}, elected leader of "
                    f"term {leader_term} at seq {seq}, did not have it. Committed entries "
                    "must be in the log of every leader of a later term.",
                    (model.describe(event["n"]), model.describe(actor)),
                )
                return


class StateMachineSafety(InvariantChecker):
    """If a server has applied a log entry at a given index, no other server
    ever applies a different log entry for the same index (section 5.4.3)."""

    name = "state-machine-safety"
    invariant = "State Machine Safety"
    actions = frozenset({"apply"})

    def __init__(self, header: Event | None = None) -> None:
        super().__init__(header)
        self.applied: dict[int, tuple[int, int, str, int]] = {}  # index -> term, crc, actor, seq

    def feed(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        for raw in event.get("entries", ()):
            index, term, crc = raw[0], raw[1], raw[2]
            first = self.applied.get(index)
            if first is None:
                self.applied[index] = (term, crc, actor, event["seq"])
            elif (first[0], first[1]) != (term, crc):
                self.found.add(
                    (first[3], event["seq"]),
                    f"{first[2]} applied entry {index} of term {first[0]} (crc {first[1]:08x}) "
                    f"but {actor} applied a different entry {index} of term {term} "
                    f"(crc {crc:08x}): their state machines have diverged.",
                    (model.describe(first[2]), model.describe(actor)),
                )
                return


class MonotonicProgress(InvariantChecker):
    """Within one run of a node (between restarts), its commit index and its
    applied index never decrease, the applied index never passes the commit
    index, and entries are applied in order without gaps."""

    name = "monotonic-commit-apply"
    invariant = "Monotonic commit and apply"
    actions = INPUT_ACTIONS | {"apply", "snapshot_install"}

    def __init__(self, header: Event | None = None) -> None:
        super().__init__(header)
        self.commit: dict[str, int] = {}
        self.applied: dict[str, int] = {}
        self.handed: dict[str, int] = {}  # last index handed to the state machine

    def feed(self, event: Event, model: ClusterModel) -> None:
        actor, action = event["n"], event["act"]
        if action == "apply":
            self._apply(event, model)
            return
        if action == "snapshot_install":
            self.handed[actor] = event.get("index", 0)
            return
        st = event.get("st")
        if action in ("boot", "restart"):
            self.commit[actor] = st.get("commit", 0) if st else 0
            self.applied[actor] = self.handed[actor] = st.get("applied", 0) if st else 0
            return
        if not st:
            return
        for field, seen in (("commit", self.commit), ("applied", self.applied)):
            value = st.get(field)
            if value is None:
                continue
            before = seen.get(actor, 0)
            if value < before:
                self.found.add(
                    (event["seq"],),
                    f"{actor}'s {field} index went back from {before} to {value} without a "
                    "restart. Committed entries stay committed, applied entries stay applied.",
                    (model.describe(actor),),
                )
            seen[actor] = value
        commit, applied = self.commit.get(actor, 0), self.applied.get(actor, 0)
        if applied > commit:
            self.found.add(
                (event["seq"],),
                f"{actor} applied up to {applied} but has only committed up to {commit}: "
                "only committed entries may be applied.",
                (model.describe(actor),),
            )

    def _apply(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        entries = event.get("entries") or []
        if not entries:
            return
        expected = self.handed.get(actor, 0) + 1
        first = entries[0][0]
        if first != expected:
            self.found.add(
                (event["seq"],),
                f"{actor} applied entries from index {first}, but the next entry to apply was "
                f"{expected}: entries must be applied in log order, each exactly once.",
                (model.describe(actor),),
            )
        self.handed[actor] = entries[-1][0]


def _holds(log: LogModel, index: int, term: int, link: int | None) -> bool:
    if log.term_at(index) != term:
        return False
    mine = log.chain_at(index)
    return mine is None or link is None or mine == link


def _ids(nodes: list[int]) -> str:
    return ", ".join(f"n{n}" for n in nodes) or "nobody"


def _first_difference(model: ClusterModel, a: str, b: str, upto: int) -> str:
    la, lb = model.node(a).log, model.node(b).log
    for index in range(max(la.snap, lb.snap) + 1, upto + 1):
        ta, tb = la.term_at(index), lb.term_at(index)
        if ta != tb or la.crcs[index - la.snap - 1] != lb.crcs[index - lb.snap - 1]:
            return f": they first differ at index {index} ({a} has term {ta}, {b} has term {tb})"
    return ""
