"""Trace validation on a real cluster's merged trace: `raftlab run` (real node
processes on loopback, a SIGKILL, a partition, a restart) writes the merged
trace, and every step of it is the action of spec/RaftReconfig.tla that the
mapping names, with every invariant holding."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from checkers.spec.check import check_events, default_mapping_path, load_mapping
from raftlab.cli import app
from traces.reader import load_trace

pytestmark = pytest.mark.cluster


def test_a_real_runs_merged_trace_is_steps_of_the_spec(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", "--duration", "4", "--out-dir", str(out), "--json"])
    assert result.exit_code == 0, result.output
    events = load_trace(out / "trace.jsonl")[1]
    assert any(e["act"] == "restart" for e in events), "the run kills and restarts a node"
    check = check_events(load_mapping(default_mapping_path()), events)
    assert check.violations == [], [v.describe() for v in check.violations]
    assert check.validated > 1000 and check.unvalidated == 0
