"""sim.draws.lognormal draws what ``random.Random.lognormvariate`` draws.

A seed's schedule depends on every latency drawn, so the two must agree bit
for bit and leave the generator in the same state, for the parameters the
fault profiles use and for wide ones (where the rejection loop repeats).
"""

from __future__ import annotations

import math
import random

import pytest

from sim.draws import lognormal
from sim.profiles import PROFILES


@pytest.mark.parametrize(
    ("mu", "sigma"), [(math.log(10_000.0), 0.3), (math.log(200.0), 1.0), (0.0, 4.0), (2.0, 0.0)]
)
def test_same_values_and_generator_state(mu: float, sigma: float) -> None:
    ours, stdlib = random.Random(7), random.Random(7)
    for _ in range(20_000):
        assert lognormal(ours, mu, sigma) == stdlib.lognormvariate(mu, sigma)
    assert ours.getstate() == stdlib.getstate()


def test_every_profile_latency_draws_as_before() -> None:
    for name, profile in sorted(PROFILES.items()):
        mu = math.log(profile.latency_ms * 1000.0)
        ours, stdlib = random.Random(name), random.Random(name)
        got = [lognormal(ours, mu, profile.latency_sigma) for _ in range(2_000)]
        assert got == [stdlib.lognormvariate(mu, profile.latency_sigma) for _ in range(2_000)]
