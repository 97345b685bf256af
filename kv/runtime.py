"""The node runtime: one Raft node's core carried out against its ports.

This is the code that serves clients, in the simulator and in a real
process alike: the simulator plugs in its virtual clock, disk and network
(sim/node.py, sim/cluster.py), a server plugs in asyncio timers, the
write-ahead log and the TCP transport (the ports are in kv/ports.py). What
differs between the two lives behind the ports; everything here is shared.

A ``NodeRuntime`` outlives its cores: ``start`` makes a core from durable
state, ``crash`` forgets every volatile thing (core, state machine, waiting
requests), and the next ``start`` rebuilds them from what the disk kept. The
trace identity (``consensus.traced.TracedNode``, with its Lamport clock) stays.

Carrying out one step
---------------------
``step`` hands an input to the core (through the tracer), then:

1. sends the step's messages (the core holds back any message that depends
   on a write not yet acknowledged, so sending in order *is* persist before
   send);
2. carries out the other effects in order: ``Persist`` starts a disk write
   (its completion comes back as ``persisted``, which steps ``Persisted``);
   ``ApplyEntries`` applies to the state machine, answers the proposals and
   reads that were waiting for those entries; ``ReadReady`` answers a read
   or parks it until the state machine applied far enough; ``RestoreSnapshot``
   replaces the state machine's state; ``Note`` goes to the observer;
3. runs the step's follow-ups from a work list: ``Applied`` after an apply,
   then ``Compact`` once ``snapshot_every`` entries were applied since the
   last snapshot. A follow-up is computed only when its turn comes, from the
   state the steps before it left: an ``Applied`` step may apply further,
   and a ``Compact`` drawn up before it would name a stale index;
4. arms the timer for the core's next deadline.

Client requests
---------------
``propose`` answers when the proposed entry applies, and only if it applies
in the term it was proposed in; an entry of another term at that index means
the proposal was lost (``retry``). ``read`` asks the core for a ReadIndex (or
lease) read and answers once the state machine applied the read index.
Exactly-once retries come from the state machine's session table: a command
carrying a client id and sequence number is executed once, and a retry that
commits again gets the first execution's result (kv/statemachine.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

from consensus import (
    Accepted,
    Applied,
    ApplyEntries,
    Compact,
    DurableState,
    Effect,
    Note,
    PeerError,
    Persist,
    Persisted,
    Propose,
    ProposeConfChange,
    RaftConfig,
    RaftCore,
    ReadIndex,
    ReadReady,
    ReadRefused,
    Refused,
    RestoreSnapshot,
    Tick,
    TransferLeader,
)
from consensus.confchange import ConfChange
from consensus.inputs import Input, Receive
from consensus.traced import Envelope, Sink, TracedNode
from kv.commands import Command, encode_command
from kv.ports import OK, REDIRECT, RETRY, UNKNOWN, Clock, Disk, Network, Replies, Reply, Timer
from kv.statemachine import KVStateMachine

#: What a read asks of the state machine: a key (its value), or a function of
#: the state machine (a range listing, say).
Query = str | Callable[[KVStateMachine], Any]

#: Entries applied between snapshots unless told otherwise.
SNAPSHOT_EVERY = 200

# Follow-up kinds on the work list (see the module docstring).
_ACK_APPLIED, _MAYBE_COMPACT = range(2)

_RETRY = Reply(RETRY, False)
_UNKNOWN = Reply(UNKNOWN, False)
_COVERED = Reply(UNKNOWN, False, "its index was covered by a snapshot before it applied here")


class NodeRuntime:
    """One node: its traced core, state machine and waiting client requests."""

    __slots__ = (
        "_arm",
        "_clock",
        "_on_note",
        "_read_ids",
        "_replies",
        "_send",
        "_write",
        "config",
        "id",
        "peer_errors",
        "proposals",
        "reads",
        "sm",
        "snapshot_every",
        "steps",
        "traced",
        "waiting_reads",
    )

    def __init__(
        self,
        node_id: int,
        config: RaftConfig,
        *,
        clock: Clock,
        timer: Timer,
        disk: Disk,
        network: Network,
        replies: Replies,
        sink: Sink | None = None,
        snapshot_every: int = SNAPSHOT_EVERY,
        read_ids: Iterator[int] | None = None,
        on_note: Callable[[NodeRuntime, Note], None] | None = None,
    ) -> None:
        """``read_ids`` numbers ReadIndex requests (the ``ctx`` in the trace);
        by default this node counts from 1. ``on_note`` sees every ``Note``
        effect (the simulator keeps its statistics with it)."""
        self.id = node_id
        self.config = config
        self.snapshot_every = snapshot_every
        self.traced = TracedNode(node_id, sink)
        self.sm = KVStateMachine()
        self._clock = clock
        # Bound once: these run on every step.
        self._arm = timer.arm
        self._write = disk.write
        self._send = network.send
        self._replies = replies
        self._read_ids = read_ids if read_ids is not None else itertools.count(1)
        self._on_note = on_note
        #: log index -> (request, term it was proposed in)
        self.proposals: dict[int, tuple[object, int]] = {}
        #: ReadIndex ctx -> (request, query)
        self.reads: dict[int, tuple[object, Query]] = {}
        #: (read index, request, query) confirmed but not yet applied far enough
        self.waiting_reads: list[tuple[int, object, Query]] = []
        #: Core steps taken and steps that met a peer's malformed message,
        #: over every incarnation.
        self.steps = 0
        self.peer_errors = 0

    # -- lifecycle ---------------------------------------------------------

    @property
    def core(self) -> RaftCore | None:
        """The running core, None while the node is down."""
        return self.traced.core

    @property
    def up(self) -> bool:
        return self.traced.core is not None

    def start(self, durable: DurableState, seed: int, cause: int = 0) -> None:
        """Start a core from ``durable`` (what the disk holds) with the
        election-timeout seed ``seed``; the trace records a boot or restart."""
        clock = self._clock
        core = RaftCore(self.id, self.config, seed, durable, clock.ticks())
        self.sm = KVStateMachine()
        self.sm.restore(durable.snapshot.data, durable.snapshot.index)
        self.traced.start(core, clock.now_us(), seed, durable, cause)
        self.arm_timer()

    def crash(self) -> None:
        """The process died: forget the core, the state machine and every
        waiting request (unanswered: their clients time out). The disk's
        durable state is the driver's; ``start`` takes it back."""
        self.traced.stop()
        self.sm = KVStateMachine()
        self.proposals.clear()
        self.reads.clear()
        self.waiting_reads.clear()

    def arm_timer(self) -> None:
        """Arm the timer for the core's next deadline (after a step, or when a
        frozen process resumes)."""
        core = self.traced.core
        if core is not None:
            self._arm(core.next_deadline())

    # -- inputs from the ports ---------------------------------------------

    def receive(self, envelope: Envelope) -> None:
        """A peer's message arrived."""
        self.step(Receive(envelope.msg), envelope)

    def persisted(self, persist_id: int) -> None:
        """The disk write ``persist_id`` (and every one before it) is durable."""
        self.step(Persisted(persist_id))

    def on_timer(self) -> None:
        """The timer fired: tick if a deadline is due, else wait on."""
        core = self.traced.core
        assert core is not None, "timer on a stopped node"
        if core.next_deadline() <= self._clock.ticks():
            self.step(Tick())
        else:
            self.arm_timer()

    # -- client requests -----------------------------------------------------

    def propose(self, command: Command, request: object, cause: int = 0) -> None:
        """Propose ``command``; ``request`` is answered when its entry applies
        (``ok`` or ``retry``), or at once with ``redirect`` if refused."""
        for effect in self.step(Propose(encode_command(command)), cause=cause):
            if type(effect) is Accepted:
                self.proposals[effect.index] = (request, effect.term)
            elif type(effect) is Refused:
                self._replies.answer(request, Reply(REDIRECT, False, None, effect.leader))

    def read(self, query: Query, request: object, cause: int = 0) -> None:
        """Read linearizably: answered once the core confirmed the read and
        the state machine applied its index, or ``redirect``. ``query`` is a
        key (the answer is its value) or a function of the state machine."""
        ctx = next(self._read_ids)
        self.reads[ctx] = (request, query)
        self.step(ReadIndex(ctx), cause=cause)

    def propose_conf(self, change: ConfChange, request: object) -> None:
        """Propose a configuration change; ``request`` is answered like a
        proposal's (``ok`` with the entry once it applies, ``retry``
        if another entry took its place) or at once with ``redirect`` and the
        core's reason."""
        for effect in self.step(ProposeConfChange(change)):
            if type(effect) is Accepted:
                self.proposals[effect.index] = (request, effect.term)
            elif type(effect) is Refused:
                self._replies.answer(request, Reply(REDIRECT, False, effect.reason, effect.leader))

    def transfer(self, target: int) -> Refused | None:
        """Ask the leader to hand leadership to ``target``; the core's refusal,
        if it refused. Success shows as ``target`` leading a later term."""
        for effect in self.step(TransferLeader(target)):
            if type(effect) is Refused:
                return effect
        return None

    # -- stepping ------------------------------------------------------------

    def step(self, inp: Input, envelope: Envelope | None = None, cause: int = 0) -> list[Effect]:
        """Step with ``inp``, then with its follow-ups (the work list in the
        module docstring); returns the effects of ``inp``'s own step."""
        pending: list[tuple[int, int]] = []
        effects = self._step_once(inp, envelope, cause, pending)
        traced = self.traced
        done = 0
        while done < len(pending) and traced.core is not None:
            followup = self._followup_input(*pending[done])
            done += 1
            if followup is not None:
                self._step_once(followup, None, 0, pending)
        core = traced.core
        if core is not None:  # arm_timer, inlined: this runs on every step
            self._arm(core.next_deadline())
        return effects

    def _followup_input(self, kind: int, index: int) -> Input | None:
        """The follow-up input due now, from the node's current state (or None)."""
        if kind == _ACK_APPLIED:
            return Applied(index)
        core, sm = self.traced.core, self.sm
        assert core is not None
        if sm.applied != core.log.applied:
            return None  # a later apply is on the work list; it will ask again
        if sm.applied - core.log.snapshot.index < self.snapshot_every:
            return None
        return Compact(sm.applied, sm.snapshot())

    def _step_once(
        self,
        inp: Input,
        envelope: Envelope | None,
        cause: int,
        pending: list[tuple[int, int]],
    ) -> list[Effect]:
        sent: list[Envelope] = []
        self.steps += 1
        clock = self._clock
        try:
            effects = self.traced.step(
                clock.now_us(), clock.ticks(), inp, envelope, cause, sent.append
            )
        except PeerError as err:
            self.peer_errors += 1
            effects = list(err.effects)  # type: ignore[arg-type]
        send = self._send
        for env in sent:
            send(env)
        for effect in effects:
            kind = type(effect)
            if kind is Persist:
                self._write(effect)  # type: ignore[arg-type]
            elif kind is ApplyEntries:
                applied = self._apply(effect)  # type: ignore[arg-type]
                pending.append((_ACK_APPLIED, applied))
                pending.append((_MAYBE_COMPACT, applied))
            elif kind is Note:
                if self._on_note is not None:
                    self._on_note(self, effect)  # type: ignore[arg-type]
            elif kind is ReadReady:
                self._read_ready(effect)  # type: ignore[arg-type]
            elif kind is ReadRefused:
                self._read_refused(effect)  # type: ignore[arg-type]
            elif kind is RestoreSnapshot:
                self._restore(effect)  # type: ignore[arg-type]
        return effects

    # -- carrying out effects --------------------------------------------------

    def _apply(self, effect: ApplyEntries) -> int:
        """Apply the entries handed out, answering the proposals among them;
        returns the index the state machine reached."""
        sm, proposals, answer = self.sm, self.proposals, self._replies.answer
        last = 0
        for entry in effect.entries:
            result = sm.apply(entry.index, entry.data)
            last = entry.index
            pending = proposals.pop(entry.index, None)
            if pending is not None:
                request, term = pending
                if entry.term != term:
                    answer(request, _RETRY)
                elif entry.conf is not None:
                    answer(request, Reply(OK, True, entry))
                elif result is None:
                    answer(request, _UNKNOWN)
                else:
                    answer(request, Reply(OK, result.ok, result.value))
        if self.waiting_reads:
            still = []
            for index, request, query in self.waiting_reads:
                if index <= sm.applied:
                    answer(request, Reply(OK, True, _ask(sm, query)))
                else:
                    still.append((index, request, query))
            self.waiting_reads = still
        return last

    def _restore(self, effect: RestoreSnapshot) -> None:
        """The core installed a snapshot: the state machine takes its state.

        Reads parked for an index are answered ``retry`` (they had no effect;
        the restored state may not be the one they waited for). Proposals
        whose index the snapshot covers will never be applied here one by
        one, so whether their entry is the one that committed is unknown:
        they are answered ``unknown`` rather than left waiting forever."""
        snap = effect.snapshot
        self.sm.restore(snap.data, snap.index)
        answer = self._replies.answer
        for _, request, _ in self.waiting_reads:
            answer(request, _RETRY)
        self.waiting_reads.clear()
        for index in sorted(i for i in self.proposals if i <= snap.index):
            answer(self.proposals.pop(index)[0], _COVERED)

    def _read_ready(self, effect: ReadReady) -> None:
        pending = self.reads.pop(effect.ctx, None)
        if pending is None:
            return
        request, query = pending
        if self.sm.applied >= effect.index:
            self._replies.answer(request, Reply(OK, True, _ask(self.sm, query)))
        else:
            self.waiting_reads.append((effect.index, request, query))

    def _read_refused(self, effect: ReadRefused) -> None:
        pending = self.reads.pop(effect.ctx, None)
        if pending is not None:
            self._replies.answer(pending[0], Reply(REDIRECT, False, None, effect.leader))


def _ask(sm: KVStateMachine, query: Query) -> Any:
    """Answer a read's query from the state machine."""
    return sm.read(query) if type(query) is str else query(sm)  # type: ignore[operator]
