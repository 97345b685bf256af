"""A tiny seeded PRNG (SplitMix64) that lives inside the node state.

The core may not use ``random``: its state must be part of the node's state,
digested and replayed with it, and identical on every platform. SplitMix64 is
a few integer operations per draw and passes BigCrush, more than enough for
election timeouts.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1


def mix64(value: int) -> int:
    """One SplitMix64 output step; also used to derive seeds from seeds."""
    z = value & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


class Prng:
    __slots__ = ("state",)

    def __init__(self, seed: int) -> None:
        self.state = seed & _MASK

    def next64(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK
        return mix64(self.state)

    def below(self, n: int) -> int:
        """Uniform integer in ``[0, n)`` (bias below 2**-40 for our small n)."""
        if n <= 0:
            raise ValueError("n must be positive")
        return self.next64() % n
