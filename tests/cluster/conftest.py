"""Real node processes on loopback: a fixture that always stops them by PID."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kv.localcluster import LocalCluster


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator[Callable[..., LocalCluster]]:
    """``make_cluster(nodes=3, **options)`` starts a cluster in the test's
    temporary directory; every cluster made is stopped at the end."""
    made: list[LocalCluster] = []

    def make(nodes: int = 3, name: str = "c", **options: object) -> LocalCluster:
        options.setdefault("trace_level", "off")
        cluster = LocalCluster.up(tmp_path / name, nodes, **options)  # type: ignore[arg-type]
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.down()  # resumes paused nodes (SIGCONT), then stops each by PID
