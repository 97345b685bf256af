"""Liveness warnings on the command line: printed apart from violations by
``check``, ``run`` (its output, ``--json`` and report.md) and ``sim``; they
leave the exit code 0 unless ``--strict-liveness`` makes them fail (1)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

import checkers.invariants.liveness as liveness
from tests.checkers.builder import TraceBuilder
from tests.cli.test_cli import invoke, save

#: A short fault-free run: its first election takes a few election timeouts.
CALM = ["--duration", "2", "--nodes", "3", "--faults", "none", "--membership", "none"]


@pytest.fixture
def leaderless(tmp_path: Path) -> Path:
    """No node campaigns for 700 ms of a fault-free run: a 'no leader' warning
    (the bound is 600 ms) and nothing else."""
    b = TraceBuilder([1, 2, 3])
    for i in range(700):
        b.step(1 + i % 3, "tick")
    return save(b, tmp_path / "leaderless.jsonl")


def test_check_prints_warnings_apart_and_passes(leaderless: Path) -> None:
    result = invoke("check", leaderless)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "liveness                     1 liveness warning(s)" in out
    rule = "not violations; they fail the run only with --strict-liveness"
    assert f"liveness warnings: 1 ({rule})" in out
    assert "Progress without faults not met (liveness warning)" in out
    assert out.rstrip().endswith("verdict: PASS")


def test_check_strict_liveness_fails_on_a_warning(leaderless: Path) -> None:
    result = invoke("check", leaderless, "--strict-liveness")
    assert result.exit_code == 1, result.output
    assert "they fail the run (--strict-liveness)" in result.output
    assert result.output.rstrip().endswith("verdict: FAIL")


@pytest.mark.parametrize("strict", [False, True])
def test_check_json_lists_warnings_apart_from_violations(leaderless: Path, strict: bool) -> None:
    args = ["--strict-liveness"] if strict else []
    result = invoke("check", leaderless, "--json", *args)
    assert result.exit_code == (1 if strict else 0), result.output
    doc = orjson.loads(result.stdout)
    assert doc["violations"] == []
    assert [w["checker"] for w in doc["warnings"]] == ["liveness"]
    assert doc["warnings"][0]["kind"] == "liveness"
    assert doc["strict_liveness"] is strict
    assert doc["verdict"] == ("FAIL" if strict else "PASS")


def test_check_without_warnings_passes_strictly(tmp_path: Path) -> None:
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0))  # with its no-op: a step of the spec too
    result = invoke("check", save(b, tmp_path / "calm.jsonl"), "--strict-liveness", "--json")
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["warnings"] == []


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch) -> None:
    """A liveness bound no run meets (a leader within a hundredth of an
    election timeout), so a correct run gets a warning."""
    monkeypatch.setattr(liveness, "LEADER_TIMEOUTS", 0.01)


@pytest.mark.usefixtures("impatient")
def test_run_reports_warnings_and_fails_only_when_strict(tmp_path: Path) -> None:
    lenient = invoke("run", "--sim", *CALM, "--out-dir", tmp_path / "lenient")
    assert lenient.exit_code == 0, lenient.output
    assert "0 violation(s), 1 liveness warning(s)" in lenient.output
    assert "verdict: PASS" in lenient.output
    report = (tmp_path / "lenient" / "report.md").read_text()
    assert "- `liveness`: 1 liveness warning(s)" in report
    assert "## Liveness warnings" in report and "not met (liveness warning)" in report
    strict = invoke(
        "run", "--sim", *CALM, "--out-dir", tmp_path / "strict", "--strict-liveness", "--json"
    )
    assert strict.exit_code == 1, strict.output
    doc = orjson.loads(strict.stdout)
    assert (doc["verdict"], doc["exit_code"]) == ("FAIL", 1)
    assert doc["check"]["violations"] == []
    assert [w["checker"] for w in doc["check"]["warnings"]] == ["liveness"]
    assert "**Verdict: FAIL**" in (tmp_path / "strict" / "report.md").read_text()


@pytest.mark.usefixtures("impatient")
def test_sim_strict_liveness_fails_on_a_warning(tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    assert invoke("sim", *CALM, "--out", out).exit_code == 0
    result = invoke("sim", *CALM, "--out", out, "--strict-liveness")
    assert result.exit_code == 1, result.output
    assert "liveness warnings: 1" in result.output
