"""Liveness and disruption over windows without faults.

Safety says nothing bad happens; a cluster that elects nobody, commits
nothing or inflates its terms is also broken. These checks judge only
*fault-free windows*: stretches of the trace with every started node up, no
partition in force and no message lost. A window opens when the last fault
is over and is broken by the next one (any ``net`` or ``env`` event other
than a duplication, or a restart). Their findings are liveness warnings
(``kind`` ``liveness``): reported apart from safety violations and turned
into a failure only with ``strict_liveness`` (``CheckReport.failed``).

The bounds are multiples of the election timeout from the trace header
(``raft.election_ticks`` x ``tick_us``): a timeout is randomized up to twice
the base, PreVote adds a round, so ``LEADER_TIMEOUTS`` of them is ample.
"""

from __future__ import annotations

from typing import Any

from checkers.base import LIVENESS, InvariantChecker
from checkers.model import ClusterModel

Event = dict[str, Any]

#: Election timeouts a fault-free cluster may take to have a leader again.
LEADER_TIMEOUTS = 6
#: Election timeouts an accepted proposal may take to commit, with a leader.
COMMIT_TIMEOUTS = 6
#: Election timeouts a leadership transfer may take to complete.
TRANSFER_TIMEOUTS = 3

_FAULT_ACTORS = frozenset({"net", "env"})


def election_timeout_us(header: Event | None) -> int:
    """The base election timeout in microseconds, from a trace header."""
    header = header or {}
    raft = header.get("raft") or {}
    ticks = raft.get("election_ticks", 10) if isinstance(raft, dict) else 10
    return int(ticks) * int(header.get("tick_us", 10_000) or 10_000)


class Liveness(InvariantChecker):
    """In a window without faults: a leader exists within a few election
    timeouts, a proposal the leader accepted is committed within a few
    election timeouts while it stays leader, and a leadership transfer to a
    voter that is up completes instead of timing out."""

    name = "liveness"
    invariant = "Progress without faults"
    kind = LIVENESS
    actions = frozenset(
        {
            "boot",
            "tick",
            "restart",
            "crash",
            "drop",
            "partition",
            "heal",
            "become_leader",
            "become_follower",
            "become_candidate",
            "become_precandidate",
            "step_down",
            "accepted",
            "transfer_start",
            "transfer_abort",
        }
    )

    def __init__(self, header: Event | None = None) -> None:
        super().__init__(header)
        timeout = election_timeout_us(header)
        self.leader_bound = LEADER_TIMEOUTS * timeout
        self.commit_bound = COMMIT_TIMEOUTS * timeout
        self.transfer_bound = TRANSFER_TIMEOUTS * timeout
        #: When the current fault-free window opened (None: a fault is in force).
        self.window: int | None = 0
        self.partitioned = False
        self.down: set[int] = set()
        self.leaders: set[str] = set()
        #: When the cluster last had no leader, in this window.
        self.leaderless_since: int | None = 0
        self.reported_leaderless = False
        #: The first window opens at the trace's first event (a boot), not at
        #: t=0: a real cluster's trace is stamped with wall-clock microseconds.
        self.started = False
        #: Accepted proposals not yet committed: (index, leader, time, seq).
        self.proposals: list[tuple[int, str, int, int]] = []
        #: Leader -> (target, time, seq) of its transfer in progress.
        self.transfers: dict[str, tuple[int, int, int]] = {}

    # -- the window --------------------------------------------------------------

    def _fault(self, event: Event) -> None:
        action = event["act"]
        if action == "partition":
            self.partitioned = True
        elif action == "heal":
            self.partitioned = False
        elif action == "crash" and isinstance(event.get("node"), int):
            if event.get("reason") == "crash":  # not a node stopped after its removal
                self.down.add(event["node"])
            self.leaders.discard(f"n{event['node']}")
        self.window = None
        self.proposals.clear()
        self.transfers.clear()
        self.leaderless_since = None
        self.reported_leaderless = False

    def _open(self, now: int) -> None:
        if self.window is None and not self.partitioned and not self.down:
            self.window = now
            if not self.leaders:
                self.leaderless_since = now

    def feed(self, event: Event, model: ClusterModel) -> None:
        actor, action, now = event["n"], event["act"], event["t"]
        if not self.started:
            self.started = True
            if self.window is not None:
                self.window = now
            if self.leaderless_since is not None:
                self.leaderless_since = now
        if actor in _FAULT_ACTORS:
            self._fault(event)
            return
        if action == "restart":
            node = model.node(actor).id
            self.down.discard(node)
            self._fault(event)
            self._open(now)
            return
        self._open(now)
        if action == "tick":
            self._deadlines(event, model)
        elif action.startswith("become_") or action == "step_down":
            self._role(event, model)
        elif action == "accepted":
            if self.window is not None and model.node(actor).role == "leader":
                self.proposals.append((event.get("index", 0), actor, now, event["seq"]))
        elif action == "transfer_start":
            if self.window is not None:
                self.transfers[actor] = (event.get("target", 0), now, event["seq"])
        else:  # transfer_abort
            self._transfer_ended(event, model)

    def _role(self, event: Event, model: ClusterModel) -> None:
        actor, now = event["n"], event["t"]
        if event["act"] == "become_leader":
            self.leaders.add(actor)
            self.leaderless_since = None
            self.reported_leaderless = False
            for leader, (target, _, _) in list(self.transfers.items()):
                if model.node(actor).id == target:
                    del self.transfers[leader]
            return
        if actor in self.leaders:
            self.leaders.discard(actor)
            self.proposals = [p for p in self.proposals if p[1] != actor]
            self.transfers.pop(actor, None)
            if not self.leaders and self.window is not None:
                self.leaderless_since = now

    def _deadlines(self, event: Event, model: ClusterModel) -> None:
        if self.window is None:
            return
        now = event["t"]
        since = self.leaderless_since
        if since is not None and not self.reported_leaderless and now - since > self.leader_bound:
            self.reported_leaderless = True
            self.found.add(
                (event["seq"],),
                f"no leader for {(now - since) / 1000:.0f} ms (since t={since / 1000:.0f} ms) "
                "with every node up and no fault: a healthy cluster elects one within "
                f"{self.leader_bound / 1000:.0f} ms ({LEADER_TIMEOUTS} election timeouts).",
                (model.describe(event["n"]),),
            )
        if self.proposals:
            index, leader, at, seq = self.proposals[0]
            if model.max_committed >= index:
                self.proposals = [p for p in self.proposals if p[0] > model.max_committed]
            elif now - at > self.commit_bound:
                self.proposals.pop(0)
                self.found.add(
                    (seq, event["seq"]),
                    f"{leader} accepted a proposal at index {index} (seq {seq}) and stayed "
                    f"leader, but nothing reached index {index} within "
                    f"{self.commit_bound / 1000:.0f} ms without a fault.",
                    (model.describe(leader),),
                )
        for leader, (target, at, seq) in list(self.transfers.items()):
            if now - at > self.transfer_bound:
                del self.transfers[leader]
                self._transfer_warning(leader, target, seq, event, model, "is still pending")

    def _transfer_ended(self, event: Event, model: ClusterModel) -> None:
        actor = event["n"]
        started = self.transfers.pop(actor, None)
        if started is None or self.window is None:
            return
        target, _, seq = started
        reason = str(event.get("reason", ""))
        if not reason.startswith("timed out"):
            # Superseded, the target removed, or leadership lost (usually to
            # the target's own campaign; if nobody wins, the leader check
            # sees it): not a transfer that failed on its own.
            return
        self._transfer_warning(actor, target, seq, event, model, f"ended: {reason}")

    def _transfer_warning(
        self, leader: str, target: int, seq: int, event: Event, model: ClusterModel, how: str
    ) -> None:
        self.found.add(
            (seq, event["seq"]),
            f"{leader}'s leadership transfer to n{target} (seq {seq}) {how}, with every "
            "node up and no fault: a transfer to a live voter should complete within "
            f"{self.transfer_bound / 1000:.0f} ms.",
            (model.describe(leader), model.describe(f"n{target}")),
        )


class TermInflation(InvariantChecker):
    """Terms move only through elections: a node's term rises only when it
    becomes a candidate of that term, or adopts it from a delivered message
    of that term (a PreVote request or a granted PreVote response does not
    carry a real term and must not be adopted), or restarts with it. A
    term that appears any other way is disruption without an election."""

    name = "term-inflation"
    invariant = "No term inflation without elections"
    kind = LIVENESS
    actions = frozenset({"become_candidate"})

    def __init__(self, header: Event | None = None) -> None:
        super().__init__(header)
        self.campaigned: tuple[str, int] = ("", -1)

    def feed(self, event: Event, model: ClusterModel) -> None:
        self.campaigned = (event["n"], event["term"])

    def end_step(self, event: Event, model: ClusterModel) -> None:
        delta = event.get("st")
        if not delta or "term" not in delta or event["act"] in ("boot", "restart"):
            return
        actor, term = event["n"], delta["term"]
        if self.campaigned == (actor, term):
            return
        msg = model.delivered if event["act"] == "recv" else None
        if msg is not None and msg.get("term") == term and not _fake_term(msg):
            return
        how = f"delivered {msg.get('type')} of term {msg.get('term')}" if msg else event["act"]
        self.found.add(
            (event["seq"],),
            f"{actor}'s term rose to {term} in a step ({how}) that neither started an "
            f"election for term {term} nor delivered a message of that term.",
            (model.describe(actor),),
        )


def _fake_term(msg: Event) -> bool:
    """PreVote requests and granted PreVote responses carry a prospective term."""
    if not msg.get("pre"):
        return False
    return msg.get("type") == "vote_req" or bool(msg.get("granted"))
