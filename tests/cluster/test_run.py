"""`raftlab run` on real processes: the merged trace of a run with faults
passes every checker, the history is linearizable, every node's trace replays."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from raftlab.cli import app

pytestmark = pytest.mark.cluster


def test_a_real_run_with_faults_passes_every_check_and_replays(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", "--duration", "6", "--out-dir", str(out), "--json"])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["verdict"] == "PASS", doc
    assert doc["invariants"]["violations"] == 0
    assert doc["linearizability"] == "linearizable"
    whats = " ".join(f["what"] for f in doc["faults"])
    assert "SIGKILL" in whats and "partition" in whats and "restarted" in whats
    # the killed leader and the restarted follower each have two incarnations
    assert len(doc["replay"]) == 5
    assert set(doc["replay"].values()) == {"DETERMINISTIC"}
    assert doc["load"]["ok"] > 100
    report = (out / "report.md").read_text()
    assert "**Verdict: PASS**" in report and "## Faults, as carried out" in report
    for name in ("trace.jsonl", "history.jsonl", "linearizability.html", "cluster/cluster.json"):
        assert (out / name).exists(), name
