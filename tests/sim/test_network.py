"""The simulated network's faults, one at a time."""

from __future__ import annotations

import random

from sim import PROFILES
from sim.network import Network
from sim.profiles import FaultProfile


def test_partitions_cut_both_ways_and_one_way_blocks_one() -> None:
    net = Network(PROFILES["none"], random.Random(1))
    net.partition([[1, 2], [3]])
    assert net.fate(1, 3)[0] == "partition" and net.fate(3, 2)[0] == "partition"
    assert net.fate(1, 2)[0] == ""
    net.heal()
    net.block(1, 2)
    assert net.fate(1, 2)[0] == "partition" and net.fate(2, 1)[0] == ""
    net.heal()
    assert net.fate(1, 2)[0] == ""


def test_loss_duplication_and_latency_follow_the_profile() -> None:
    profile = FaultProfile("t", "test", latency_ms=10.0, loss=0.2, duplicate=0.1)
    net = Network(profile, random.Random(7))
    fates = [net.fate(1, 2) for _ in range(5000)]
    lost = sum(1 for reason, _ in fates if reason == "loss")
    doubled = sum(1 for _, delays in fates if len(delays) == 2)
    assert 800 < lost < 1200
    assert 300 < doubled < 500
    delays = sorted(d for _, ds in fates for d in ds[:1])
    median = delays[len(delays) // 2]
    assert 8_000 < median < 12_000


def test_same_seed_same_fates() -> None:
    a = Network(PROFILES["chaos"], random.Random(3))
    b = Network(PROFILES["chaos"], random.Random(3))
    assert [a.fate(1, 2) for _ in range(100)] == [b.fate(1, 2) for _ in range(100)]
