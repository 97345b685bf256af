"""What the spec tests share: the mapping of spec/RaftReconfig.tla, and one
safe simulated run that several files judge as it is and changed by hand
(they change deep copies of it: the run itself is never modified)."""

from __future__ import annotations

from typing import Any

import pytest

from checkers.spec.check import SpecMapping, default_mapping_path, load_mapping
from tests.spec.runs import simulated_events


@pytest.fixture(scope="session")
def mapping() -> SpecMapping:
    return load_mapping(default_mapping_path())


@pytest.fixture(scope="session")
def safe_run(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """A 3-node chaos run with membership changes, crashes and snapshots (it
    holds a rejected vote)."""
    return simulated_events(tmp_path_factory.mktemp("safe") / "run.jsonl", 3, "chaos", 3, 6.0)
