"""Shared pytest setup.

- Hypothesis runs derandomized (a fixed seed per test) with no deadline and
  no example database, so the suite is deterministic and machine-independent.
  ``HYPOTHESIS_PROFILE=explore`` switches to fresh random seeds for local bug
  hunting.
- ``--rewrite-scenarios`` makes the scenario tests (tests/scenarios/) write
  the output they observe back into their files instead of comparing. Only
  commit the rewritten expectations if you understand what caused them.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("raftlab", derandomize=True, deadline=None, database=None)
settings.register_profile("explore", deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "raftlab"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--rewrite-scenarios",
        action="store_true",
        default=False,
        help="rewrite the expected output of tests/scenarios/*.txt with what the core does now",
    )


@pytest.fixture(scope="session")
def built() -> None:
    """Skip the test unless the compiled build (``make accel``) is there and
    fresh: the tests comparing it with the pure Python (test_accel.py)."""
    from raftlab.accel import accel_status

    status = accel_status()
    if status:
        pytest.skip(f"compiled build {status}")
