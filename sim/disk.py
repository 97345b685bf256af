"""The simulated disks' latency: log-normal writes with rare long stalls.

Each node's disk is a FIFO queue (``SimNode.disk_free_at`` and
``SimNode.writes``): a write starts when the previous one completes, takes a
latency drawn here, and is durable only once complete. A crash loses every
write still queued or in flight and keeps every completed one, which is what
a write-ahead log with fsync gives: a prefix of the writes issued.
"""

from __future__ import annotations

import math
import random

from sim.draws import lognormal
from sim.profiles import FaultProfile

#: No write completes faster than this (a syscall and an fsync barrier).
MIN_WRITE_US = 20


class DiskModel:
    __slots__ = ("_mu", "profile", "rng", "stalls")

    def __init__(self, profile: FaultProfile, rng: random.Random) -> None:
        self.profile = profile
        self.rng = rng
        self._mu = math.log(max(profile.disk_ms, 0.001) * 1000.0)
        self.stalls = 0

    def latency_us(self) -> int:
        """One write's latency: log-normal around the median, plus (rarely) a stall."""
        p, rng = self.profile, self.rng
        latency = lognormal(rng, self._mu, p.disk_sigma) if p.disk_sigma else math.exp(self._mu)
        if p.disk_stall and rng.random() < p.disk_stall:
            self.stalls += 1
            latency += rng.uniform(*p.disk_stall_ms) * 1000.0
        return max(MIN_WRITE_US, int(latency))
