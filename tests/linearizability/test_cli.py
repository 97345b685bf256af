"""``raftlab lincheck``: exit codes, errors, reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from checkers.linearizability.generate import generate, mutate, records_to_jsonl
from raftlab.cli import app

runner = CliRunner()


def _write(tmp_path: Path, name: str, records: list[dict[str, object]]) -> Path:
    p = tmp_path / name
    p.write_text(records_to_jsonl(records))
    return p


def test_linearizable_exits_0(tmp_path: Path) -> None:
    p = _write(tmp_path, "ok.jsonl", generate(200, 4, 2, seed=1))
    res = runner.invoke(app, ["lincheck", str(p)])
    assert res.exit_code == 0, res.output
    assert "Verdict: LINEARIZABLE" in res.output


def test_violation_exits_1_and_writes_html(tmp_path: Path) -> None:
    bad, _ = mutate(generate(200, 4, 2, seed=1), 1, "read")
    p = _write(tmp_path, "bad.jsonl", bad)
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["lincheck", str(p), "--html", str(out), "--model", "kv"])
    assert res.exit_code == 1, res.output
    assert "cannot be linearized" in res.output
    assert out.exists() and 'href="#violation"' in out.read_text()
    assert f"HTML report: {out}" in res.output


def test_json_summary(tmp_path: Path) -> None:
    p = _write(tmp_path, "ok.jsonl", generate(100, 3, 1, seed=4))
    res = runner.invoke(app, ["lincheck", str(p), "--json"])
    assert res.exit_code == 0
    assert '"verdict": "linearizable"' in res.output


def test_bad_input_exits_2_with_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"client": 0, "type": "invoke", "f": "put", "key": "x", "value": "1"}\n{oops\n')
    res = runner.invoke(app, ["lincheck", str(p)])
    assert res.exit_code == 2
    assert f"{p}:2:" in res.output and "invalid JSON" in res.output


def test_unknown_exits_2(tmp_path: Path) -> None:
    p = _write(tmp_path, "h.jsonl", generate(3000, 20, 1, seed=3))
    res = runner.invoke(app, ["lincheck", str(p), "--timeout", "0.000001", "--workers", "1"])
    assert res.exit_code == 2
    assert "UNKNOWN" in res.output


def test_bad_options_exit_2(tmp_path: Path) -> None:
    p = _write(tmp_path, "ok.jsonl", generate(20, 2, 1, seed=1))
    assert runner.invoke(app, ["lincheck", str(p), "--model", "queue"]).exit_code == 2
    assert runner.invoke(app, ["lincheck", str(p), "--format", "xml"]).exit_code == 2
    assert runner.invoke(app, ["lincheck", str(p), "--timeout", "-1"]).exit_code == 2


def test_help_teaches_exit_codes_and_examples() -> None:
    res = runner.invoke(app, ["lincheck", "--help"])
    assert res.exit_code == 0
    assert "Exit codes: 0 linearizable, 1 not linearizable, 2 unknown" in " ".join(
        res.output.split()
    )
    assert "raftlab lincheck" in res.output


def test_report_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    import os
    import re
    import subprocess
    import sys

    bad, _ = mutate(generate(300, 5, 3, seed=8), 2, "read")
    p = _write(tmp_path, "bad.jsonl", bad)
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        res = subprocess.run(
            [sys.executable, "-m", "raftlab.cli", "lincheck", str(p), "--workers", "1"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert res.returncode == 1, res.stderr
        # Timings aside, everything must match.
        outs.append(re.sub(r"\d+\.\d+ s\b", "T s", res.stdout))
    assert outs[0] == outs[1]


def _files(tmp_path: Path) -> list[Path]:
    bad, _ = mutate(generate(200, 4, 2, seed=1), 1, "read")
    empty = tmp_path / "empty.log"
    empty.write_text("")
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{oops\n")
    return [
        _write(tmp_path, "ok.jsonl", generate(200, 4, 2, seed=1)),
        _write(tmp_path, "bad.jsonl", bad),
        empty,
        broken,
    ]


def test_many_files_give_the_same_verdicts_as_one_at_a_time(tmp_path: Path) -> None:
    import json

    files = _files(tmp_path)
    single = []
    for f in files:
        res = runner.invoke(app, ["lincheck", str(f), "--json"])
        single.append((res.exit_code, json.loads(res.stdout)["verdict"]))
    assert [v for _c, v in single] == ["linearizable", "not-linearizable", "linearizable", "error"]
    assert [c for c, _v in single] == [0, 1, 0, 2]
    res = runner.invoke(app, ["lincheck", *map(str, files), "--json"])
    doc = json.loads(res.stdout)
    assert [d["verdict"] for d in doc["files"]] == [v for _c, v in single]
    assert doc["summary"]["not-linearizable"] == 1 and doc["summary"]["error"] == 1
    assert res.exit_code == 1  # a violation wins over a bad file
    text = runner.invoke(app, ["lincheck", *map(str, files)])
    lines = text.stdout.splitlines()
    for f, (_c, v) in zip(files, single, strict=True):
        [line] = [x for x in lines if x.startswith(str(f))]
        assert v in line
    assert "Summary of 4 files" in text.stdout


def test_json_carries_the_explanation_and_paths(tmp_path: Path) -> None:
    import json

    bad, _ = mutate(generate(200, 4, 2, seed=1), 1, "read")
    p = _write(tmp_path, "bad.jsonl", bad)
    page = tmp_path / "bad.html"
    res = runner.invoke(app, ["lincheck", str(p), "--json", "--html", str(page)])
    doc = json.loads(res.stdout)
    assert doc["file"] == str(p) and doc["html"] == str(page) and page.exists()
    [v] = doc["violations"]
    assert v["blocked"]["op"] and v["reason"] and v["candidates"]
    assert all("state_after" in s for s in v["prefix"])
    text = runner.invoke(app, ["lincheck", str(p)]).stdout
    assert v["blocked"]["op"] in text and v["candidates"][0]["reason"] in text


def test_all_and_register_refusal(tmp_path: Path) -> None:
    p = _write(tmp_path, "ok.jsonl", generate(200, 4, 3, seed=1))
    res = runner.invoke(app, ["lincheck", str(p), "--model", "register"])
    assert res.exit_code == 2 and "use --model kv" in res.output
    assert runner.invoke(app, ["lincheck", str(p), "--all"]).exit_code == 0


def test_plain_top_level_help_matches_the_commands() -> None:
    import importlib
    import subprocess
    import sys

    from raftlab import cli

    for name, (module, _function, help_name) in cli.COMMANDS.items():
        first = getattr(importlib.import_module(module), help_name).splitlines()[0]
        assert cli.SUMMARIES[name] == first
    res = subprocess.run(
        [sys.executable, "-c", "from raftlab.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0
    for name, line in cli.SUMMARIES.items():
        assert f"  {name}" in res.stdout and line in res.stdout


@pytest.mark.parametrize("build", ["pure", "default"])
def test_lincheck_runs_without_typer(tmp_path: Path, build: str) -> None:
    import os
    import subprocess
    import sys

    p = _write(tmp_path, "ok.jsonl", generate(20, 2, 1, seed=1))
    # ``raftlab lincheck`` ends with os._exit (no teardown), so what it
    # imported is read from ``-X importtime``, which lists every import.
    # "default" runs whichever build the console entry point chooses: the
    # compiled one when ``make accel`` has built it and it is fresh.
    env = {k: v for k, v in os.environ.items() if k != "RAFTLAB_BUILD"}
    if build == "pure":
        env["RAFTLAB_BUILD"] = "pure"
    entry = "from raftlab.cli import main; main()"
    res = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", entry, "lincheck", str(p)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    imported = {line.split("|")[-1].strip() for line in res.stderr.splitlines() if "|" in line}
    assert "checkers.linearizability.checker" in imported  # the listing is complete
    assert {"typer", "pydantic", "rich", "threading", "shutil"}.isdisjoint(imported)
    # The compiled build needs ``typing`` (through mypy_extensions, for its
    # plug-in model classes); the pure Python does without it.
    if "mypy_extensions" not in imported:
        assert "typing" not in imported
    if build == "pure":
        assert "mypy_extensions" not in imported
    assert "Verdict: LINEARIZABLE" in res.stdout
