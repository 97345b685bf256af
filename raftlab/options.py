"""Checking command-line values before any work starts.

Every value a person types is checked here and, when wrong, named with what
is wrong in one line (``ValueError``), before a file is touched. Values that
are legal but make a run pointless give warnings: a duration too short for
any election, a client rate the clients cannot offer.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim import SimConfig

#: Seeds are stored in traces as JSON integers, which orjson keeps to 64 bits;
#: the simulator mixes them into 64-bit generators.
SEED_MAX = 2**63 - 1

#: Longer simulations would run for weeks of wall time; a typo such as
#: ``1e300`` must fail at once rather than fill the disk.
DURATION_MAX_S = 1_000_000.0


def check_seed(seed: int) -> None:
    if not 0 <= seed <= SEED_MAX:
        raise ValueError(f"--seed must be between 0 and {SEED_MAX} (2^63 - 1), got {seed}")


def check_positive(option: str, value: float, unit: str = "") -> None:
    """A finite number above zero."""
    if not math.isfinite(value) or value <= 0:
        what = f"a positive number{unit and ' of ' + unit}"
        raise ValueError(f"{option} must be {what}, got {value}")


def check_count(option: str, value: int, least: int = 1) -> None:
    if value < least:
        raise ValueError(f"{option} must be at least {least}, got {value}")


def check_sim_values(seed: int, duration: float, clients: int, rate: float, keys: int) -> None:
    """What ``sim`` and ``run`` are given, before SimConfig's own checks."""
    check_seed(seed)
    check_positive("--duration", duration, "simulated seconds")
    if duration > DURATION_MAX_S:
        raise ValueError(
            f"--duration must be at most {DURATION_MAX_S:.0f} simulated seconds "
            f"(11.6 days), got {duration:g}"
        )
    check_count("--clients", clients, least=0)
    check_positive("--rate", rate, "operations per simulated second")
    check_count("--keys", keys)


def election_window_s(config: SimConfig) -> float:
    """The longest a first election can take to start: the randomized election
    timeout is drawn from [election_ticks, 2 * election_ticks) ticks."""
    return 2 * config.raft.election_ticks * config.tick_ms / 1000


def client_capacity(config: SimConfig) -> float:
    """Operations per second the clients can offer at best: each has one
    operation in flight, and an operation needs at least a request, a
    replication round trip and a reply (four one-way latencies)."""
    op_s = 4 * config.profile.latency_ms / 1000
    return config.workload.clients / op_s if op_s > 0 else math.inf


def sim_warnings(config: SimConfig) -> list[str]:
    """Legal values that make a run say little, in sentences."""
    warnings = []
    window = election_window_s(config)
    if config.duration_s < window:
        warnings.append(
            f"--duration {config.duration_s:g} s is shorter than the time a first election "
            f"may take ({window:g} s: two election timeouts of "
            f"{config.raft.election_ticks} ticks of {config.tick_ms:g} ms); "
            "the cluster may never elect a leader"
        )
    workload = config.workload
    capacity = client_capacity(config)
    if workload.clients == 0:
        warnings.append("--clients 0: no client operations, so no history to check")
    elif workload.rate > capacity:
        warnings.append(
            f"--rate {workload.rate:g} is more than {workload.clients} client(s) can offer "
            f"(about {capacity:.0f} operations/s: one operation in flight each, "
            f"{4 * config.profile.latency_ms:g} ms per operation at best); "
            "raise --clients or expect fewer operations"
        )
    return warnings
