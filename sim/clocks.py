"""Node clocks: per-node phase and rate, and the drift a lease can absorb.

Each node's Raft clock is ``(t + phase) // tick`` in simulated microseconds.
The phase (a constant offset, drawn once per node) keeps nodes from ticking
in lockstep; with clock drift, each node's tick also has its own length,
``tick * (1 + u)`` with ``u`` uniform in ``[-drift, drift]`` (the profile's
``clock_drift``), so that one node's election timeout passes faster than
another's.

Lease reads assume bounded drift (``consensus.config.ReadMode.LEASE``). A
leader serves lease reads until ``E - m`` of its own ticks after sending the
heartbeat a quorum acknowledged (E = ``election_ticks``, m =
``lease_margin_ticks``): until at most ``s + (E - m) * T_leader`` in real
time, s being the send time. A follower that acknowledged it heard the
heartbeat at ``r >= s`` and helps elect no one for E of its ticks, of which
the first may be partly gone: until at least ``r + (E - 1) * T_follower``.
The lease is safe if ``(E - m) * T_leader <= (E - 1) * T_follower`` for the
slowest leader and the fastest follower, that is with rate errors within
``rho``: ``(E - m)(1 + rho) <= (E - 1)(1 - rho)``, or

    rho <= (m - 1) / (2E - m - 1)

With m = 1 (the default) no drift at all is tolerated: one tick of margin
only absorbs the tick quantization. ``SimConfig.validate`` refuses a lease run
whose profile lets clocks drift further than its configuration declares, and
``lease_margin_for`` gives the smallest margin that covers a drift.
"""

from __future__ import annotations

import random


def tolerated_drift(election_ticks: int, lease_margin_ticks: int) -> float:
    """The largest per-node rate error the lease configuration absorbs."""
    e, m = election_ticks, lease_margin_ticks
    return max(0.0, (m - 1) / (2 * e - m - 1))


def lease_margin_for(drift: float, election_ticks: int) -> int:
    """The smallest ``lease_margin_ticks`` whose lease survives ``drift``
    (at least 1; may reach ``election_ticks`` when no margin suffices)."""
    margin = 1
    while margin < election_ticks and tolerated_drift(election_ticks, margin) < drift:
        margin += 1
    return margin


def tick_length_us(tick_us: int, drift: float, rng: random.Random) -> int:
    """One node's tick length under ``drift`` (exactly ``tick_us`` without)."""
    if not drift:
        return tick_us
    # int() truncates toward the nominal length, so the error stays within the bound.
    return max(1, tick_us + int(tick_us * rng.uniform(-drift, drift)))
