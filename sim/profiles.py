"""Named fault profiles: how hostile the simulated world is.

A profile fixes the network's latency distribution and per-message faults,
and how often partitions and crashes happen. Intervals are means of
exponential distributions, so faults arrive as a Poisson process drawn from
the run's seed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


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
    disk_ms: float = 0.5
    partition_every_s: float = 0.0
    """Mean time between partitions (0: never)."""
    partition_s: tuple[float, float] = (1.0, 3.0)
    asymmetric_share: float = 0.3
    """Share of partitions that block one direction only."""
    crash_every_s: float = 0.0
    """Mean time between crashes (0: never)."""
    downtime_s: tuple[float, float] = (0.5, 2.0)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


PROFILES: dict[str, FaultProfile] = {
    p.name: p
    for p in (
        FaultProfile("none", "a perfect network with 10 ms latency; no faults"),
        FaultProfile(
            "default",
            "1% loss, some duplication and reordering, a partition every ~6 s, a crash every ~8 s",
            loss=0.01,
            duplicate=0.005,
            reorder=0.01,
            partition_every_s=6.0,
            crash_every_s=8.0,
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
            "frequent crashes and restarts on a clean network",
            crash_every_s=2.0,
            downtime_s=(0.2, 3.0),
        ),
        FaultProfile(
            "chaos",
            "everything at once, often",
            latency_sigma=0.6,
            loss=0.05,
            duplicate=0.02,
            reorder=0.05,
            disk_ms=2.0,
            partition_every_s=2.0,
            partition_s=(0.3, 2.0),
            asymmetric_share=0.4,
            crash_every_s=2.5,
            downtime_s=(0.2, 2.0),
        ),
    )
}


def get_profile(name: str) -> FaultProfile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown fault profile {name!r} (known: {known})") from None
