"""``raftlab run``: a directory per run with ``runs/latest``, nothing mixed
when interrupted, a report that opens with how to reproduce the run; and
the ``--json`` forms of ``sim``, ``run`` and the lists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

import raftlab.experiment as experiment
from tests.cli.test_cli import failed, invoke

SHORT = ["--duration", "2", "--nodes", "3"]


def run_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[Any, Path]:
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "--sim", *SHORT, *args)
    return result, tmp_path / "runs"


def test_each_run_gets_its_own_directory_and_latest_names_the_newest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, runs = run_in(tmp_path, monkeypatch, "--seed", "5")
    assert first.exit_code == 0, first.output
    second, _ = run_in(tmp_path, monkeypatch, "--seed", "6")
    assert second.exit_code == 0, second.output
    dirs = sorted(p.name for p in runs.iterdir() if p.name != "latest")
    assert len(dirs) == 2
    assert re.fullmatch(r"\d{8}T\d{6}Z-seed5-default-n3", dirs[0]), dirs
    assert re.fullmatch(r"\d{8}T\d{6}Z-seed6-default-n3", dirs[1]), dirs
    latest = runs / "latest"
    assert latest.is_symlink() and latest.readlink() == Path(dirs[1])
    for name in dirs:
        assert sorted(p.name for p in (runs / name).iterdir()) == [
            "history.jsonl",
            "linearizability.html",
            "report.md",
            "trace.jsonl",
        ]
    lines = second.output.rstrip().splitlines()
    assert lines[-3:] == [
        "verdict: PASS",
        f"trace: runs/{dirs[1]}/trace.jsonl",
        f"report: runs/{dirs[1]}/report.md",
    ]


class _Interrupted:
    def __init__(self, config: Any, sink: Any, actor: Any) -> None:
        self.sink = sink

    def run(self, progress: Any = None) -> None:
        self.sink.emit({"seq": 0, "t": 1, "n": "env", "lc": 1, "act": "heal"})
        raise KeyboardInterrupt


def test_an_interrupted_run_leaves_the_previous_run_and_latest_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, runs = run_in(tmp_path, monkeypatch)
    assert first.exit_code == 0, first.output
    before = {p: p.read_bytes() for p in (runs / "latest").iterdir()}
    target = (runs / "latest").readlink()
    monkeypatch.setattr(experiment, "Simulation", _Interrupted)
    result, _ = run_in(tmp_path, monkeypatch, "--seed", "9")
    error = failed(result, 2, "interrupted: the unfinished run is in runs/.")
    assert "runs/latest still names the previous run" in error
    assert (runs / "latest").readlink() == target
    assert {p: p.read_bytes() for p in (runs / "latest").iterdir()} == before
    visible = [p for p in runs.iterdir() if not p.name.startswith(".")]
    assert sorted(p.name for p in visible) == sorted([target.name, "latest"])


def test_out_dir_replaces_an_earlier_run_whole_and_refuses_foreign_files(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    assert invoke("run", "--sim", *SHORT, "--out-dir", out).exit_code == 0
    old_trace = (out / "trace.jsonl").read_bytes()
    again = invoke("run", "--sim", *SHORT, "--seed", "2", "--out-dir", out)
    assert again.exit_code == 0, again.output
    assert (out / "trace.jsonl").read_bytes() != old_trace
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"], "no staging left behind"
    (out / "notes.txt").write_text("mine, not raftlab's")
    failed(
        invoke("run", "--sim", *SHORT, "--out-dir", out), 2, f"--out-dir: {out} holds files a run"
    )
    assert (out / "notes.txt").exists()


def test_the_report_opens_with_the_command_that_reproduces_the_run(tmp_path: Path) -> None:
    import raftlab

    out = tmp_path / "r"
    result = invoke("run", "--sim", "--seed", "4", *SHORT, "--faults", "lossy", "--out-dir", out)
    assert result.exit_code == 0, result.output
    report = (out / "report.md").read_text()
    head = report.split("## Files", 1)[0]
    command = (
        f"raftlab run --seed 4 --nodes 3 --faults lossy --duration 2 --membership random "
        f"--out-dir {out}"
    )
    assert f"```sh\n{command}\n```" in head
    assert (
        f"raftlab {raftlab.__version__} · seed 4 · 3 nodes · faults `lossy` · 2 simulated" in head
    )
    assert "**Verdict: PASS**" in head
    assert "- trace: `trace.jsonl`" in report, "names are relative to the run directory"


def test_run_prints_json_with_every_file_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "r"
    result = invoke("run", "--sim", *SHORT, "--out-dir", out, "--json")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["verdict"] == "PASS" and doc["ok"] is True and doc["directory"] == str(out)
    assert set(doc["files"]) == {"trace", "history", "linearizability", "report"}
    for path in doc["files"].values():
        assert Path(path).is_file() and Path(path).parent == out
    assert doc["check"]["verdict"] == "PASS" and doc["replay"]["verdict"] == "DETERMINISTIC"
    assert doc["check"]["files"]["linearizability_html"] == doc["files"]["linearizability"]
    assert doc["summary"]["reproduce"].startswith("raftlab run --seed 1 --nodes 3")


def test_sim_prints_json_with_the_summary_the_check_and_the_trace(tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl.gz"
    result = invoke("sim", "--duration", 1, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["files"] == {"trace": str(out)}
    summary = doc["summary"]
    assert summary["trace_bytes"] == out.stat().st_size and summary["commit"] > 0
    assert summary["reproduce"] == (
        f"raftlab sim --seed 1 --nodes 5 --faults default --duration 1 --membership random "
        f"--out {out}"
    )
    assert summary["wall_s"] > 0 and summary["node_steps"] > 0
    assert doc["check"]["verdict"] == "PASS" and doc["check"]["integrity"]["state"] == "complete"


def test_the_lists_print_json() -> None:
    checkers = orjson.loads(invoke("check", "--list", "--json").stdout)
    assert {"name", "invariant", "summary"} <= set(checkers[0])
    assert "election-safety" in {c["name"] for c in checkers}
    profiles = orjson.loads(invoke("sim", "--list-faults", "--json").stdout)
    by_name = {p["name"]: p for p in profiles}
    assert {"none", "default", "chaos"} <= set(by_name)
    assert by_name["default"]["description"] and "loss" in by_name["default"]
