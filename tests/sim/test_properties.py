"""Property tests: any seed, any fault profile, either read mode, random
membership changes; every invariant holds, the client history is
linearizable and the trace replays exactly."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkers import collect_client_events, default_registry, run_checkers
from checkers.linearizability import check, history_from_records
from consensus.replayer import CoreReplayer
from sim import PROFILES, RandomActor, SimConfig, Simulation, raft_config_for
from traces.recorder import MemoryRecorder, make_header
from traces.replay import replay_trace


def simulate(
    seed: int, profile: str, nodes: int, seconds: float, read_mode: str = "index"
) -> MemoryRecorder:
    faults = PROFILES[profile]
    config = SimConfig(
        nodes=nodes,
        seed=seed,
        duration_s=seconds,
        profile=faults,
        raft=raft_config_for(faults, read_mode),
    )
    recorder = MemoryRecorder(make_header("raftlab-sim", **config.header_fields()))
    actor = RandomActor(random.Random(seed), first_new_id=nodes + 1, every_s=1.0)
    Simulation(config, recorder, actor).run()
    return recorder


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(min_value=0, max_value=2**31),
    profile=st.sampled_from(sorted(PROFILES)),
    nodes=st.sampled_from([3, 5]),
    read_mode=st.sampled_from(["index", "lease"]),
)
def test_every_checker_passes_on_any_seed(
    seed: int, profile: str, nodes: int, read_mode: str
) -> None:
    recorder = simulate(seed, profile, nodes, seconds=4.0, read_mode=read_mode)
    assert recorder.header["raft"]["read_mode"] == read_mode
    history: list[dict[str, object]] = []
    events = collect_client_events(recorder.events, history)
    report = run_checkers(events, default_registry().create(recorder.header))
    assert report.ok, "\n".join(v.describe() for v in report.violations)
    assert history, "the workload produced no client operations"
    verdict = check(history_from_records(history), model="kv", timeout=60).verdict
    assert verdict == "linearizable"


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_profile_replays_exactly_in_both_read_modes(profile: str) -> None:
    """Restarts, pauses, drift and lost writes included; the seed differs per
    profile so that the runs do not all share one fault schedule."""
    for number, read_mode in enumerate(("index", "lease")):
        seed = sorted(PROFILES).index(profile) * 2 + number + 1
        recorder = simulate(seed, profile, 5, seconds=2.0, read_mode=read_mode)
        report = replay_trace(recorder.events, CoreReplayer(recorder.header))
        assert report.ok, report.divergence and report.divergence.describe()
        assert report.steps > 100


def test_lease_reads_are_served_from_the_lease() -> None:
    """Lease mode is really simulated: some reads skip the heartbeat round."""
    recorder = simulate(2, "default", 3, seconds=3.0, read_mode="lease")
    assert any(e["act"] == "lease_read" for e in recorder.events)
    index = simulate(2, "default", 3, seconds=3.0, read_mode="index")
    assert not any(e["act"] == "lease_read" for e in index.events)


def test_the_cluster_makes_progress_through_faults_and_changes() -> None:
    """Not a safety property, but a run where nothing commits would make all
    the checks above vacuous."""
    recorder = simulate(11, "default", 5, seconds=10.0)
    commits = [e["index"] for e in recorder.events if e["act"] == "commit" and "support" in e]
    changes = [e for e in recorder.events if e["act"] == "conf_apply"]
    completed = [e for e in recorder.events if e["act"] == "complete" and e["type"] == "ok"]
    assert max(commits) > 200
    assert changes, "the random actor changed nothing"
    assert len(completed) > 300
