"""The simulator's faults, one at a time: disk latency and stalls, crashes
that lose writes in flight, pauses, clock drift and swarm profiles."""

from __future__ import annotations

import random
import statistics
from dataclasses import replace

import pytest

from consensus.replayer import CoreReplayer
from sim import PROFILES, SimConfig, Simulation, raft_config_for
from sim.clocks import lease_margin_for, tick_length_us, tolerated_drift
from sim.disk import DiskModel
from sim.profiles import FaultProfile
from traces.recorder import MemoryRecorder, make_header
from traces.replay import replay_trace

Event = dict[str, object]


def record(
    profile: FaultProfile, seed: int = 3, seconds: float = 4.0, nodes: int = 5
) -> list[Event]:
    config = SimConfig(nodes=nodes, seed=seed, duration_s=seconds, profile=profile)
    recorder = MemoryRecorder(make_header("raftlab-sim", **config.header_fields()))
    Simulation(config, recorder).run()
    report = replay_trace(recorder.events, CoreReplayer(recorder.header))
    assert report.ok, report.divergence and report.divergence.describe()
    return recorder.events


def test_disk_latency_is_log_normal_around_the_median_with_rare_stalls() -> None:
    profile = FaultProfile(
        "t", "test", disk_ms=4.0, disk_sigma=0.5, disk_stall=0.01, disk_stall_ms=(50.0, 500.0)
    )
    disk = DiskModel(profile, random.Random(5))
    latencies = [disk.latency_us() for _ in range(20_000)]
    assert 3_600 < statistics.median(latencies) < 4_400
    stalled = sum(1 for x in latencies if x >= 50_000)
    assert 150 < disk.stalls < 250 and stalled >= disk.stalls * 0.95


def test_the_slow_disk_profile_is_slower_than_the_network() -> None:
    disk = DiskModel(PROFILES["slow-disk"], random.Random(1))
    assert statistics.median(disk.latency_us() for _ in range(2000)) > 2 * 10_000


def test_a_crash_with_writes_in_flight_loses_exactly_those_writes() -> None:
    events = record(PROFILES["slow-disk"], seed=2)
    crashes = [e for e in events if e["act"] == "crash" and e.get("lost_writes")]
    assert crashes, "no crash hit a write in flight"
    for crash in crashes:
        node, lost = f"n{crash['node']}", crash["lost_writes"]
        assert isinstance(lost, list)
        persisted = {
            e["in"]["id"]  # type: ignore[index]
            for e in events
            if e["n"] == node and e["act"] == "persisted" and e["seq"] < crash["seq"]  # type: ignore[operator]
        }
        asked = {e["id"] for e in events if e["n"] == node and e["act"] == "persist"}
        assert set(lost) <= asked and not set(lost) & persisted
    # Replay (in record) rebuilt each restart from the completed writes only.


def paused_windows(events: list[Event]) -> list[tuple[Event, Event]]:
    resumes = {e["cause"]: e for e in events if e["act"] == "resume"}
    return [(e, resumes[e["seq"]]) for e in events if e["act"] == "pause" and e["seq"] in resumes]


def test_a_paused_node_handles_nothing_until_it_resumes_past_its_timeout() -> None:
    events = record(PROFILES["pauses"], seed=4, seconds=6.0)
    windows = paused_windows(events)
    assert windows, "nothing was paused"
    queued = 0
    for pause, resume in windows:
        node = f"n{pause['node']}"
        inside = [
            e
            for e in events
            if e["n"] == node and pause["seq"] < e["seq"] < resume["seq"]  # type: ignore[operator]
        ]
        assert not inside, f"{node} stepped while paused: {inside[0]}"
        assert resume["t"] - pause["t"] >= 500_000  # type: ignore[operator]
        queued += resume["queued"]  # type: ignore[operator]
        after = [e for e in events if e["n"] == node and e["seq"] > resume["seq"]]  # type: ignore[operator]
        assert after and after[0]["t"] == resume["t"], "queued work waits for nothing on resume"
    assert queued > 0, "nothing queued for a paused node"


def test_clock_drift_stays_within_the_profiles_bound() -> None:
    rng = random.Random(9)
    ticks = [tick_length_us(10_000, 0.03, rng) for _ in range(1000)]
    assert all(9_700 <= t <= 10_300 for t in ticks)
    assert max(ticks) - min(ticks) > 400, "no drift drawn"
    assert tick_length_us(10_000, 0.0, rng) == 10_000


def test_lease_margins_absorb_the_declared_drift() -> None:
    assert tolerated_drift(15, 1) == 0.0  # one tick of margin only covers quantization
    assert lease_margin_for(0.0, 15) == 1
    for drift in (0.01, 0.03, 0.1):
        margin = lease_margin_for(drift, 15)
        assert tolerated_drift(15, margin) >= drift > tolerated_drift(15, margin - 1)
    raft = raft_config_for(PROFILES["skew"], "lease")
    assert raft.lease_margin_ticks == lease_margin_for(0.03, 15) == 2
    assert raft_config_for(PROFILES["skew"], "index").lease_margin_ticks == 1


def test_a_lease_run_refuses_more_drift_than_its_configuration_declares() -> None:
    lease = raft_config_for(PROFILES["none"], "lease")  # margin 1: no drift tolerated
    config = SimConfig(profile=PROFILES["skew"], raft=lease)
    with pytest.raises(ValueError, match=r"drift by up to 3\.00%.*lease_margin_ticks=2 would"):
        config.validate()
    SimConfig(profile=PROFILES["skew"], raft=raft_config_for(PROFILES["skew"], "lease")).validate()


def test_a_skewed_run_replays_and_its_nodes_tick_at_different_rates() -> None:
    events = record(PROFILES["skew"], seed=6, seconds=5.0)
    # Ticks per simulated second differ between nodes by about the drift.
    rates = {}
    for e in events:
        if "tk" in e and e["t"] > 1_000_000:  # type: ignore[operator]
            rates[e["n"]] = e["tk"] / e["t"] * 1e6  # type: ignore[operator]
    assert len(rates) >= 5 and max(rates.values()) - min(rates.values()) > 0.5


def test_swarm_draws_its_own_faults_per_seed_and_records_them() -> None:
    drawn = [SimConfig(seed=s, profile=PROFILES["swarm"]).faults() for s in range(12)]
    assert len(set(drawn)) == 12
    assert all(not p.swarm and p.clock_drift <= PROFILES["swarm"].clock_drift for p in drawn)
    assert any(p.crash_every_s for p in drawn) and any(not p.crash_every_s for p in drawn)
    config = SimConfig(seed=3, profile=PROFILES["swarm"])
    assert config.faults() == SimConfig(seed=3, profile=PROFILES["swarm"]).faults()
    header = config.header_fields()["faults"]
    assert header["swarm"] is False and header["loss"] == config.faults().loss
    assert "this run:" in header["description"]


def test_every_profile_without_swarm_is_itself() -> None:
    for profile in PROFILES.values():
        if not profile.swarm:
            assert profile.realize(random.Random(1)) is profile
    assert replace(PROFILES["none"], swarm=True).realize(random.Random(1)) != PROFILES["none"]


def test_every_profile_is_in_the_docs_table_and_the_help() -> None:
    from pathlib import Path

    from raftlab.cmd_sim import SIM_HELP

    docs = (Path(__file__).parents[2] / "docs" / "simulation.md").read_text()
    help_text = " ".join(SIM_HELP.split())
    for name in PROFILES:
        assert f"| `{name}` |" in docs, f"profile {name} missing from docs/simulation.md"
        assert name in help_text, f"profile {name} missing from raftlab sim --help"
