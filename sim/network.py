"""The simulated network: latency, loss, duplication, reordering, partitions.

Pure bookkeeping with a seeded ``random.Random``; the simulator asks it, for
each message, when (if ever) and how many times the message arrives.
"""

from __future__ import annotations

import math
import random

from sim.draws import lognormal
from sim.profiles import FaultProfile


class Network:
    __slots__ = ("_mu", "blocked", "profile", "rng")

    def __init__(self, profile: FaultProfile, rng: random.Random) -> None:
        self.profile = profile
        self.rng = rng
        self._mu = math.log(profile.latency_ms * 1000.0)
        #: (src, dst) pairs that cannot talk, direction matters.
        self.blocked: set[tuple[int, int]] = set()

    def latency_us(self) -> int:
        sigma = self.profile.latency_sigma
        delay = lognormal(self.rng, self._mu, sigma) if sigma else math.exp(self._mu)
        return max(100, int(delay))

    def fate(self, src: int, dst: int) -> tuple[str, list[int]]:
        """``("", delays)`` with one delay per copy delivered, or
        ``(reason, [])`` when the message is lost."""
        if (src, dst) in self.blocked:
            return "partition", []
        p = self.profile
        rng = self.rng
        if p.loss and rng.random() < p.loss:
            return "loss", []
        delay = self.latency_us()
        if p.reorder and rng.random() < p.reorder:
            delay += int(rng.uniform(2, 8) * p.latency_ms * 1000)
        delays = [delay]
        if p.duplicate and rng.random() < p.duplicate:
            delays.append(delay + self.latency_us())
        return "", delays

    def partition(self, groups: list[list[int]]) -> None:
        """Cut every link between different groups, both ways."""
        for i, group in enumerate(groups):
            for other in groups[i + 1 :]:
                for a in group:
                    for b in other:
                        self.blocked.add((a, b))
                        self.blocked.add((b, a))

    def block(self, src: int, dst: int) -> None:
        """Cut one direction only (an asymmetric partition)."""
        self.blocked.add((src, dst))

    def heal(self) -> None:
        self.blocked.clear()
