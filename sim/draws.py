"""Log-normal draws, computed here rather than by ``random.Random.lognormvariate``.

The network and the disks draw a log-normal latency for nearly every message
and write. The standard library's draw is interpreted Python (two calls deep),
about a sixth of an untraced compiled step; this module is compiled with the
hot path (``make accel``), where the same arithmetic runs on C doubles.

The values must be the standard library's, bit for bit: a seed's schedule is
fixed, and traces recorded before must replay. So this follows CPython's
method exactly (Kinderman and Monahan's ratio of uniforms, the same uniforms
from the same generator, the same operations in the same order);
tests/sim/test_draws.py compares it with ``random.Random.lognormvariate``
draw by draw.
"""

from __future__ import annotations

import math
import random

#: 4 * exp(-1/2) / sqrt(2), written as CPython's random module computes it.
_MAGIC = 4 * math.exp(-0.5) / math.sqrt(2.0)


def lognormal(rng: random.Random, mu: float, sigma: float) -> float:
    """``rng.lognormvariate(mu, sigma)``: the same value, and the same
    uniforms consumed from ``rng``."""
    uniform = rng.random
    while True:
        u1 = uniform()
        u2 = 1.0 - uniform()
        z = _MAGIC * (u1 - 0.5) / u2
        if z * z / 4.0 <= -math.log(u2):
            return math.exp(mu + z * sigma)
