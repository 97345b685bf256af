"""Named fault profiles: how hostile the simulated world is.

A profile fixes the network's latency distribution and per-message faults,
the disks' latency distribution (with stalls), the nodes' clock drift, and
how often partitions, crashes and pauses happen. Intervals are means of
exponential distributions, so faults arrive as a Poisson process drawn from
the run's seed.

The ``swarm`` profile is a distribution over profiles rather than one: every
seed draws its own mix (each fault switched on or off, and its rate), in the
manner of swarm testing, so that rare combinations get tried instead of one
average. ``realize`` turns it into the concrete profile a run uses; the trace
header records the concrete one.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, replace


@dataclass(slots=True, frozen=True)
class FaultProfile:
    name: str
    description: str
    latency_ms: float = 10.0
    """Median one-way latency; actual latencies are log-normal around it."""
    latency_sigma: float = 0.25
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    """Chance that a message is held back long enough for later ones to pass it."""
    disk_ms: float = 2.0
    """Median write latency (write plus fsync); log-normal around it. The
    defaults are a realistic SSD: a couple of milliseconds, a long tail and
    rare stalls."""
    disk_sigma: float = 0.6
    disk_stall: float = 0.002
    """Chance that a write stalls (a firmware hiccup, a full queue)."""
    disk_stall_ms: tuple[float, float] = (20.0, 200.0)
    """How long a stall adds to the write, uniform in this range."""
    partition_every_s: float = 0.0
    """Mean time between partitions (0: never)."""
    partition_s: tuple[float, float] = (1.0, 3.0)
    asymmetric_share: float = 0.3
    """Share of partitions that block one direction only."""
    crash_every_s: float = 0.0
    """Mean time between crashes (0: never)."""
    downtime_s: tuple[float, float] = (0.5, 2.0)
    crash_in_flight: float = 0.0
    """Share of crashes aimed at a node with a write in flight (which the
    crash then loses), when there is one: the crash point between a write and
    its acknowledgement."""
    pause_every_s: float = 0.0
    """Mean time between pauses: a node frozen (no ticks, no deliveries, no
    acknowledgements; messages queue) and later resumed (0: never)."""
    pause_s: tuple[float, float] = (0.5, 2.0)
    clock_drift: float = 0.0
    """Bound on each node's clock rate error: a node's tick lasts
    ``tick * (1 + u)`` with ``u`` uniform in ``[-clock_drift, clock_drift]``."""
    swarm: bool = False
    """A distribution over profiles: ``realize`` draws a concrete one per seed."""

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    def realize(self, rng: random.Random) -> FaultProfile:
        """The concrete profile for one run (itself unless ``swarm``)."""
        return _draw_swarm(self, rng) if self.swarm else self

    def summary(self) -> str:
        """One line of the rates that matter, for a drawn profile's description."""
        return (
            f"loss {self.loss:.1%}, dup {self.duplicate:.1%}, reorder {self.reorder:.1%}, "
            f"disk {self.disk_ms:g} ms, stalls {self.disk_stall:.1%}, "
            f"partition {_rate(self.partition_every_s)}, crash {_rate(self.crash_every_s)}, "
            f"pause {_rate(self.pause_every_s)}, drift {self.clock_drift:.1%}"
        )


def _draw_swarm(bounds: FaultProfile, rng: random.Random) -> FaultProfile:
    """Each fault on with probability 1/2, at a rate drawn from a range.

    The clock drift stays within the swarm profile's own ``clock_drift``, the
    bound that the run's lease configuration was sized for.
    """

    def maybe(low: float, high: float) -> float:
        return rng.uniform(low, high) if rng.random() < 0.5 else 0.0

    disk_ms = math.exp(rng.uniform(math.log(0.2), math.log(40.0)))
    drawn = replace(
        bounds,
        swarm=False,
        latency_sigma=rng.uniform(0.1, 0.8),
        loss=maybe(0.0, 0.15),
        duplicate=maybe(0.0, 0.05),
        reorder=maybe(0.0, 0.10),
        disk_ms=round(disk_ms, 3),
        disk_sigma=rng.uniform(0.2, 1.0),
        disk_stall=maybe(0.0, 0.03),
        partition_every_s=maybe(1.0, 8.0),
        asymmetric_share=rng.uniform(0.0, 1.0),
        crash_every_s=maybe(1.0, 8.0),
        crash_in_flight=rng.uniform(0.0, 1.0),
        pause_every_s=maybe(1.0, 8.0),
        clock_drift=maybe(0.0, bounds.clock_drift),
    )
    return replace(drawn, description=f"{bounds.description} (this run: {drawn.summary()})")


def _rate(every_s: float) -> str:
    return f"~{every_s:.1f} s" if every_s else "never"


PROFILES: dict[str, FaultProfile] = {
    p.name: p
    for p in (
        FaultProfile(
            "none",
            "a perfect network with 10 ms latency and a 2 ms disk; no faults",
            disk_stall=0.0,
        ),
        FaultProfile(
            "default",
            "1% loss, some duplication and reordering, a realistic disk (2 ms, rare stalls), "
            "a partition every ~6 s, a crash every ~8 s (half aimed at a write in flight)",
            loss=0.01,
            duplicate=0.005,
            reorder=0.01,
            partition_every_s=6.0,
            crash_every_s=8.0,
            crash_in_flight=0.5,
        ),
        FaultProfile(
            "lossy",
            "a bad network (10% loss, 2% duplication, 5% reordering), no partitions or crashes",
            latency_sigma=0.5,
            loss=0.10,
            duplicate=0.02,
            reorder=0.05,
        ),
        FaultProfile(
            "partitions",
            "frequent partitions (half of them one-way), no crashes",
            loss=0.005,
            partition_every_s=2.5,
            partition_s=(0.5, 2.5),
            asymmetric_share=0.5,
        ),
        FaultProfile(
            "crashes",
            "frequent crashes and restarts on a clean network, most aimed at a write in flight",
            crash_every_s=2.0,
            downtime_s=(0.2, 3.0),
            crash_in_flight=0.7,
        ),
        FaultProfile(
            "slow-disk",
            "a slow disk (30 ms, three times the network) and a crash every ~1.5 s, most of "
            "them while a write is in flight",
            crash_every_s=1.5,
            downtime_s=(0.2, 1.5),
            crash_in_flight=0.8,
            disk_ms=30.0,
            disk_sigma=0.5,
            disk_stall=0.0,
        ),
        FaultProfile(
            "stalls",
            "a disk whose writes stall now and then (1% of writes, 0.1-1 s; a stall holds up "
            "the writes queued behind it) and a crash every ~3 s while a write is in flight",
            crash_every_s=3.0,
            downtime_s=(0.2, 1.5),
            crash_in_flight=0.8,
            disk_stall=0.01,
            disk_stall_ms=(100.0, 1000.0),
        ),
        FaultProfile(
            "pauses",
            "a node frozen every ~2 s for 0.5-2 s (past its election timeout), then resumed "
            "with its queued messages",
            pause_every_s=2.0,
            pause_s=(0.5, 2.0),
        ),
        FaultProfile(
            "skew",
            "clocks drifting by up to 3% between nodes, 1% loss, a partition every ~5 s and "
            "a pause every ~5 s",
            loss=0.01,
            partition_every_s=5.0,
            pause_every_s=5.0,
            clock_drift=0.03,
        ),
        FaultProfile(
            "chaos",
            "everything at once, often: a bad network, a 5 ms stalling disk, partitions, "
            "crashes, pauses and 2% clock drift",
            latency_sigma=0.6,
            loss=0.05,
            duplicate=0.02,
            reorder=0.05,
            disk_ms=5.0,
            disk_sigma=0.8,
            disk_stall=0.005,
            disk_stall_ms=(50.0, 500.0),
            partition_every_s=2.0,
            partition_s=(0.3, 2.0),
            asymmetric_share=0.4,
            crash_every_s=2.5,
            downtime_s=(0.2, 2.0),
            crash_in_flight=0.5,
            pause_every_s=4.0,
            pause_s=(0.3, 1.5),
            clock_drift=0.02,
        ),
        FaultProfile(
            "swarm",
            "every seed draws its own faults: each kind on or off, at its own rate, with "
            "clock drift up to 3%",
            clock_drift=0.03,
            swarm=True,
        ),
    )
}


def get_profile(name: str) -> FaultProfile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown fault profile {name!r} (known: {known})") from None
