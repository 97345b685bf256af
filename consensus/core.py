"""The Raft state machine: inputs in, effects out, nothing else.

Theory of operation
===================

``RaftCore`` is one node's protocol logic with every source of
nondeterminism pushed out (the model is h11 and etcd-io/raft's RawNode):

- No I/O. Messages to send, entries to persist and entries to apply come out
  of ``step`` as effect values; the driver (the simulator, the KV server, the
  replayer) carries them out and reports back with ``Persisted`` and
  ``Applied`` inputs.
- No clock. Every input comes with ``now``, the node's logical time in ticks.
  Timers are absolute deadlines in that unit and ``next_deadline()`` tells the
  driver when the next ``Tick`` is needed, so a simulator can skip the idle
  ticks in between instead of delivering thousands of empty ones.
- No global randomness. Election timeouts come from a SplitMix64 generator
  that is part of the node's state (and of its digest).

Given the same construction arguments and the same sequence of
``(now, input)`` pairs, a core produces the same effects and the same
``digest()``; deterministic replay of traces rests on this.

Persistence before send. A step that changes the term, the vote or the log
ends with one ``Persist`` effect. Messages produced by that step, or by any
later step while a write is still unacknowledged, are held back and released
by the ``Persisted`` input that covers the writes they may depend on. A
leader counts its own log toward a quorum only up to what it persisted.

Membership. A node's configuration is the one it has *applied* (changes
take effect when the driver reports ``Applied``, as in etcd-io/raft). The
guards: a leader accepts a change only once it has committed an entry of its
own term and every earlier change is applied; a node does not campaign while
committed configuration entries are still unapplied; a leader that applies a
configuration without itself as a voter steps down; learners never vote and
never count toward a quorum (quorum.py only ever sees voters).

Leases. With CheckQuorum, a node that heard from a leader less than an
election timeout ago helps elect no one (no vote, no pre-vote, no campaign;
only a TimeoutNow candidate is exempt), whatever terms it adopts meanwhile,
and a restarted node does the same for an election timeout. A leader's lease
runs from a heartbeat round a quorum of its current configuration
acknowledged, for an election timeout less a margin; a configuration change
voids it, and sending TimeoutNow forfeits it for the rest of the term (the
message may arrive long after the transfer was aborted). docs/reads.md
states these rules and why they are enough (``_in_lease``,
``_confirm_reads``, ``_send_timeout_now``).

Unsafe modes. ``config.unsafe`` can switch off one guard or another on
purpose (consensus/unsafe.py): each mode is read once, below, into a boolean
that the guard it breaks consults. With no mode on nothing changes.

Where things live: quorum arithmetic in quorum.py, per-follower flow control
in progress.py, configuration transitions in confchange.py, the log in log.py.
This module holds the role logic (section 5 of the Raft paper, with PreVote,
CheckQuorum, leader transfer and ReadIndex from Ongaro's thesis).
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from struct import Struct, pack
from typing import Any

from consensus.confchange import ChangeOp, ConfChange, apply_change
from consensus.config import RaftConfig, ReadMode
from consensus.effects import (
    Accepted,
    ApplyEntries,
    Effect,
    Note,
    Persist,
    ReadReady,
    ReadRefused,
    Refused,
    RestoreSnapshot,
    Send,
)
from consensus.errors import ConfChangeError, CoreMisuse, PeerError
from consensus.inputs import (
    Applied,
    Campaign,
    Compact,
    Input,
    Persisted,
    Propose,
    ProposeConfChange,
    ReadIndex,
    Receive,
    Tick,
    TransferLeader,
)
from consensus.log import RaftLog
from consensus.membership import Membership
from consensus.messages import (
    AppendRequest,
    AppendResponse,
    Heartbeat,
    HeartbeatResponse,
    InstallSnapshot,
    Message,
    TimeoutNow,
    VoteRequest,
    VoteResponse,
)
from consensus.progress import Progress, ProgressState
from consensus.quorum import VoteResult, joint_committed_index, joint_vote_result
from consensus.records import Entry, HardState, Snapshot
from consensus.rng import Prng, mix64
from consensus.unsafe import (
    COMMIT_OLD_TERM,
    CONFIG_BEFORE_NOOP,
    LEARNER_EARLY_VOTE,
    LEASE_WITHOUT_CHECKQUORUM,
    NO_JOINT,
    VOLATILE_VOTE,
)
from traces.schema import Action


class Role(StrEnum):
    FOLLOWER = "follower"
    PRE_CANDIDATE = "precandidate"
    CANDIDATE = "candidate"
    LEADER = "leader"


_ROLE_CODES = {role: code for code, role in enumerate(Role)}
#: ``role.value`` without the enum's descriptor call (spec_state runs every traced step).
_ROLE_NAMES = {role: role.value for role in Role}

#: The digest's fixed-size head: the core's 32 scalar fields (see ``digest``).
_pack_scalars = Struct("<32q").pack


#: Packers of the digest's integer lists by length, made once: a format built
#: and looked up on every step cost about as much as the packing.
_INT_PACKERS = tuple(Struct(f"<{n}q").pack for n in range(128))


def _pack_ints(ints: list[int]) -> bytes:
    """Integers as the digest's byte image: little-endian signed 64-bit."""
    n = len(ints)
    if n < len(_INT_PACKERS):
        return _INT_PACKERS[n](*ints)
    return pack(f"<{n}q", *ints)


@dataclass(slots=True, frozen=True)
class DurableState:
    """What a node finds on disk when it starts: enough to rebuild a core."""

    hard_state: HardState
    snapshot: Snapshot
    entries: tuple[Entry, ...] = ()

    @staticmethod
    def bootstrap(membership: Membership) -> DurableState:
        """A brand-new node.

        Founders of a cluster (``membership`` has voters) start from a
        snapshot at index 1 that holds the initial membership, as if a
        bootstrap entry had been committed and compacted. A node that joins
        later starts empty at index 0 with no configuration. The difference
        matters: a joiner can then only catch up through a snapshot (index 1
        or later), which carries the configuration, and never replays
        configuration changes on top of an empty membership.
        """
        if not membership.voters:
            return DurableState(HardState(), Snapshot(0, 0, Membership()))
        return DurableState(HardState(0, 0, 1), Snapshot(1, 0, membership))


_LEADER_MESSAGES = (AppendRequest, Heartbeat, InstallSnapshot)


class RaftCore:
    """One Raft node. Construct, then feed inputs to ``step``."""

    def __init__(
        self, node_id: int, config: RaftConfig, seed: int, durable: DurableState, now: int = 0
    ) -> None:
        if node_id <= 0:
            raise CoreMisuse(f"node ids are positive integers, got {node_id}")
        config.validate()
        self.id = node_id
        self.config = config
        # Unsafe modes (consensus/unsafe.py), read once: each plants one bug.
        unsafe = config.unsafe
        self._learners_vote = LEARNER_EARLY_VOTE.name in unsafe
        self._skip_joint = NO_JOINT.name in unsafe
        self._commit_old_term = COMMIT_OLD_TERM.name in unsafe
        self._volatile_vote = VOLATILE_VOTE.name in unsafe
        self._conf_before_noop = CONFIG_BEFORE_NOOP.name in unsafe
        # lease-without-checkquorum: the core behaves as without CheckQuorum
        # (no step-down, no promise to a leader) yet takes its leadership for
        # a lease, as a lease read that relies on CheckQuorum for its bound does.
        self._lease_is_leadership = LEASE_WITHOUT_CHECKQUORUM.name in unsafe
        #: CheckQuorum as the core practises it.
        self._check_quorum = config.check_quorum and not self._lease_is_leadership
        self.prng = Prng(mix64(seed) ^ node_id)
        self.now = now
        hs = durable.hard_state
        self.term = hs.term
        self.vote = hs.vote
        self.lead = 0
        self.role = Role.FOLLOWER
        self.log = RaftLog(durable.snapshot, list(durable.entries))
        self.log.commit_to(min(max(hs.commit, durable.snapshot.index), self.log.last_index))
        self.membership = durable.snapshot.membership
        self.progress: dict[int, Progress] = {}
        self.votes: dict[int, bool] = {}
        # Timers, all absolute ticks.
        self.election_reset_at = now
        self.randomized_timeout = config.election_ticks
        self.heard_leader_at = -(1 << 40)
        self.heartbeat_at = 0
        self.quorum_check_at = 0
        # A node restarting from durable state may have acknowledged a
        # leader's heartbeat just before it crashed, and that leader's lease
        # may count on it: for one election timeout it helps elect no one, as
        # if it had just heard from a leader (rule F3 in docs/reads.md).
        self.vote_grace_until = now + config.election_ticks if hs.term > 0 else 0
        # Leader bookkeeping.
        self.pending_conf_index = 0
        self.transfer_target = 0
        self.transfer_deadline = 0
        self.read_round = 0
        self.round_sent_at: dict[int, int] = {}
        self.pending_reads: deque[tuple[int, int, int]] = deque()  # (ctx, index, round)
        self.reads_awaiting_commit: list[int] = []
        self.lease_until = 0
        # Set once this leader sent TimeoutNow: it released its followers from
        # their promise for the rest of its term, so it holds no lease again
        # until it wins a later term (rule L3 in docs/reads.md).
        self.lease_forfeited = False
        # Persistence pipeline.
        self.persist_seq = 0
        self.unacked: deque[tuple[int, int]] = deque()  # (persist id, durable last index)
        self.held: deque[tuple[int, Message]] = deque()  # (persist id, message)
        self.persisted_index = self.log.last_index
        self.planned_index = self.log.last_index
        self.persisted_hs = HardState(self.term, self.vote, self.log.committed)
        self.apply_sent = durable.snapshot.index
        # Per-step scratch.
        self._out: list[Effect] = []
        self._msgs: list[Message] = []
        self._write_from = 0
        self._write_snapshot: Snapshot | None = None
        self.draws: list[int] = []
        # The digest's cached image of the (immutable) membership, and of which one.
        self._digested_membership: Membership | None = None
        self._membership_image = b""
        self._reset_election_timer(randomize=True)
        self.draws = []
        self._handlers: dict[type, Callable[[Any], None]] = {
            Tick: self._on_tick,
            Receive: self._on_receive,
            Propose: self._on_propose,
            ProposeConfChange: self._on_propose_conf,
            TransferLeader: self._on_transfer,
            ReadIndex: self._on_read_index,
            Persisted: self._on_persisted,
            Applied: self._on_applied,
            Compact: self._on_compact,
            Campaign: self._on_campaign,
        }
        self._receivers: dict[type, Callable[[Any], None]] = {
            VoteRequest: self._recv_vote_request,
            VoteResponse: self._recv_vote_response,
            AppendRequest: self._recv_append,
            AppendResponse: self._recv_append_response,
            Heartbeat: self._recv_heartbeat,
            HeartbeatResponse: self._recv_heartbeat_response,
            InstallSnapshot: self._recv_snapshot,
            TimeoutNow: self._recv_timeout_now,
        }

    # ------------------------------------------------------------------ API

    def step(self, now: int, inp: Input) -> list[Effect]:
        """Process one input at logical time ``now`` (ticks, non-decreasing)."""
        if now < self.now:
            raise CoreMisuse(f"time went backwards: {now} < {self.now}")
        handler = self._handlers.get(type(inp))
        if handler is None:
            raise CoreMisuse(f"not an input: {inp!r}")
        self.now = now
        out: list[Effect] = []
        self._out = out
        self._msgs = []
        self.draws = []
        try:
            handler(inp)
        except PeerError as err:
            # Whatever the step did before the bad part of the message was
            # noticed (at most adopting a newer term) must still be carried
            # out, so the effects travel with the error.
            self._finish_step()
            err.effects = out
            raise
        self._finish_step()
        return out

    def next_deadline(self) -> int:
        """The tick at which the next ``Tick`` must be delivered."""
        if self.role is Role.LEADER:
            deadline = self.heartbeat_at
            if self._check_quorum:
                deadline = min(deadline, self.quorum_check_at)
            if self.transfer_target:
                deadline = min(deadline, self.transfer_deadline)
            return deadline
        return self.election_reset_at + self.randomized_timeout

    def hard_state(self) -> HardState:
        return HardState(self.term, self.vote, self.log.committed)

    def spec_state(self) -> tuple[int, str, int, int, int, int, int, int, int, Membership]:
        """The state a specification talks about, in ``traces.schema.STATE_FIELDS`` order."""
        log = self.log
        return (
            self.term,
            _ROLE_NAMES[self.role],
            self.vote,
            self.lead,
            log.committed,
            log.applied,
            log.last_index,
            log.last_term,
            log.snapshot.index,
            self.membership,
        )

    def digest(self) -> str:
        """CRC-32 (hex) of the node's full state: equal digests after equal
        inputs is what deterministic replay checks.

        The state is flattened to 64-bit integers, packed little-endian and
        hashed: a portable byte image (``hash()`` is not, across Python
        versions and word sizes) and several times cheaper than hashing a
        ``repr``, which matters because every traced step pays it.

        The image is hashed in parts, chaining the CRC (``crc32(b, crc32(a))``
        is ``crc32(a + b)``), so that a part that cannot have changed is not
        packed again: the membership is immutable, and its bytes are kept
        until the core's membership is another object. The value is the CRC
        of the whole image, the same as hashing it in one go, so digests in
        traces recorded before stay comparable.
        """
        log = self.log
        m = self.membership
        prng = self.prng.state
        snap = log.snapshot
        last = snap.index + len(log.entries)
        crc = zlib.crc32(
            _pack_scalars(
                self.id,
                self.term,
                _ROLE_CODES[self.role],
                self.vote,
                self.lead,
                log.committed,
                log.applied,
                last,
                log.entries[-1].term if log.entries else snap.term,
                snap.index,
                snap.term,
                log.hashes[-1] if log.hashes else snap.log_hash,
                self.apply_sent,
                prng >> 32,
                prng & 0xFFFFFFFF,
                self.election_reset_at,
                self.randomized_timeout,
                self.heard_leader_at,
                self.vote_grace_until,
                self.heartbeat_at,
                self.quorum_check_at,
                self.pending_conf_index,
                self.transfer_target,
                self.transfer_deadline,
                self.read_round,
                self.lease_until,
                int(self.lease_forfeited),
                self.persist_seq,
                len(self.held),
                self.persisted_index,
                self.planned_index,
                int(m.auto_leave),
            )
        )
        if m is not self._digested_membership:
            self._digested_membership = m
            self._membership_image = _pack_ints(
                [
                    len(m.voters),
                    *m.voters,
                    len(m.outgoing),
                    *m.outgoing,
                    len(m.learners),
                    *m.learners,
                    len(m.learners_next),
                    *m.learners_next,
                ]
            )
        crc = zlib.crc32(self._membership_image, crc)
        ints = [len(self.pending_reads)]
        for read in self.pending_reads:
            ints.extend(read)
        ints.append(len(self.reads_awaiting_commit))
        ints.extend(self.reads_awaiting_commit)
        ints.append(len(self.unacked))
        for write in self.unacked:
            ints.extend(write)
        ints.append(len(self.round_sent_at))
        for sent in self.round_sent_at.items():
            ints.extend(sent)
        votes = self.votes
        for node in sorted(votes):
            ints.append(node)
            ints.append(int(votes[node]))
        progress = self.progress
        for node in sorted(progress):  # the peers' parts follow: one pack and one hash
            progress[node].add_digest_ints(node, ints)
        return format(zlib.crc32(_pack_ints(ints), crc), "08x")

    # -------------------------------------------------------------- inputs

    def _on_tick(self, _: Tick) -> None:
        now = self.now
        if self.role is Role.LEADER:
            if now >= self.heartbeat_at:
                self._broadcast_heartbeat()
            if self._check_quorum and now >= self.quorum_check_at:
                self.quorum_check_at = now + self.config.election_ticks
                if not self._quorum_active():
                    self._note(Action.STEP_DOWN, reason="check quorum: no quorum heard from")
                    self._become_follower(self.term, 0)
                    return
            if self.transfer_target and now >= self.transfer_deadline:
                self._abort_transfer("timed out")
            return
        if now >= self.election_reset_at + self.randomized_timeout:
            if not self.membership.is_voter(self.id):
                self._reset_election_timer(randomize=False)  # learners never campaign
                return
            self._note(Action.TIMEOUT, role=self.role.value)
            self._hup(transfer=False)

    def _on_campaign(self, _: Campaign) -> None:
        self._hup(transfer=False)

    def _on_propose(self, inp: Propose) -> None:
        if not self._can_accept_proposal():
            return
        index = self.log.last_index + 1
        self._append_own([Entry(index, self.term, inp.data)])
        self._out.append(Accepted(index, self.term))
        self._broadcast_append()

    def _on_propose_conf(self, inp: ProposeConfChange) -> None:
        if not self._can_accept_proposal():
            return
        log = self.log
        if log.term(log.committed) != self.term and not self._conf_before_noop:
            self._refuse("leader has not yet committed an entry of its own term")
            return
        if self.pending_conf_index > log.applied:
            self._refuse(
                f"configuration change at index {self.pending_conf_index} is not applied yet"
            )
            return
        try:
            apply_change(self.membership, inp.change, skip_joint=self._skip_joint)
        except ConfChangeError as err:
            self._refuse(f"invalid configuration change: {err}")
            return
        index = self._propose_conf(inp.change)
        self._out.append(Accepted(index, self.term))

    def _on_transfer(self, inp: TransferLeader) -> None:
        target = inp.target
        if self.role is not Role.LEADER:
            self._refuse("not the leader")
        elif target == self.id:
            self._refuse("already the leader")
        elif not self.membership.is_voter(target):
            kind = "a learner" if self.membership.is_learner(target) else "not a member"
            self._refuse(f"node {target} is {kind}; leadership goes only to voters")
        elif target == self.transfer_target:
            self._refuse(f"transfer to {target} already in progress")
        else:
            if self.transfer_target:
                self._abort_transfer(f"superseded by transfer to {target}")
            self.transfer_target = target
            self.transfer_deadline = self.now + self.config.election_ticks
            self._note(Action.TRANSFER_START, target=target)
            if self.progress[target].match == self.log.last_index:
                self._send_timeout_now(target)
            else:
                self._send_append(target)

    def _on_read_index(self, inp: ReadIndex) -> None:
        if self.role is not Role.LEADER:
            self._out.append(ReadRefused(inp.ctx, "not the leader", self.lead))
            return
        if not self._committed_own_term():
            self.reads_awaiting_commit.append(inp.ctx)
            return
        if (
            self.config.read_mode is ReadMode.LEASE
            and not self.transfer_target
            and (self.now < self.lease_until or self._lease_is_leadership)
        ):
            self._note(Action.LEASE_READ, ctx=inp.ctx, index=self.log.committed)
            self._out.append(ReadReady(inp.ctx, self.log.committed))
            return
        self._start_read_round([inp.ctx])

    def _on_persisted(self, inp: Persisted) -> None:
        if inp.id > self.persist_seq:
            raise CoreMisuse(
                f"Persisted({inp.id}) but the last write asked for is {self.persist_seq}"
            )
        unacked = self.unacked
        while unacked and unacked[0][0] <= inp.id:
            self.persisted_index = unacked.popleft()[1]
        held = self.held
        while held and held[0][0] <= inp.id:
            # Straight out: these were already gated by an older write.
            self._out.append(Send(held.popleft()[1]))
        if self.role is Role.LEADER:
            own = self.progress.get(self.id)
            if own is not None and own.maybe_update(self.persisted_index) and self._maybe_commit():
                self._broadcast_append()

    def _on_applied(self, inp: Applied) -> None:
        log = self.log
        if inp.index < log.applied <= self.apply_sent:
            # A late acknowledgement of entries that a snapshot install has
            # since replaced: the state machine was reset past them.
            return
        if not log.applied <= inp.index <= self.apply_sent:
            handed = f"{log.applied}..{self.apply_sent}"
            raise CoreMisuse(f"Applied({inp.index}) outside the handed-out range {handed}")
        for entry in log.between(log.applied + 1, inp.index):
            if entry.conf is not None:
                self._apply_conf(entry)
        log.applied = inp.index
        if (
            self.role is Role.LEADER
            and self.membership.joint
            and self.membership.auto_leave
            and self.pending_conf_index <= log.applied
        ):
            self._propose_conf(ConfChange.leave())

    def _on_compact(self, inp: Compact) -> None:
        log = self.log
        if inp.index != log.applied:
            raise CoreMisuse(f"Compact({inp.index}) must be at the applied index {log.applied}")
        if inp.index <= log.snapshot.index:
            return
        term = log.term(inp.index)
        assert term is not None
        snap = Snapshot(inp.index, term, self.membership, inp.data, log.hash_at(inp.index))
        log.compact(snap)
        self._write_snapshot = snap
        self._note(Action.SNAPSHOT_TAKE, index=snap.index, last_term=snap.term)

    # ------------------------------------------------------------ receiving

    def _on_receive(self, inp: Receive) -> None:
        m = inp.msg
        if m.dst != self.id:
            raise PeerError(f"message for node {m.dst} delivered to node {self.id}")
        _check_message(m, self.id)
        if m.term > self.term:
            if isinstance(m, VoteRequest) and not m.transfer and self._in_lease():
                # Leader stickiness, and the promise leases rest on: we heard
                # from a live leader less than an election timeout ago, so this
                # candidate is disruptive (typically rejoining from a
                # partition). Ignore it rather than adopt its term.
                self._note(Action.VOTE_IGNORED, candidate=m.src, reason="leader lease")
                return
            if (isinstance(m, VoteRequest) and m.pre) or (
                isinstance(m, VoteResponse) and m.pre and m.granted
            ):
                pass  # a pre-vote term is hypothetical: nobody adopts it
            else:
                if self.role is Role.LEADER and m.src == self.transfer_target:
                    # The transfer worked: the target is campaigning.
                    self._note(Action.STEP_DOWN, reason=f"leadership handed to n{m.src}")
                    self.transfer_target = self.transfer_deadline = 0
                lead = m.src if isinstance(m, _LEADER_MESSAGES) else 0
                self._become_follower(m.term, lead)
        elif m.term < self.term:
            if isinstance(m, AppendRequest | Heartbeat) and (
                self.config.check_quorum or self.config.pre_vote
            ):
                # A deposed leader that cannot hear the new one: tell it the
                # current term so it steps down. Without this, under PreVote
                # it could never learn of the new term and stay stuck.
                self._send(AppendResponse(self.term, self.id, m.src, False, 0))
            elif isinstance(m, VoteRequest) and m.pre:
                self._send(VoteResponse(self.term, self.id, m.src, False, pre=True))
            return
        self._receivers[type(m)](m)

    def _recv_vote_request(self, m: VoteRequest) -> None:
        can_vote = (
            self.vote == m.src
            or (self.vote == 0 and self.lead == 0)
            or (m.pre and m.term > self.term)
        )
        # The promise outlives the term it was made in (rule F2): a node that
        # adopted a newer term from, say, a rejected pre-vote has no leader
        # and no vote in that term, yet still refuses a candidate of it.
        promised = not m.transfer and self._in_lease()
        if (
            can_vote
            and not promised
            and self._quorum_conf().is_voter(self.id)
            and self.log.is_up_to_date(m.last_index, m.last_term)
        ):
            self._send(VoteResponse(m.term, self.id, m.src, True, pre=m.pre))
            if not m.pre:
                self.vote = m.src
                self.election_reset_at = self.now
        else:
            self._send(VoteResponse(self.term, self.id, m.src, False, pre=m.pre))

    def _recv_vote_response(self, m: VoteResponse) -> None:
        campaigning = (self.role is Role.PRE_CANDIDATE and m.pre) or (
            self.role is Role.CANDIDATE and not m.pre
        )
        if campaigning and m.src not in self.votes:
            self.votes[m.src] = m.granted
            self._count_votes()

    def _hear_from_leader(self, m: AppendRequest | Heartbeat | InstallSnapshot) -> None:
        if self.role is Role.LEADER:
            raise PeerError(f"node {m.src} claims leadership of term {m.term}, which is ours")
        if self.role is not Role.FOLLOWER:
            self._become_follower(m.term, m.src)
        self.lead = m.src
        self.heard_leader_at = self.now
        self.election_reset_at = self.now

    def _recv_append(self, m: AppendRequest) -> None:
        self._hear_from_leader(m)
        log = self.log
        if m.prev_index < log.committed:
            self._send(AppendResponse(self.term, self.id, m.src, True, log.committed))
            return
        if not log.match_term(m.prev_index, m.prev_term):
            hint_index, hint_term = log.find_conflict_by_term(m.prev_index, m.prev_term)
            self._send(
                AppendResponse(
                    self.term, self.id, m.src, False, m.prev_index, hint_index, hint_term
                )
            )
            return
        added, truncated = log.merge(m.entries)
        if truncated:
            self._note(Action.TRUNCATE, after=truncated - 1)
            self.persisted_index = min(self.persisted_index, truncated - 1)
            self.planned_index = min(self.planned_index, truncated - 1)
            self.unacked = deque((i, min(d, truncated - 1)) for i, d in self.unacked)
        if added:
            self._wrote(added)
        last_new = m.prev_index + len(m.entries)
        self._commit_to(min(m.commit, last_new), leader=m.src)
        self._send(AppendResponse(self.term, self.id, m.src, True, last_new))

    def _recv_heartbeat(self, m: Heartbeat) -> None:
        self._hear_from_leader(m)
        self._commit_to(min(m.commit, self.log.last_index), leader=m.src)
        self._send(HeartbeatResponse(self.term, self.id, m.src, m.round))

    def _recv_snapshot(self, m: InstallSnapshot) -> None:
        self._hear_from_leader(m)
        snap = m.snapshot
        log = self.log
        if snap.index <= log.committed:
            self._send(AppendResponse(self.term, self.id, m.src, True, log.committed))
            return
        if log.match_term(snap.index, snap.term):
            self._commit_to(snap.index, leader=m.src)
        else:
            log.restore(snap)
            self.membership = snap.membership
            self.apply_sent = snap.index
            self.persisted_index = min(self.persisted_index, snap.index)
            # Writes still in flight hold entries the snapshot replaced: when
            # acknowledged they make nothing past the snapshot durable.
            self.unacked = deque((i, min(d, snap.index)) for i, d in self.unacked)
            self.planned_index = snap.index
            self._write_snapshot = snap
            self._write_from = 0
            self._note(Action.SNAPSHOT_INSTALL, index=snap.index, last_term=snap.term, src=m.src)
            self._out.append(RestoreSnapshot(snap))
        self._send(AppendResponse(self.term, self.id, m.src, True, log.committed))

    def _recv_timeout_now(self, m: TimeoutNow) -> None:
        if self.role is Role.LEADER:
            return
        self._hup(transfer=True)

    def _recv_append_response(self, m: AppendResponse) -> None:
        if self.role is not Role.LEADER:
            return
        pr = self.progress.get(m.src)
        if pr is None:
            return
        pr.last_heard = self.now
        if not m.success:
            probe = m.hint_index
            if m.hint_term > 0:
                probe, _ = self.log.find_conflict_by_term(m.hint_index, m.hint_term)
            if pr.maybe_decrease(m.index, probe):
                if pr.state is ProgressState.REPLICATE:
                    pr.become_probe()
                self._send_append(m.src)
            return
        was_paused = pr.is_paused()
        if not pr.maybe_update(m.index):
            return
        if pr.state is ProgressState.PROBE:
            pr.become_replicate()
        elif pr.state is ProgressState.SNAPSHOT:
            if pr.match >= pr.pending_snapshot:
                pr.become_probe()
                pr.become_replicate()
        else:
            pr.inflights.free_to(m.index)
        if self._maybe_commit():
            self._broadcast_append()
        else:
            sent = False
            while self._send_append(m.src, send_if_empty=False):
                sent = True
            if was_paused and not sent:
                # The commit index may have moved while it was paused (its
                # ack came after the quorum's): tell it now, not a heartbeat
                # later.
                self._send_append(m.src)
        if m.src == self.transfer_target and pr.match == self.log.last_index:
            self._send_timeout_now(m.src)

    def _recv_heartbeat_response(self, m: HeartbeatResponse) -> None:
        if self.role is not Role.LEADER:
            return
        pr = self.progress.get(m.src)
        if pr is None:
            return
        pr.last_heard = self.now
        pr.probe_sent = False
        if pr.state is ProgressState.REPLICATE and pr.inflights.full():
            pr.inflights.free_first_one()
        elif (
            pr.state is ProgressState.SNAPSHOT
            and self.now - pr.snapshot_sent_at >= self.config.election_ticks
        ):
            # The follower is alive but has not acknowledged the snapshot for
            # an election timeout: it (or its answer) was lost. Probe again,
            # which resends the snapshot if the follower still needs it.
            pr.become_probe()
        if m.round > pr.read_round:
            pr.read_round = m.round
            self._confirm_reads()
        if pr.match < self.log.last_index:
            self._send_append(m.src)

    # ------------------------------------------------------------ elections

    def _promotable(self) -> str:
        """Why this node may not campaign now ('' if it may)."""
        if not self.membership.is_voter(self.id):
            return "not a voter in its configuration"
        log = self.log
        for entry in log.between(log.applied + 1, log.committed):
            if entry.conf is not None:
                return f"configuration change at index {entry.index} is committed but not applied"
        return ""

    def _hup(self, transfer: bool) -> None:
        if self.role is Role.LEADER:
            return
        reason = self._promotable()
        if reason:
            self._note(Action.CAMPAIGN_REFUSED, reason=reason)
            self._reset_election_timer(randomize=False)
            return
        if not transfer and self._in_lease():
            # Voting for ourselves is a vote too (rule F1). Only a forced
            # Campaign gets here: the election timer never fires before
            # the promise runs out.
            self._note(Action.CAMPAIGN_REFUSED, reason="in a leader's lease")
            return
        if self.config.pre_vote and not transfer:
            self._become_pre_candidate()
        else:
            self._become_candidate(transfer)

    def _become_pre_candidate(self) -> None:
        self.role = Role.PRE_CANDIDATE
        self.lead = 0
        self.votes = {self.id: True}
        self._reset_election_timer(randomize=True)
        self._note(Action.BECOME_PRECANDIDATE)
        self._request_votes(self.term + 1, pre=True, transfer=False)

    def _become_candidate(self, transfer: bool) -> None:
        self.term += 1
        self.vote = self.id
        self.role = Role.CANDIDATE
        self.lead = 0
        self.votes = {self.id: True}
        self._reset_election_timer(randomize=True)
        self._note(Action.BECOME_CANDIDATE, transfer=transfer)
        self._request_votes(self.term, pre=False, transfer=transfer)

    def _request_votes(self, term: int, pre: bool, transfer: bool) -> None:
        if self._count_votes():
            return
        last_index, last_term = self.log.last_index, self.log.last_term
        for voter in self._quorum_conf().all_voters():
            if voter != self.id:
                self._send(VoteRequest(term, self.id, voter, last_index, last_term, pre, transfer))

    def _count_votes(self) -> bool:
        """Act on the votes so far; True if the election is decided."""
        result = joint_vote_result(self._quorum_conf(), self.votes)
        if result is VoteResult.PENDING:
            return False
        if result is VoteResult.LOST:
            self._become_follower(self.term, 0)
        elif self.role is Role.PRE_CANDIDATE:
            self._become_candidate(transfer=False)
        else:
            self._become_leader()
        return True

    def _become_follower(self, term: int, lead: int) -> None:
        was = self.role
        if self.role is Role.LEADER:
            self._leave_leadership()
        if term != self.term:
            self.term = term
            self.vote = 0
        self.role = Role.FOLLOWER
        self.lead = lead
        self.votes = {}
        self._reset_election_timer(randomize=True)
        self._note(Action.BECOME_FOLLOWER, previous=was.value, lead=lead)

    def _become_leader(self) -> None:
        log = self.log
        granted = sorted(n for n, ok in self.votes.items() if ok)
        self.role = Role.LEADER
        self.lead = self.id
        self.votes = {}
        self.progress = {}
        for member in self.membership.members():
            self._track(member)
        own = self.progress.get(self.id)
        if own is not None:
            own.maybe_update(self.persisted_index)
            own.become_replicate()
        self.heartbeat_at = self.now + self.config.heartbeat_ticks
        self.quorum_check_at = self.now + self.config.election_ticks
        # Any configuration entry in our uncommitted tail may be pending.
        self.pending_conf_index = log.last_index
        self.read_round = 0
        self.round_sent_at = {}
        self.lease_until = 0
        self.lease_forfeited = False
        self._note(Action.BECOME_LEADER, votes=granted)
        self._append_own([Entry(log.last_index + 1, self.term)])
        self._broadcast_append()

    def _leave_leadership(self) -> None:
        if self.transfer_target:
            self._abort_transfer("leadership lost")
        for ctx, _, _ in self.pending_reads:
            self._out.append(ReadRefused(ctx, "leadership lost", 0))
        for ctx in self.reads_awaiting_commit:
            self._out.append(ReadRefused(ctx, "leadership lost", 0))
        self.pending_reads.clear()
        self.reads_awaiting_commit = []
        self.round_sent_at = {}
        self.lease_until = 0
        self.progress = {}

    def _reset_election_timer(self, randomize: bool) -> None:
        self.election_reset_at = self.now
        if randomize:
            extra = self.prng.below(self.config.election_ticks)
            self.draws.append(extra)
            self.randomized_timeout = self.config.election_ticks + extra

    def _in_lease(self) -> bool:
        """Whether this node keeps a leader's lease: it helps elect no one
        (no vote, no pre-vote, no campaign of its own) except a candidate
        sent by TimeoutNow. A leader keeps its own lease; a follower keeps
        one for an election timeout after hearing from a leader, whatever
        terms it adopts meanwhile; a restarted node for an election timeout
        after the restart. See docs/reads.md for why this is enough."""
        if not self._check_quorum:
            return False
        return (
            self.role is Role.LEADER
            or self.now < self.vote_grace_until
            or self.now - self.heard_leader_at < self.config.election_ticks
        )

    def _quorum_active(self) -> bool:
        horizon = self.now - self.config.election_ticks
        active = {n for n, pr in self.progress.items() if n == self.id or pr.last_heard >= horizon}
        return joint_vote_result(self.membership, dict.fromkeys(active, True)) is VoteResult.WON

    # ----------------------------------------------------------- replication

    def _can_accept_proposal(self) -> bool:
        if self.role is not Role.LEADER:
            self._refuse("not the leader")
            return False
        if self.transfer_target:
            self._refuse(f"leadership transfer to {self.transfer_target} in progress")
            return False
        return True

    def _refuse(self, reason: str) -> None:
        self._out.append(Refused(reason, self.lead))

    def _append_own(self, entries: list[Entry]) -> None:
        self.log.append(entries)
        self._wrote(entries)

    def _propose_conf(self, change: ConfChange) -> int:
        index = self.log.last_index + 1
        self._append_own([Entry(index, self.term, conf=change)])
        self.pending_conf_index = index
        self._broadcast_append()
        return index

    def _wrote(self, entries: list[Entry]) -> None:
        first = entries[0].index
        if not self._write_from or first < self._write_from:
            self._write_from = first
        log = self.log
        self._note(
            Action.APPEND,
            entries=[_entry_note(e, log.crc(e.index)) for e in entries],
        )

    def _track(self, node: int) -> None:
        self.progress[node] = Progress(self.log.last_index + 1, self.config.max_inflight, self.now)

    def _send_append(self, to: int, send_if_empty: bool = True) -> bool:
        """Send ``to`` what it needs next; False if nothing was sent."""
        pr = self.progress[to]
        if pr.is_paused():
            return False
        log = self.log
        prev = pr.next - 1
        prev_term = log.term(prev)
        if prev_term is None:
            snap = log.snapshot
            pr.become_snapshot(snap.index, self.now)
            self._note(Action.SNAPSHOT_SEND, to=to, index=snap.index)
            self._send(InstallSnapshot(self.term, self.id, to, snap))
            return True
        if pr.next <= log.last_index:
            entries = log.slice(
                pr.next, self.config.max_entries_per_msg, self.config.max_bytes_per_msg
            )
        else:
            if not send_if_empty:
                return False
            entries = []
        self._send(
            AppendRequest(self.term, self.id, to, prev, prev_term, tuple(entries), log.committed)
        )
        pr.sent(prev + len(entries), len(entries))
        return True

    def _broadcast_append(self) -> None:
        for node in sorted(self.progress):
            if node != self.id:
                self._send_append(node)

    def _broadcast_heartbeat(self) -> None:
        self.heartbeat_at = self.now + self.config.heartbeat_ticks
        self.read_round += 1
        self.round_sent_at[self.read_round] = self.now
        # A round sent more than an election timeout ago can no longer start
        # a lease; forget it, so an isolated leader does not hoard rounds.
        horizon = self.now - self.config.election_ticks
        for old in [r for r, at in self.round_sent_at.items() if at < horizon]:
            del self.round_sent_at[old]
        own = self.progress.get(self.id)
        if own is not None:
            own.read_round = self.read_round
        committed = self.log.committed
        for node in sorted(self.progress):
            if node != self.id:
                pr = self.progress[node]
                self._send(
                    Heartbeat(self.term, self.id, node, min(pr.match, committed), self.read_round)
                )
        self._confirm_reads()

    def _maybe_commit(self) -> bool:
        matched = {n: pr.match for n, pr in self.progress.items()}
        counted = self._quorum_conf()
        index = joint_committed_index(counted, matched)
        log = self.log
        # Figure 8: only entries of the current term are committed by
        # counting replicas; earlier ones are committed with them.
        if index <= log.committed or (log.term(index) != self.term and not self._commit_old_term):
            return False
        had_own_term = self._committed_own_term()
        log.commit_to(index)
        support = sorted(n for n in counted.all_voters() if matched.get(n, 0) >= index)
        self._note(Action.COMMIT, index=index, support=support)
        if not had_own_term and self.reads_awaiting_commit:
            waiting, self.reads_awaiting_commit = self.reads_awaiting_commit, []
            self._start_read_round(waiting)
        return True

    def _commit_to(self, index: int, leader: int) -> None:
        if self.log.commit_to(index):
            self._note(Action.COMMIT, index=index, leader=leader)

    def _committed_own_term(self) -> bool:
        return self.log.term(self.log.committed) == self.term

    def _quorum_conf(self) -> Membership:
        """The configuration whose voters elect and commit: the membership,
        or under learner-early-vote the membership with its learners voting."""
        m = self.membership
        if not self._learners_vote or not m.learners:
            return m
        voters = tuple(sorted(set(m.voters) | set(m.learners)))
        return Membership(voters, m.outgoing, (), m.learners_next, m.auto_leave)

    # ------------------------------------------------------------ membership

    def _apply_conf(self, entry: Entry) -> None:
        assert entry.conf is not None
        before = self.membership
        try:
            after = apply_change(before, entry.conf, skip_joint=self._skip_joint)
        except ConfChangeError as err:
            self._note(Action.CONF_REJECTED, index=entry.index, reason=str(err))
            return
        self.membership = after
        self._note(
            Action.CONF_APPLY, index=entry.index, change=entry.conf.describe(), conf=after.to_json()
        )
        self._note_membership_changes(before, after, entry.conf)
        if self.role is Role.LEADER:
            self._leader_conf_applied()

    def _note_membership_changes(
        self, before: Membership, after: Membership, cc: ConfChange
    ) -> None:
        if after.joint and not before.joint:
            self._note(Action.ENTER_JOINT, auto_leave=after.auto_leave)
        elif before.joint and not after.joint:
            self._note(Action.LEAVE_JOINT)
        for item in cc.items:
            node = item.node
            if item.op is ChangeOp.ADD_LEARNER:
                action = Action.VOTER_DEMOTE if before.is_voter(node) else Action.LEARNER_ADD
            elif item.op is ChangeOp.ADD_VOTER:
                action = Action.LEARNER_PROMOTE if before.is_learner(node) else Action.VOTER_ADD
            else:
                action = Action.NODE_REMOVE
            self._note(action, node=node)

    def _leader_conf_applied(self) -> None:
        # The lease was confirmed by a quorum of the configuration before
        # this one, which need not intersect every quorum of the new one
        # (rule L4): the next confirmed round starts a new lease.
        self.lease_until = 0
        members = self.membership.members()
        joined = [node for node in members if node not in self.progress]
        for node in joined:
            self._track(node)
        for node in sorted(self.progress):
            if node not in members:
                del self.progress[node]
        if not self.membership.is_voter(self.id):
            self._note(Action.STEP_DOWN, reason="removed from the configuration")
            self._become_follower(self.term, 0)
            return
        if self.transfer_target and not self.membership.is_voter(self.transfer_target):
            self._abort_transfer("target is no longer a voter")
        for node in joined:
            self._send_append(node)  # do not leave a new member waiting for a heartbeat
        if self._maybe_commit():
            self._broadcast_append()
        self._confirm_reads()

    # -------------------------------------------------------- leader transfer

    def _send_timeout_now(self, to: int) -> None:
        # The target may win without waiting out our lease, and voters grant
        # it their vote despite their promise: any time later, since this
        # message may arrive after the transfer was aborted (rule L3).
        self.lease_until = 0
        self.lease_forfeited = True
        self._send(TimeoutNow(self.term, self.id, to))

    def _abort_transfer(self, reason: str) -> None:
        self._note(Action.TRANSFER_ABORT, target=self.transfer_target, reason=reason)
        self.transfer_target = 0
        self.transfer_deadline = 0

    # ----------------------------------------------------------------- reads

    def _start_read_round(self, ctxs: list[int]) -> None:
        """Answer reads once a quorum acknowledged a heartbeat sent after them."""
        index = self.log.committed
        round_ = self.read_round + 1
        for ctx in ctxs:
            self.pending_reads.append((ctx, index, round_))
        self._broadcast_heartbeat()

    def _confirm_reads(self) -> None:
        rounds = {n: pr.read_round for n, pr in self.progress.items()}
        confirmed = joint_committed_index(self.membership, rounds)
        if confirmed in self.round_sent_at:
            # Rule L1: every voter of a quorum heard us after this round went
            # out, and keeps its promise for an election timeout from then.
            if not self.lease_forfeited:
                self.lease_until = (
                    self.round_sent_at[confirmed]
                    + self.config.election_ticks
                    - self.config.lease_margin_ticks
                )
            for r in [r for r in self.round_sent_at if r <= confirmed]:
                del self.round_sent_at[r]
        reads = self.pending_reads
        while reads and reads[0][2] <= confirmed:
            ctx, index, _ = reads.popleft()
            self._out.append(ReadReady(ctx, index))

    # ------------------------------------------------------------- plumbing

    def _send(self, msg: Message) -> None:
        self._msgs.append(msg)

    def _note(self, action: Action, **detail: object) -> None:
        self._out.append(Note(action, detail))

    def _finish_step(self) -> None:
        out = self._out
        log = self.log
        # volatile-vote: the vote never reaches the disk, so no write waits for it.
        vote = 0 if self._volatile_vote else self.vote
        snapshot = self._write_snapshot
        write_from = self._write_from
        persisted = self.persisted_hs
        if (
            snapshot is not None
            or write_from
            or self.term != persisted.term
            or vote != persisted.vote
        ):
            hs = HardState(self.term, vote, log.committed)
            self.persist_seq += 1
            entries = tuple(log.between(write_from, log.last_index)) if write_from else ()
            if entries:
                self.planned_index = log.last_index
            out.append(Persist(self.persist_seq, hs, entries, snapshot))
            self.unacked.append((self.persist_seq, self.planned_index))
            self.persisted_hs = hs
            self._write_from = 0
            self._write_snapshot = None
        if self._msgs:
            if self.unacked:
                gate = self.persist_seq
                self.held.extend((gate, m) for m in self._msgs)
            else:
                out.extend(Send(m) for m in self._msgs)
            self._msgs = []
        if log.committed > self.apply_sent:
            entries = tuple(log.between(self.apply_sent + 1, log.committed))
            self.apply_sent = log.committed
            out.append(
                Note(
                    Action.APPLY,
                    {"entries": [_entry_note(e, log.crc(e.index)) for e in entries]},
                )
            )
            out.append(ApplyEntries(entries))


def _check_message(m: Message, me: int) -> None:
    """Reject messages no correct peer sends, before they change anything."""
    if m.src == me or m.src <= 0:
        raise PeerError(f"bad sender {m.src}")
    if m.term < 0:
        raise PeerError(f"negative term {m.term} from node {m.src}")
    if isinstance(m, AppendRequest):
        if m.prev_index < 0 or m.prev_term < 0 or m.commit < 0:
            raise PeerError(f"append from node {m.src} has negative indexes")
        expected, floor = m.prev_index + 1, m.prev_term
        for entry in m.entries:
            if entry.index != expected or not floor <= entry.term <= m.term:
                raise PeerError(
                    f"append from node {m.src} has entry {entry.index} (term {entry.term}) "
                    f"out of sequence after {expected - 1} (term {floor})"
                )
            expected, floor = expected + 1, entry.term
    elif isinstance(m, InstallSnapshot):
        snap = m.snapshot
        if snap.index < 0 or not 0 <= snap.term <= m.term:
            raise PeerError(f"snapshot from node {m.src} has bad index/term")
        try:
            snap.membership.validate()
        except ConfChangeError as err:
            raise PeerError(f"snapshot from node {m.src} has a bad membership: {err}") from None
    elif isinstance(m, VoteRequest) and (m.last_index < 0 or m.last_term < 0):
        raise PeerError(f"vote request from node {m.src} has negative indexes")


def _entry_note(entry: Entry, crc: int) -> list[int]:
    """How an entry appears in append/apply notes: ``[index, term, crc]``,
    with a fourth element 1 for configuration entries (checkers need to know
    which entries change the membership)."""
    if entry.conf is not None:
        return [entry.index, entry.term, crc, 1]
    return [entry.index, entry.term, crc]
