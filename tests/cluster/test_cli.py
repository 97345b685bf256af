"""`raftlab cluster` and `raftlab kv` as a user runs them: separate processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kv.localcluster import LocalCluster

pytestmark = pytest.mark.cluster


def raftlab(*args: str | Path, code: int = 0) -> subprocess.CompletedProcess[str]:
    if args[0] == "kv":  # generous: a write right after a kill waits for an election
        args = (*args, "--timeout", "30")
    result = subprocess.run(
        [sys.executable, "-m", "raftlab.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == code, (result.stdout, result.stderr)
    return result


def as_json(*args: str | Path) -> Any:
    return json.loads(raftlab(*args, "--json").stdout)


@pytest.fixture
def cluster_dir(tmp_path: Path):  # type: ignore[no-untyped-def]
    directory = tmp_path / "c"
    yield directory
    if (directory / "cluster.json").exists():
        LocalCluster.load(directory).down()


def test_up_write_read_break_and_down(cluster_dir: Path) -> None:
    d = ("--dir", cluster_dir)
    up = as_json("cluster", "up", "--nodes", "3", "--no-fsync", "--trace-level", "state", *d)
    assert up["leader"] in (1, 2, 3)
    raftlab("kv", "put", "greeting", "hello", *d)
    assert raftlab("kv", "get", "greeting", *d).stdout == "hello\n"
    assert as_json("kv", "cas", "greeting", "hello", "bye", *d)["swapped"] is True
    assert raftlab("kv", "cas", "greeting", "hello", "again", *d, code=1).stdout.startswith(
        "not swapped"
    )
    assert as_json("kv", "cas", "fresh", "--absent", "1", *d)["swapped"] is True
    listing = as_json("kv", "list", *d)["items"]
    assert listing == [{"key": "fresh", "value": "1"}, {"key": "greeting", "value": "bye"}]

    status = as_json("cluster", "status", *d)["nodes"]
    leader = next(row["node"] for row in status if row.get("role") == "leader")
    assert {row["process"] for row in status} == {"running"}
    raftlab("cluster", "kill", leader, *d)
    raftlab("kv", "put", "after", "kill", *d)  # the others elect a new leader
    rows = {row["node"]: row for row in as_json("cluster", "status", *d)["nodes"]}
    assert rows[leader]["process"] == "down" and rows[leader]["pid"] == 0
    raftlab("cluster", "restart", leader, *d)
    follower = next(n for n in rows if n != leader)
    raftlab(
        "cluster", "partition", f"{follower}/{','.join(str(n) for n in rows if n != follower)}", *d
    )
    raftlab("cluster", "heal", *d)
    assert raftlab("kv", "get", "after", *d).stdout == "kill\n"
    raftlab("cluster", "down", *d)
    again = as_json("cluster", "up", *d)  # a stopped cluster starts again from its disks
    assert sorted(again["nodes"]) == ["1", "2", "3"]
    assert raftlab("kv", "get", "greeting", *d).stdout == "bye\n"
    pids = [row["pid"] for row in as_json("cluster", "status", *d)["nodes"]]
    raftlab("cluster", "down", *d)
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


def test_a_missing_cluster_and_bad_arguments_exit_2_naming_the_problem(tmp_path: Path) -> None:
    nowhere = tmp_path / "none"
    error = raftlab("cluster", "status", "--dir", nowhere, code=2).stderr
    assert error.startswith("error: ") and str(nowhere) in error and "cluster up" in error
    bad = raftlab("cluster", "partition", "1,2", "--dir", nowhere, code=2).stderr
    assert "at least two groups" in bad
    assert raftlab("kv", "cas", "k", "new", "--dir", nowhere, code=2).stderr.startswith("error: ")
    assert "Traceback" not in error + bad
