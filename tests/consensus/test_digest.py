"""``RaftCore.digest`` hashes its state image in parts (and keeps the
membership's bytes until the membership changes); the value must be the
CRC-32 of the whole image hashed in one go, as traces recorded before the
change have it, after every step of a run that goes through elections,
crashes, snapshots and membership changes (joint configurations included).
"""

from __future__ import annotations

import random
import zlib
from struct import pack
from typing import Any

from consensus.core import _ROLE_CODES, RaftCore
from consensus.progress import _STATE_CODES
from sim import RandomActor, SimConfig, Simulation, get_profile
from traces.recorder import MemoryRecorder, make_header
from traces.schema import actor_node


def one_shot_digest(core: RaftCore) -> str:
    """The digest as one flat list of integers packed and hashed at once."""
    log, m, prng = core.log, core.membership, core.prng.state
    ints = [
        core.id,
        core.term,
        _ROLE_CODES[core.role],
        core.vote,
        core.lead,
        log.committed,
        log.applied,
        log.last_index,
        log.last_term,
        log.snapshot.index,
        log.snapshot.term,
        log.hash_at(log.last_index),
        core.apply_sent,
        prng >> 32,
        prng & 0xFFFFFFFF,
        core.election_reset_at,
        core.randomized_timeout,
        core.heard_leader_at,
        core.vote_grace_until,
        core.heartbeat_at,
        core.quorum_check_at,
        core.pending_conf_index,
        core.transfer_target,
        core.transfer_deadline,
        core.read_round,
        core.lease_until,
        int(core.lease_forfeited),
        core.persist_seq,
        len(core.held),
        core.persisted_index,
        core.planned_index,
        int(m.auto_leave),
    ]
    for group in (m.voters, m.outgoing, m.learners, m.learners_next):
        ints += [len(group), *group]
    ints.append(len(core.pending_reads))
    for read in core.pending_reads:
        ints += read
    ints += [len(core.reads_awaiting_commit), *core.reads_awaiting_commit]
    ints.append(len(core.unacked))
    for write in core.unacked:
        ints += write
    ints.append(len(core.round_sent_at))
    for sent in core.round_sent_at.items():
        ints += sent
    for node in sorted(core.votes):
        ints += [node, int(core.votes[node])]
    for node in sorted(core.progress):
        pr = core.progress[node]
        ints += [node, pr.match, pr.next, _STATE_CODES[pr.state], int(pr.probe_sent)]
        ints += [len(pr.inflights), pr.last_heard, pr.read_round]
        ints += [pr.pending_snapshot, pr.snapshot_sent_at]
    return format(zlib.crc32(pack(f"<{len(ints)}q", *ints)), "08x")


class CheckingRecorder(MemoryRecorder):
    """Compares each step's recorded digest with the one-shot one, from the
    core right after the step (the tracer emits the step's event then)."""

    def __init__(self, header: dict[str, Any]) -> None:
        super().__init__(header)
        self.sim: Simulation | None = None
        self.checked = 0
        self.memberships: set[str] = set()

    def emit(self, event: dict[str, Any]) -> int:
        node = actor_node(event["n"])
        if "dg" in event and node is not None and self.sim is not None:
            core = self.sim.nodes[node].runtime.core
            assert core is not None
            assert event["dg"] == one_shot_digest(core), event
            self.checked += 1
            self.memberships.add(core.membership.describe())
        return super().emit(event)


def test_digest_equals_the_one_shot_image_after_every_step() -> None:
    config = SimConfig(nodes=5, seed=3, duration_s=12.0, profile=get_profile("chaos"))
    recorder = CheckingRecorder(make_header("raftlab-sim", **config.header_fields()))
    sim = Simulation(config, recorder, RandomActor(random.Random(5), first_new_id=6, every_s=1.0))
    recorder.sim = sim  # the cores exist from here; boots were emitted before
    sim.run()
    assert recorder.checked > 5_000
    assert len(recorder.memberships) >= 3  # the cached membership image was replaced


def test_digest_changes_with_the_membership() -> None:
    """The cached membership bytes are per membership object: a core whose
    membership is replaced digests the new one."""
    from consensus import DurableState, Membership, RaftConfig

    core = RaftCore(1, RaftConfig(), 7, DurableState.bootstrap(Membership((1, 2, 3))))
    before = core.digest()
    core.membership = Membership((1, 2, 3), learners=(4,))
    after = core.digest()
    assert after != before
    assert after == one_shot_digest(core)
