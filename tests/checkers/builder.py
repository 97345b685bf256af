"""A small builder of hand-made traces, for the checker and CLI tests.

Checkers must be shown traces they reject, and the smallest honest way to get
one is to write it by hand. ``TraceBuilder`` keeps the bookkeeping right so
that a test says only what matters:

- events get ``seq`` 1, 2, ... in order, a time ``t`` (1 ms per node step or
  other event; a step's effects share its time) and a Lamport clock ``lc``
  per actor (a ``recv`` jumps past the sender's clock, as
  ``consensus.traced`` does);
- a node step is one input event (``act`` one of ``INPUT_ACTIONS``) with
  ``tk``, ``st`` (the spec-visible state as a delta against the node's
  previous step: only the fields that changed; a boot or restart carries all
  of them) and ``dg`` (a digest of the full state), followed by its effect
  events, each with ``cause`` = the input's ``seq``. Every event of a step
  carries the node's term *after* the step;
- ``send`` effects get a message id ``"<node>:<lc>"``; ``recv(node, mid)``
  delivers it (``in.mid``, ``in.type``, ``cause`` = the send's seq).

A step's new state is what the test passes in ``st``, plus what its effects
plainly imply unless ``st`` says otherwise: ``become_<role>`` sets ``role``,
``append``/``truncate`` move ``last``/``last_term``, ``snapshot_install``
moves ``snap``, ``last``, ``last_term`` and ``commit``, a ``commit`` effect
moves ``commit``, ``conf_apply`` sets ``conf``, and an ``applied`` input sets
``applied``. Nothing else is inferred: a test that wants a state its effects
do not explain writes it in ``st``. The builder also keeps each node's log
(from ``append``/``truncate``) so that the exchange helpers (``elect``,
``replicate``, ``leader_commit``) can fill in message fields and entries.

Entries are ``(index, term, crc)``, or ``(index, term, crc, 1)`` for a
configuration change, as in ``append`` and ``apply`` events. Every node boots
from the founders' shared snapshot at index 1, as in the simulator.

Example: n1 wins term 1, replicates its first entry to n2 and commits it::

    b = TraceBuilder(voters=[1, 2, 3])                 # boots n1..n3
    b.elect(1, term=1, votes=[1, 2], entry=(2, 1, 0))
    ack = b.replicate(1, 2, (2, 1, 0))                 # n2 appends, acknowledges
    b.leader_commit(1, ack, 2, support=[1, 2])         # commit 2, apply it
    b.write(tmp_path / "trace.jsonl")                  # header + events
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from consensus.config import RaftConfig
from traces.recorder import make_header
from traces.schema import INPUT_ACTIONS, STATE_FIELDS, node_actor

Event = dict[str, Any]
Entry = tuple[int, ...]

BOOT_SNAPSHOT = 1


@dataclass(slots=True)
class Step:
    """The sequence numbers one node step was given."""

    seq: int
    #: (seq, action) of each effect, in order.
    effects: list[tuple[int, str]] = field(default_factory=list)
    #: Message id of each ``send`` effect, in order.
    mids: list[str] = field(default_factory=list)

    def effect(self, action: str) -> int:
        """The seq of the step's first effect with this action."""
        for seq, act in self.effects:
            if act == action:
                return seq
        raise KeyError(f"no {action} effect in step {self.seq}")


# -- effects and messages ---------------------------------------------------------


def effect(action: str, **fields: Any) -> Event:
    """Any effect event: its action and its fields."""
    return {"act": action, **fields}


def become(role: str, **fields: Any) -> Event:
    """``become_leader`` (pass ``votes=[...]``), ``become_candidate``..."""
    return effect(f"become_{role}", **fields)


def append(*entries: Entry) -> Event:
    return effect("append", entries=[list(e) for e in entries])


def apply(*entries: Entry) -> Event:
    return effect("apply", entries=[list(e) for e in entries])


def truncate(after: int) -> Event:
    return effect("truncate", after=after)


def commit(index: int, support: Sequence[int] | None = None, leader: int = 0) -> Event:
    """A leader's commit (with the ``support`` it counted) or a follower's
    (learned from ``leader``)."""
    if support is not None:
        return effect("commit", index=index, support=list(support))
    return effect("commit", index=index, leader=leader)


def conf_apply(index: int, configuration: dict[str, Any], change: str = "") -> Event:
    return effect("conf_apply", index=index, change=change, conf=configuration)


def send(msg: dict[str, Any]) -> Event:
    return effect("send", msg=msg)


def persist(
    pid: int, hs: Sequence[int], entries: Sequence[int] | None = None, snap: int | None = None
) -> Event:
    """A write request: hard state ``[term, vote, commit]``, the entries
    ``[first, last]`` of the node's log, and a snapshot index."""
    fields: dict[str, Any] = {"id": pid, "hs": list(hs)}
    if entries is not None:
        fields["entries"] = list(entries)
    if snap is not None:
        fields["snap"] = snap
    return effect("persist", **fields)


def message(kind: str, src: int, dst: int, term: int, **fields: Any) -> dict[str, Any]:
    """A message in the trace's JSON form (see ``consensus.codec``)."""
    return {"type": kind, "term": term, "src": src, "dst": dst, **fields}


def vote_resp(src: int, dst: int, term: int, granted: bool, pre: bool = False) -> Event:
    """A ``send`` of a vote (or pre-vote) response."""
    return send(message("vote_resp", src, dst, term, granted=granted, pre=pre))


def conf(
    voters: Iterable[int],
    outgoing: Iterable[int] = (),
    learners: Iterable[int] = (),
    learners_next: Iterable[int] = (),
    auto_leave: bool = False,
) -> dict[str, Any]:
    """A configuration in the trace's JSON form (``Membership.to_json``)."""
    out: dict[str, Any] = {"voters": sorted(voters)}
    for key, group in (
        ("outgoing", outgoing),
        ("learners", learners),
        ("learners_next", learners_next),
    ):
        if group:
            out[key] = sorted(group)
    if auto_leave:
        out["auto_leave"] = True
    return out


def digest(state: Event) -> str:
    return f"{zlib.crc32(orjson.dumps(state, option=orjson.OPT_SORT_KEYS)):08x}"


# -- the builder -------------------------------------------------------------------


class TraceBuilder:
    def __init__(self, voters: Iterable[int] = (1, 2, 3), learners: Iterable[int] = ()) -> None:
        """A trace whose first events boot ``voters`` and ``learners``, all
        with that configuration."""
        self.voters = sorted(voters)
        self.learners = sorted(learners)
        self.events: list[Event] = []
        self.header: Event = make_header(
            "hand-made",
            seed=0,
            nodes=self.voters + self.learners,
            raft=RaftConfig().to_json(),
        )
        self._lc: dict[str, int] = {}
        self._state: dict[str, Event] = {}
        self._logs: dict[str, dict[int, Entry]] = {}
        self._sends: dict[str, tuple[int, str]] = {}  # mid -> (send seq, message type)
        self._pids: dict[str, int] = {}  # node -> last persist id
        self._t = 0
        initial = conf(self.voters, learners=self.learners)
        for node in self.voters + self.learners:
            self.boot(node, initial)

    # -- queries -----------------------------------------------------------------

    def state(self, node: int) -> Event:
        """The node's full spec-visible state after its last step."""
        return dict(self._state[node_actor(node)])

    def event(self, seq: int) -> Event:
        return self.events[seq - 1]

    def entries(self, node: int, first: int, last: int) -> list[Entry]:
        """``node``'s log entries ``first..last``."""
        log = self._logs[node_actor(node)]
        return [log[i] for i in range(first, last + 1)]

    def term_at(self, node: int, index: int) -> int | None:
        entry = self._logs[node_actor(node)].get(index)
        return entry[1] if entry is not None else None

    # -- node steps -----------------------------------------------------------------

    def boot(self, node: int, configuration: dict[str, Any], snap: int = BOOT_SNAPSHOT) -> int:
        state = {
            "term": 0,
            "role": "follower",
            "vote": 0,
            "lead": 0,
            "commit": snap,
            "applied": snap,
            "last": snap,
            "last_term": 0,
            "snap": snap,
            "conf": configuration,
        }
        self._logs[node_actor(node)] = {snap: (snap, 0, 0)}
        payload = {"seed": node, "conf": configuration}
        return self._input(node, "boot", payload, state, (), None, full=True).seq

    def restart(
        self, node: int, cause: int | None = None, durable: dict[str, int] | None = None, **st: Any
    ) -> int:
        """``node`` restarts from its disk (the builder assumes every write
        reached it): a follower with nothing applied past its snapshot,
        unless ``st`` says otherwise. Its ``in.durable`` claim is its new
        state, or ``durable`` if given."""
        old = self.state(node)
        new = {**old, "role": "follower", "lead": 0, "applied": old["snap"], **st}
        if durable is None:
            durable = {k: new[k] for k in ("term", "vote", "commit", "snap", "last")}
        payload = {"seed": node, "durable": durable}
        return self._input(node, "restart", payload, new, (), cause, full=True).seq

    def step(
        self,
        node: int,
        action: str,
        st: dict[str, Any] | None = None,
        effects: Sequence[Event] = (),
        inp: dict[str, Any] | None = None,
        cause: int | None = None,
    ) -> Step:
        """One input to ``node`` (``in`` = ``inp``) and what it caused."""
        assert action in INPUT_ACTIONS, f"{action} is not an input action"
        assert action not in ("boot", "restart", "recv"), "use boot(), restart() or recv()"
        new = self._next_state(node, action, inp, st or {}, effects)
        return self._input(node, action, inp, new, effects, cause)

    def recv(
        self,
        node: int,
        mid: str,
        st: dict[str, Any] | None = None,
        effects: Sequence[Event] = (),
    ) -> Step:
        """``node`` receives the message sent as ``mid``."""
        send_seq, kind = self._sends[mid]
        actor = node_actor(node)
        self._lc[actor] = max(self._lc.get(actor, 0), int(mid.rsplit(":", 1)[1]))
        new = self._next_state(node, "recv", None, st or {}, effects)
        return self._input(node, "recv", {"mid": mid, "type": kind}, new, effects, send_seq)

    def persisted(self, node: int, pid: int, effects: Sequence[Event] = ()) -> Step:
        """Storage reports every write of ``node`` up to ``pid`` done."""
        return self.step(node, "persisted", inp={"id": pid}, effects=effects)

    def applied(self, node: int, index: int, effects: Sequence[Event] = (), **st: Any) -> Step:
        """The state machine acknowledges the entries up to ``index``."""
        return self.step(node, "applied", st=st, effects=effects, inp={"index": index})

    def propose(self, node: int, entry: Entry) -> Step:
        """The leader ``node`` accepts a proposal as ``entry``."""
        if len(entry) > 3 and entry[3]:
            inp: dict[str, Any] = {"change": {"items": [], "transition": "auto"}}
            action = "propose_conf"
        else:
            inp, action = {"data": f"op{entry[0]}"}, "propose"
        return self.step(
            node, action, inp=inp, effects=[append(entry), effect("accepted", index=entry[0])]
        )

    # -- durable steps ----------------------------------------------------------------

    def durably(
        self,
        node: int,
        st: dict[str, Any],
        effects: Sequence[Event] = (),
        sends: Sequence[dict[str, Any]] = (),
        mid: str | None = None,
        entries: tuple[int, int] | None = None,
        acknowledge: bool = True,
    ) -> Step:
        """A step of ``node`` (a tick, or the delivery of ``mid``) that changes
        durable state: its ``effects``, then a ``persist`` of the new hard
        state (and of log ``entries`` ``(first, last)``, if given); then, if
        ``acknowledge``, the storage's ``persisted`` step, which releases
        ``sends``. Returns the step that sent (the write's step when not
        acknowledged, with nothing sent)."""
        actor = node_actor(node)
        pid = self._pids[actor] = self._pids.get(actor, 0) + 1
        now = {**self.state(node), **st}
        write = persist(pid, [now["term"], now["vote"], now["commit"]], entries)
        if mid is None:
            step = self.step(node, "tick", st=st, effects=[*effects, write])
        else:
            step = self.recv(node, mid, st=st, effects=[*effects, write])
        if not acknowledge:
            return step
        return self.persisted(node, pid, effects=[send(m) for m in sends])

    def vote_request(self, node: int, voter: int, term: int) -> dict[str, Any]:
        """The (non-pre-vote) request ``node`` sends ``voter`` for ``term``,
        with its log position as the builder holds it now."""
        me = self.state(node)
        return message(
            "vote_req",
            node,
            voter,
            term,
            last_index=me["last"],
            last_term=me["last_term"],
            pre=False,
            transfer=False,
        )

    def elect_durably(self, node: int, term: int, votes: Sequence[int]) -> Step:
        """``elect`` as a correct core does it with storage: the candidate's
        term and self-vote are durable before it asks, each vote is durable
        before it is granted. Returns the winning step."""
        others = [v for v in votes if v != node]
        requests = [self.vote_request(node, v, term) for v in others]
        ask = self.durably(
            node,
            {"term": term, "vote": node, "lead": 0},
            [become("candidate", transfer=False)],
            requests,
        )
        grants = []
        for voter, mid in zip(others, ask.mids, strict=True):
            theirs = self.state(voter)
            effects: list[Event] = []
            st: dict[str, Any] = {"vote": node}
            if theirs["term"] < term:
                effects.append(become("follower", previous=theirs["role"], lead=0))
                st.update(term=term, lead=0)
            grant = message("vote_resp", voter, node, term, granted=True, pre=False)
            grants.append(self.durably(voter, st, effects, [grant], mid=mid).mids[-1])
        for mid in grants[:-1]:
            self.recv(node, mid)
        return self.recv(
            node, grants[-1], st={"lead": node}, effects=[become("leader", votes=sorted(votes))]
        )

    # -- common exchanges -------------------------------------------------------------

    def elect(self, node: int, term: int, votes: Sequence[int], entry: Entry | None = None) -> Step:
        """``node`` campaigns for ``term`` and wins with the votes of ``votes``
        (itself included).

        It becomes candidate on a tick and asks the others in ``votes``; each
        grants its vote (adopting the term, as a follower, if it is newer),
        and the last grant makes ``node`` leader. ``entry``, if given, is the
        entry the new leader appends at once. Returns the winning step.
        """
        others = [v for v in votes if v != node]
        requests = [send(self.vote_request(node, v, term)) for v in others]
        ask = self.step(
            node,
            "tick",
            st={"term": term, "vote": node, "lead": 0},
            effects=[become("candidate", transfer=False), *requests],
        )
        grants = []
        for voter, mid in zip(others, ask.mids, strict=True):
            theirs = self.state(voter)
            effects: list[Event] = []
            st: dict[str, Any] = {"vote": node}
            if theirs["term"] < term:
                effects.append(become("follower", previous=theirs["role"], lead=0))
                st.update(term=term, lead=0)
            effects.append(vote_resp(voter, node, term, True))
            grants.append(self.recv(voter, mid, st=st, effects=effects).mids[-1])
        win = [become("leader", votes=sorted(votes)), *([append(entry)] if entry else [])]
        if not grants:
            return self.step(node, "tick", st={"lead": node}, effects=win)
        for mid in grants[:-1]:
            self.recv(node, mid)
        return self.recv(node, grants[-1], st={"lead": node}, effects=win)

    def replicate(self, leader: int, follower: int, *entries: Entry) -> Step:
        """``leader`` sends ``entries`` (none: a heartbeat-like append) with
        its commit index, and ``follower`` takes them as a correct follower
        does: it adopts a newer term, truncates from the first conflicting
        entry, appends what it lacks, commits and applies what the leader
        says is committed, and acknowledges. Returns the follower's step;
        ``mids[-1]`` is the acknowledgement."""
        ours = self.state(leader)
        prev = entries[0][0] - 1 if entries else ours["last"]
        request = message(
            "append_req",
            leader,
            follower,
            ours["term"],
            prev_index=prev,
            prev_term=self.term_at(leader, prev) or 0,
            entries=[[e[0], e[1], ""] for e in entries],
            commit=ours["commit"],
        )
        assert self.term_at(follower, prev) == self.term_at(leader, prev), (
            f"n{follower} does not hold n{leader}'s entry {prev}: send the entries it lacks"
        )
        sent = self.step(leader, "tick", effects=[send(request)])
        theirs = self.state(follower)
        effects: list[Event] = []
        st: dict[str, Any] = {"lead": leader}
        if theirs["term"] < ours["term"] or theirs["role"] != "follower":
            effects.append(become("follower", previous=theirs["role"], lead=leader))
            st["term"] = ours["term"]
        fresh = [e for e in entries if self.term_at(follower, e[0]) != e[1]]
        if fresh and fresh[0][0] <= theirs["last"]:
            effects.append(truncate(fresh[0][0] - 1))
        if fresh:
            effects.append(append(*fresh))
        last = entries[-1][0] if entries else prev
        target = min(ours["commit"], last)
        if target > theirs["commit"]:
            effects.append(commit(target, leader=leader))
        ack = message(
            "append_resp",
            follower,
            leader,
            ours["term"],
            success=True,
            index=last,
            hint_index=0,
            hint_term=0,
        )
        effects.append(send(ack))
        step = self.recv(follower, sent.mids[0], st=st, effects=effects)
        if target > theirs["commit"]:
            # Entries are handed to the state machine after the step that
            # committed them (the ``apply`` effect comes last, as in the core).
            entries = self.entries(follower, theirs["commit"] + 1, target)
            self._add_effect(step, follower, apply(*entries))
        return step

    def leader_commit(self, leader: int, ack: Step, index: int, support: Sequence[int]) -> Step:
        """``leader`` receives the acknowledgement sent in step ``ack``,
        commits up to ``index`` counting ``support`` and hands the newly
        committed entries to its state machine."""
        before = self.state(leader)["commit"]
        return self.recv(
            leader,
            ack.mids[-1],
            effects=[
                commit(index, support=support),
                apply(*self.entries(leader, before + 1, index)),
            ],
        )

    def send_from(self, node: int, msg: dict[str, Any]) -> str:
        """``node`` sends ``msg`` on a tick; returns its message id."""
        return self.step(node, "tick", effects=[send(msg)]).mids[0]

    # -- other actors -------------------------------------------------------------------

    def emit(self, actor: str, action: str, cause: int | None = None, **fields: Any) -> int:
        """An event of ``client``, ``net``, ``env`` or ``ctrl``."""
        event = self._head(actor, action)
        if cause is not None:
            event["cause"] = cause
        event.update(fields)
        return self._append(event)

    def crash(self, node: int) -> int:
        return self.emit("env", "crash", node=node, reason="crash")

    # -- output -------------------------------------------------------------------------

    def lines(self) -> list[bytes]:
        return [orjson.dumps(self.header), *(orjson.dumps(e) for e in self.events)]

    def write(self, path: Path) -> Path:
        path.write_bytes(b"\n".join(self.lines()) + b"\n")
        return path

    # -- internals ----------------------------------------------------------------------

    def _next_state(
        self,
        node: int,
        action: str,
        inp: dict[str, Any] | None,
        st: dict[str, Any],
        effects: Sequence[Event],
    ) -> Event:
        unknown = set(st) - set(STATE_FIELDS)
        assert not unknown, f"not state fields: {sorted(unknown)}"
        new = self.state(node)
        log = self._logs[node_actor(node)]
        if action == "applied" and inp is not None:
            new["applied"] = inp["index"]
        for e in effects:
            act = e["act"]
            if act.startswith("become_"):
                new["role"] = act.removeprefix("become_")
            elif act == "append" and e["entries"]:
                for raw in e["entries"]:
                    for later in [i for i in log if i >= raw[0]]:
                        del log[later]
                    log[raw[0]] = tuple(raw)
                new["last"], new["last_term"] = e["entries"][-1][0], e["entries"][-1][1]
            elif act == "truncate":
                for later in [i for i in log if i > e["after"]]:
                    del log[later]
                new["last"], new["last_term"] = e["after"], self.term_at(node, e["after"]) or 0
            elif act == "snapshot_install":
                log.clear()
                log[e["index"]] = (e["index"], e["last_term"], 0)
                new.update(snap=e["index"], last=e["index"], last_term=e["last_term"])
                new["commit"] = max(new["commit"], e["index"])
            elif act == "commit":
                new["commit"] = max(new["commit"], e["index"])
            elif act == "conf_apply":
                new["conf"] = e["conf"]
        new.update(st)
        return new

    def _head(self, actor: str, action: str, advance: bool = True) -> Event:
        if advance:
            self._t += 1000
        self._lc[actor] = self._lc.get(actor, 0) + 1
        return {"seq": 0, "t": self._t, "n": actor, "lc": self._lc[actor], "act": action}

    def _append(self, event: Event) -> int:
        event["seq"] = len(self.events) + 1
        self.events.append(event)
        return int(event["seq"])

    def _input(
        self,
        node: int,
        action: str,
        payload: dict[str, Any] | None,
        new: Event,
        effects: Sequence[Event],
        cause: int | None,
        full: bool = False,
    ) -> Step:
        actor = node_actor(node)
        old = self._state.get(actor)
        delta = {k: new[k] for k in STATE_FIELDS if full or old is None or old[k] != new[k]}
        self._state[actor] = new
        event = self._head(actor, action)
        event["term"] = new["term"]
        event["tk"] = self._t // 10_000
        if payload is not None:
            event["in"] = payload
        if cause is not None:
            event["cause"] = cause
        if delta:
            event["st"] = delta
        event["dg"] = digest(new)
        step = Step(self._append(event))
        for fields in effects:
            self._add_effect(step, node, fields)
        return step

    def _add_effect(self, step: Step, node: int, fields: Event) -> None:
        assert self.events[-1]["n"] == node_actor(node), "a step's effects follow it"
        actor = node_actor(node)
        line = self._head(actor, fields["act"], advance=False)
        line["term"] = self._state[actor]["term"]
        line["cause"] = step.seq
        line.update({k: v for k, v in fields.items() if k != "act"})
        if line["act"] == "send":
            line["mid"] = f"{node}:{line['lc']}"
            step.mids.append(line["mid"])
        seq = self._append(line)
        if line["act"] == "send":
            self._sends[line["mid"]] = (seq, line["msg"]["type"])
        step.effects.append((seq, line["act"]))
