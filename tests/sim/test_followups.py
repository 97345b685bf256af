"""Follow-up inputs are computed after the step they depend on.

An ``Applied`` step can hand out more entries (a leader that applies a
configuration change may commit further under its new quorum), so a
``Compact`` drawn up before that step ran would name a stale index: the core
refused it with ``CoreMisuse('Compact(407) must be at the applied index
408')`` and the simulation aborted (issue 6: 5 nodes, the ``partitions``
profile, lease reads, seed 33).
"""

from __future__ import annotations

import random

from checkers import default_registry, run_checkers
from consensus import ChangeItem, ChangeOp, ConfChange
from consensus.replayer import CoreReplayer
from sim import PROFILES, RandomActor, ScriptedActor, SimConfig, Simulation, raft_config_for
from sim.membership import ChangeMembership
from traces.recorder import MemoryRecorder, make_header
from traces.replay import replay_trace


def test_the_issue_reproduction_runs_to_the_end() -> None:
    profile = PROFILES["partitions"]
    config = SimConfig(
        nodes=5, seed=33, duration_s=30.0, profile=profile, raft=raft_config_for(profile, "lease")
    )
    actor = RandomActor(random.Random(33 * 31 + 17), first_new_id=6)  # the CLI's random actor
    stats = Simulation(config, None, actor).run()
    assert stats.sim_seconds == 30.0 and stats.commit > 400


def nested_apply_run(seed: int) -> MemoryRecorder:
    """Two voters, one removed at 1 s while clients write: the leader that
    applies the removal commits, in that same ``Applied`` step, the entries
    only it had acknowledged. Snapshots after every applied entry make each
    such step one where a stale ``Compact`` would have been issued."""
    remove = ChangeMembership(ConfChange((ChangeItem(ChangeOp.REMOVE, 2),)))
    config = SimConfig(
        nodes=2, seed=seed, duration_s=2.0, profile=PROFILES["none"], snapshot_every=1
    )
    recorder = MemoryRecorder(make_header("raftlab-sim", **config.header_fields()))
    Simulation(config, recorder, ScriptedActor([(1.0, remove)])).run()
    return recorder


def test_an_apply_inside_a_follow_up_step_gets_its_own_compact() -> None:
    nested = 0
    for seed in (1, 5, 6, 7):  # each of these aborted before the fix
        recorder = nested_apply_run(seed)
        events = recorder.events
        by_seq = {e["seq"]: e for e in events}
        nested += sum(
            1 for e in events if e["act"] == "apply" and by_seq[e["cause"]]["act"] == "applied"
        )
        applied: dict[str, int] = {}
        for e in events:
            if "applied" in e.get("st", {}):
                applied[e["n"]] = e["st"]["applied"]
            if e["act"] == "compact":
                # At the index the node had applied when the compaction ran.
                assert e["in"]["index"] == applied[e["n"]]
        assert run_checkers(events, default_registry().create(recorder.header)).ok
        report = replay_trace(events, CoreReplayer(recorder.header))
        assert report.ok, report.divergence and report.divergence.describe()
    assert nested, "no follow-up step applied further: the test lost its point"
