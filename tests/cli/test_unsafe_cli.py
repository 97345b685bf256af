"""``--unsafe`` on ``raftlab sim`` and ``raftlab run --sim``, and
``raftlab sim --list-unsafe``: the modes reach the core and the header, the
reproduce line repeats them, bad names are exit 2 with one line."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from consensus.unsafe import MODES
from raftlab.cli import app

VOLATILE = ["--seed", "1", "--nodes", "3", "--duration", "5", "--faults", "crashes"]


def header_of(path: Path) -> dict[str, object]:
    return orjson.loads(path.read_bytes().split(b"\n", 1)[0])  # type: ignore[no-any-return]


def test_list_unsafe_names_every_mode_and_its_checker() -> None:
    result = CliRunner().invoke(app, ["sim", "--list-unsafe", "--json"])
    assert result.exit_code == 0, result.output
    listed = orjson.loads(result.output)
    assert [m["name"] for m in listed] == list(MODES)
    assert {m["caught_by"] for m in listed} >= {"vote-once", "linearizability"}
    text = CliRunner().invoke(app, ["sim", "--list-unsafe"])
    assert text.exit_code == 0 and all(mode in text.output for mode in MODES)


def test_sim_with_a_mode_records_it_fails_its_check_and_says_how_to_reproduce(
    tmp_path: Path,
) -> None:
    out = tmp_path / "vv.jsonl"
    args = ["sim", *VOLATILE, "--membership", "none", "--unsafe", "volatile-vote"]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--json"])
    assert result.exit_code == 1, result.output
    doc = orjson.loads(result.output)
    assert "vote-once" in {v["checker"] for v in doc["check"]["violations"]}
    assert header_of(out)["raft"]["unsafe"] == ["volatile-vote"]  # type: ignore[index]
    assert "--unsafe volatile-vote" in doc["summary"]["reproduce"]


def test_an_unknown_mode_is_exit_2_with_one_line(tmp_path: Path) -> None:
    out = ["--out", str(tmp_path / "t.jsonl")]
    result = CliRunner().invoke(app, ["sim", "--unsafe", "fast-commit", *out])
    assert result.exit_code == 2
    assert "--unsafe: unknown unsafe mode(s): fast-commit (known: learner-early-vote" in (
        result.output
    )
    assert "Traceback" not in result.output


def test_run_takes_unsafe_with_sim_only(tmp_path: Path) -> None:
    directory = tmp_path / "r"
    args = ["run", "--sim", "--seed", "4", "--duration", "2", "--membership", "none"]
    result = CliRunner().invoke(app, [*args, "--unsafe", "no-joint", "--out-dir", str(directory)])
    assert result.exit_code == 0, result.output
    assert header_of(directory / "trace.jsonl")["raft"]["unsafe"] == ["no-joint"]  # type: ignore[index]
    real = CliRunner().invoke(app, ["run", "--unsafe", "no-joint", "--out-dir", str(tmp_path)])
    assert real.exit_code == 2
    assert "--unsafe describes a simulated run: add --sim" in real.output
