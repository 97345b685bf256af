"""The cluster as the checkers see it, rebuilt from the trace alone.

Checkers must not trust the implementation they check, so this model is
rebuilt from events only, with its own arithmetic: every node's log (terms,
payload CRCs and a chain hash per entry, from ``append``/``truncate``/
snapshot events), what is on its disk (from ``persist`` and ``persisted``, so
a restart brings back exactly the durable log), its role and configuration
as they change within a step (from the ``become_*`` and ``conf_apply``
events), and its term, commit and applied indexes (from the ``st`` deltas,
taken into account when the step is over, so during a step they read as
they were before it).

Configurations are plain frozensets here; the quorum arithmetic is written
again on purpose (``Config.has_quorum``) rather than borrowed from the core.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from traces.projection import Projection
from traces.schema import actor_node

Event = dict[str, Any]


def chain(previous: int | None, term: int, crc: int) -> int | None:
    """Hash of a log prefix; None once any earlier link is unknown."""
    if previous is None:
        return None
    return zlib.crc32(b"%d:%d" % (term, crc), previous)


@dataclass(slots=True, frozen=True)
class Config:
    voters: frozenset[int] = frozenset()
    outgoing: frozenset[int] = frozenset()
    learners: frozenset[int] = frozenset()

    @staticmethod
    def from_json(obj: Any) -> Config:
        if not isinstance(obj, dict):
            return Config()
        # ``learners_next`` are left out on purpose: they are voters of the
        # outgoing half until the joint configuration is left.
        return Config(
            frozenset(obj.get("voters", ())),
            frozenset(obj.get("outgoing", ())),
            frozenset(obj.get("learners", ())),
        )

    @property
    def joint(self) -> bool:
        return bool(self.outgoing)

    def is_voter(self, node: int) -> bool:
        return node in self.voters or node in self.outgoing

    def halves(self) -> list[tuple[str, frozenset[int]]]:
        if self.outgoing:
            return [("incoming", self.voters), ("outgoing", self.outgoing)]
        return [("voters", self.voters)]

    def has_quorum(self, support: Iterable[int]) -> tuple[bool, str]:
        """Whether ``support`` holds a majority of every half; if not, why."""
        present = set(support)
        for name, half in self.halves():
            have = sorted(present & half)
            need = len(half) // 2 + 1
            if len(have) < need:
                members = ",".join(map(str, sorted(half)))
                who = "the voters" if name == "voters" else f"the {name} voters"
                return False, (
                    f"{who} {{{members}}} need {need} but only "
                    f"{len(have)} ({','.join(map(str, have)) or 'none'}) are among them"
                )
        return True, ""

    def describe(self) -> str:
        text = "voters " + (",".join(map(str, sorted(self.voters))) or "none")
        if self.outgoing:
            text += " & " + ",".join(map(str, sorted(self.outgoing)))
        if self.learners:
            text += " learners " + ",".join(map(str, sorted(self.learners)))
        return text


class LogModel:
    """A log as (term, crc, chain, is_conf) per index after a snapshot point."""

    __slots__ = ("chains", "confs", "crcs", "snap", "snap_chain", "snap_term", "terms")

    def __init__(self, snap: int = 0, snap_term: int = 0, snap_chain: int | None = 0) -> None:
        self.snap = snap
        self.snap_term = snap_term
        self.snap_chain = snap_chain
        self.terms: list[int] = []
        self.crcs: list[int] = []
        self.chains: list[int | None] = []
        self.confs: list[bool] = []

    @property
    def last(self) -> int:
        return self.snap + len(self.terms)

    def term_at(self, index: int) -> int | None:
        offset = index - self.snap
        if offset == 0:
            return self.snap_term
        if 0 < offset <= len(self.terms):
            return self.terms[offset - 1]
        return None

    def chain_at(self, index: int) -> int | None:
        offset = index - self.snap
        if offset == 0:
            return self.snap_chain
        if 0 < offset <= len(self.chains):
            return self.chains[offset - 1]
        return None

    def is_conf(self, index: int) -> bool:
        offset = index - self.snap
        return 0 < offset <= len(self.confs) and self.confs[offset - 1]

    def crc_at(self, index: int) -> int | None:
        offset = index - self.snap
        if 0 < offset <= len(self.crcs):
            return self.crcs[offset - 1]
        return None

    def append(self, index: int, term: int, crc: int, conf: bool) -> int | None:
        if index <= self.last:
            self.truncate_after(index - 1)
        elif index > self.last + 1:
            # A gap: we missed events (a partial trace); links are unknown now.
            self.install(index - 1, 0, None)
        link = chain(self.chain_at(index - 1), term, crc)
        self.terms.append(term)
        self.crcs.append(crc)
        self.chains.append(link)
        self.confs.append(conf)
        return link

    def truncate_after(self, index: int) -> None:
        keep = max(0, index - self.snap)
        del self.terms[keep:], self.crcs[keep:], self.chains[keep:], self.confs[keep:]

    def compact(self, index: int) -> None:
        drop = index - self.snap
        if drop <= 0:
            return
        if drop > len(self.terms):
            self.install(index, 0, None)
            return
        self.snap_term = self.terms[drop - 1]
        self.snap_chain = self.chains[drop - 1]
        self.snap = index
        del self.terms[:drop], self.crcs[:drop], self.chains[:drop], self.confs[:drop]

    def install(self, index: int, term: int, link: int | None) -> None:
        self.snap, self.snap_term, self.snap_chain = index, term, link
        self.terms, self.crcs, self.chains, self.confs = [], [], [], []

    def copy(self) -> LogModel:
        other = LogModel(self.snap, self.snap_term, self.snap_chain)
        other.terms = self.terms[:]
        other.crcs = self.crcs[:]
        other.chains = self.chains[:]
        other.confs = self.confs[:]
        return other


#: A durable write as the model holds it until it completes: (persist id,
#: first index written, the entries, the snapshot written, the hard state).
Write = tuple[
    int,
    int,
    list[tuple[int, int, int, bool]],
    tuple[int, int, int | None] | None,
    tuple[int, int, int] | None,
]


class NodeModel:
    __slots__ = (
        "actor",
        "commit",
        "config",
        "disk",
        "hard",
        "id",
        "log",
        "lost",
        "pending",
        "role",
        "term",
        "up",
    )

    def __init__(self, actor: str, node_id: int) -> None:
        self.actor = actor
        self.id = node_id
        self.role = "follower"
        self.term = 0
        self.config = Config()
        self.log = LogModel()
        self.disk = LogModel()
        #: Writes requested and not yet acknowledged, in order.
        self.pending: list[Write] = []
        #: Writes that were still pending when the node crashed (lost with it).
        self.lost: list[Write] = []
        #: The durable hard state (term, vote, commit) after acknowledged writes.
        self.hard: tuple[int, int, int] = (0, 0, 0)
        #: The commit index as the commit, snapshot and restart events say.
        self.commit = 0
        self.up = False


class ClusterModel:
    """Shared by every checker of a run; updated by the runner before
    checkers see an event."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeModel] = {}
        self.projection = Projection()
        #: Chain hash of the committed prefix ending at each committed index.
        self.committed: dict[int, tuple[int, int | None]] = {}
        self.max_committed = 0
        #: Facts about the event just processed, for checkers.
        self.appended: list[tuple[int, int, int | None, bool]] = []
        self.prev_last = 0
        self.newly_committed: list[tuple[int, int, int | None]] = []
        #: Entries of the last ``append`` that overlapped the log: (index, term
        #: and crc before, term and crc the append gave).
        self.overlaps: list[tuple[int, int, int, int, int]] = []
        #: Entries the last ``snapshot_take`` folded into the snapshot: (index, term, crc).
        self.folded: list[tuple[int, int, int]] = []
        #: The input event of the step in progress (its ``st`` is the state after it).
        self.step: Event | None = None
        #: Messages in flight, by message id: what a ``recv`` delivers.
        self.messages: dict[str, Event] = {}
        #: Extra copies in flight of duplicated messages.
        self.copies: dict[str, int] = {}
        #: The message the current ``recv`` step delivers (None for other steps).
        self.delivered: Event | None = None
        #: Whether the trace has shown any ``persist`` yet: hand-made traces
        #: may leave durability out, and checkers of it then stay silent.
        self.durability_traced = False
        #: Whether the last restart claimed exactly what its completed writes
        #: made durable.
        self.restart_found = True

    # -- queries ---------------------------------------------------------------

    def node(self, actor: str) -> NodeModel:
        model = self.nodes.get(actor)
        if model is None:
            node_id = actor_node(actor) or 0
            model = self.nodes[actor] = NodeModel(actor, node_id)
        return model

    def state(self, actor: str) -> dict[str, Any]:
        """The node's spec-visible state before the current step."""
        return self.projection.state(actor)

    def after_step(self, actor: str, field: str) -> Any:
        """A state field as it is at the end of the step in progress."""
        step = self.step
        if step is not None and step["n"] == actor:
            delta = step.get("st")
            if delta and field in delta:
                return delta[field]
        return self.projection.state(actor).get(field)

    def describe(self, actor: str) -> str:
        node = self.node(actor)
        st = self.state(actor)
        return (
            f"{actor}: {node.role}, term {st.get('term', node.term)}, "
            f"commit {st.get('commit', '?')}, applied {st.get('applied', '?')}, "
            f"log up to {node.log.last} (snapshot {node.log.snap}), {node.config.describe()}"
        )

    # -- updates -----------------------------------------------------------------

    def end_step(self, input_event: Event) -> None:
        """Take a finished step's state delta into account."""
        self.step = None
        self.projection.apply(input_event)
        delta = input_event.get("st")
        if delta:
            node = self.node(input_event["n"])
            if "role" in delta:
                node.role = delta["role"]
            if "term" in delta:
                node.term = delta["term"]
            if "conf" in delta:
                node.config = Config.from_json(delta["conf"])

    def update(self, event: Event) -> None:
        action = event["act"]
        handler = _UPDATES.get(action)
        if handler is not None:
            handler(self, event)

    def _boot(self, event: Event) -> None:
        node = self.node(event["n"])
        st = event.get("st", {})
        node.up = True
        node.pending = []
        node.commit = st.get("commit", 0)
        if event["act"] == "boot":
            snap = st.get("snap", 0)
            node.log = LogModel(snap, 0, 0)
            node.disk = LogModel(snap, 0, 0)
            node.hard = (st.get("term", 0), st.get("vote", 0), st.get("commit", 0))
            if snap and snap not in self.committed:
                self.committed[snap] = (0, 0)  # the founders' shared bootstrap snapshot
                self.max_committed = max(self.max_committed, snap)
        else:
            self._recover(node, (event.get("in") or {}).get("durable"))
            node.log = node.disk.copy()
        node.lost = []

    def _recover(self, node: NodeModel, claim: Any) -> None:
        """Whether the durable state a restart claims is the disk its
        completed writes built."""
        self.restart_found = claim is None or _explains(node.disk, node.hard, claim)

    def _append(self, event: Event) -> None:
        node = self.node(event["n"])
        log = node.log
        self.prev_last = log.last
        added = []
        overlaps = []
        for raw in event.get("entries", ()):
            index, term, crc = raw[0], raw[1], raw[2]
            conf = len(raw) > 3 and bool(raw[3])
            if log.snap < index <= log.last:
                # An append note may not silently rewrite what the log holds:
                # the facts go to the checkers. An entry the log already has
                # is kept with what follows it, as Raft does; a different one
                # replaces it and what follows (the model follows the note).
                old_term, old_crc = log.terms[index - log.snap - 1], log.crcs[index - log.snap - 1]
                overlaps.append((index, old_term, old_crc, term, crc))
                if (old_term, old_crc) == (term, crc):
                    added.append((index, term, log.chain_at(index), conf))
                    continue
            added.append((index, term, log.append(index, term, crc, conf), conf))
        self.appended = added
        self.overlaps = overlaps

    def _truncate(self, event: Event) -> None:
        self.node(event["n"]).log.truncate_after(event.get("after", 0))

    def _snapshot_take(self, event: Event) -> None:
        log = self.node(event["n"]).log
        index = event.get("index", 0)
        self.folded = [
            (i, log.terms[i - log.snap - 1], log.crcs[i - log.snap - 1])
            for i in range(log.snap + 1, min(index, log.last) + 1)
        ]
        log.compact(index)

    def _snapshot_install(self, event: Event) -> None:
        index = event.get("index", 0)
        known = self.committed.get(index)
        link = known[1] if known is not None else None
        node = self.node(event["n"])
        node.log.install(index, event.get("last_term", 0), link)
        node.commit = max(node.commit, index)

    def _persist(self, event: Event) -> None:
        node = self.node(event["n"])
        log = node.log
        first, last = event.get("entries", [0, -1])
        entries = [
            (
                i,
                log.terms[i - log.snap - 1],
                log.crcs[i - log.snap - 1],
                log.confs[i - log.snap - 1],
            )
            for i in range(max(first, log.snap + 1), min(last, log.last) + 1)
        ]
        snap = event.get("snap")
        snapshot = (snap, log.snap_term, log.snap_chain) if snap is not None else None
        raw_hs = event.get("hs")
        hs = (raw_hs[0], raw_hs[1], raw_hs[2]) if raw_hs else None
        node.pending.append((event.get("id", 0), first, entries, snapshot, hs))
        self.durability_traced = True

    def _persisted(self, event: Event) -> None:
        node = self.node(event["n"])
        upto = (event.get("in") or {}).get("id", 0)
        pending = node.pending
        done = 0
        while done < len(pending) and pending[done][0] <= upto:
            node.hard = write_to(node.disk, pending[done], node.hard)
            done += 1
        if done:
            del pending[:done]

    def _crash(self, event: Event) -> None:
        node_id = event.get("node")
        if isinstance(node_id, int):
            node = self.node(f"n{node_id}")
            node.up = False
            written = event.get("written")
            if isinstance(written, int):
                # The driver says these writes reached the disk, although the
                # process died before storage could acknowledge them.
                while node.pending and node.pending[0][0] <= written:
                    node.hard = write_to(node.disk, node.pending.pop(0), node.hard)
            node.lost = node.pending
            node.pending = []
            node.role = "down"

    def _send(self, event: Event) -> None:
        msg = event.get("msg")
        if msg is not None:
            self.messages[event["mid"]] = msg

    def _recv(self, event: Event) -> None:
        self.delivered = self._arrived(event["in"]["mid"])

    def _arrived(self, mid: str) -> Event | None:
        """A copy of message ``mid`` arrived or was lost: forget it once no
        copy is left in flight, so the table holds only messages in flight."""
        copies = self.copies.get(mid)
        if copies:
            self.copies[mid] = copies - 1
            return self.messages.get(mid)
        self.copies.pop(mid, None)
        return self.messages.pop(mid, None)

    def _drop(self, event: Event) -> None:
        self._arrived(event["mid"])

    def _duplicate(self, event: Event) -> None:
        mid = event["mid"]
        self.copies[mid] = self.copies.get(mid, 0) + 1

    def _become(self, event: Event) -> None:
        node = self.node(event["n"])
        node.role = event["act"].removeprefix("become_")
        node.term = event.get("term", node.term)

    def _conf_apply(self, event: Event) -> None:
        self.node(event["n"]).config = Config.from_json(event.get("conf"))

    def _commit(self, event: Event) -> None:
        node = self.node(event["n"])
        index = event.get("index", 0)
        node.commit = max(node.commit, index)
        fresh = []
        if index > self.max_committed:
            log = node.log
            for i in range(max(self.max_committed + 1, log.snap), index + 1):
                term = log.term_at(i)
                if term is not None and i not in self.committed:
                    link = log.chain_at(i)
                    self.committed[i] = (term, link)
                    fresh.append((i, term, link))
            self.max_committed = index
        self.newly_committed = fresh


def write_to(disk: LogModel, write: Write, hard: tuple[int, int, int]) -> tuple[int, int, int]:
    """Carry out one completed write on ``disk``; returns the new hard state."""
    _, first, entries, snapshot, hs = write
    if snapshot is not None and snapshot[0] > disk.snap:
        index, term, link = snapshot
        if index <= disk.last and disk.term_at(index) == term:
            disk.compact(index)
        else:
            disk.install(index, term, link)
    if entries:
        disk.truncate_after(first - 1)
        for index, term, crc, conf in entries:
            disk.append(index, term, crc, conf)
    return hs if hs is not None else hard


def _explains(disk: LogModel, hard: tuple[int, int, int], claim: Any) -> bool:
    if not isinstance(claim, dict):
        return False
    return (
        claim.get("term") == hard[0]
        and claim.get("vote") == hard[1]
        and claim.get("commit") == hard[2]
        and claim.get("snap") == disk.snap
        and claim.get("last") == disk.last
    )


_UPDATES = {
    "boot": ClusterModel._boot,
    "restart": ClusterModel._boot,
    "append": ClusterModel._append,
    "truncate": ClusterModel._truncate,
    "snapshot_take": ClusterModel._snapshot_take,
    "snapshot_install": ClusterModel._snapshot_install,
    "persist": ClusterModel._persist,
    "persisted": ClusterModel._persisted,
    "crash": ClusterModel._crash,
    "become_follower": ClusterModel._become,
    "become_precandidate": ClusterModel._become,
    "become_candidate": ClusterModel._become,
    "become_leader": ClusterModel._become,
    "conf_apply": ClusterModel._conf_apply,
    "commit": ClusterModel._commit,
    "send": ClusterModel._send,
    "recv": ClusterModel._recv,
    "drop": ClusterModel._drop,
    "duplicate": ClusterModel._duplicate,
}
