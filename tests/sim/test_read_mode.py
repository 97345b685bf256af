"""``--read-mode`` on ``raftlab sim`` and ``raftlab run``: carried into the
core configuration and the trace header; a bad value is exit 2."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from raftlab.cli import app


def header_of(path: Path) -> dict[str, object]:
    return orjson.loads(path.read_bytes().split(b"\n", 1)[0])  # type: ignore[no-any-return]


@pytest.mark.parametrize("mode", ["index", "lease"])
def test_sim_records_the_read_mode_and_the_lease_margin(tmp_path: Path, mode: str) -> None:
    out = tmp_path / "t.jsonl"
    args = ["sim", "--seed", "2", "--duration", "2", "--faults", "chaos", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--read-mode", mode, "--no-check"])
    assert result.exit_code == 0, result.output
    raft = header_of(out)["raft"]
    assert isinstance(raft, dict) and raft["read_mode"] == mode
    # chaos lets clocks drift by 2%: a lease needs two ticks of margin.
    assert raft["lease_margin_ticks"] == (2 if mode == "lease" else 1)
    assert f"{mode} reads" in result.output


def test_run_takes_the_read_mode_too(tmp_path: Path) -> None:
    directory = tmp_path / "r"
    args = ["run", "--sim", "--seed", "4", "--duration", "2", "--membership", "none"]
    result = CliRunner().invoke(app, [*args, "--read-mode", "lease", "--out-dir", str(directory)])
    assert result.exit_code == 0, result.output
    raft = header_of(directory / "trace.jsonl")["raft"]
    assert isinstance(raft, dict) and raft["read_mode"] == "lease"


@pytest.mark.parametrize("command", ["sim", "run"])
def test_a_bad_read_mode_is_exit_2_with_one_line(tmp_path: Path, command: str) -> None:
    where = (
        ["--out", str(tmp_path / "t.jsonl")] if command == "sim" else ["--out-dir", str(tmp_path)]
    )
    kind = ["--sim"] if command == "run" else []
    result = CliRunner().invoke(app, [command, *kind, "--read-mode", "stale", *where])
    assert result.exit_code == 2
    assert "--read-mode must be 'index' or 'lease', got 'stale'" in result.output
    assert "Traceback" not in result.output
