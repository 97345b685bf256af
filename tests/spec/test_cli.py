"""``raftlab spec eval`` end to end: values in TLA+ syntax, --const, --json,
stdin, and exit 2 with one clear line for every bad input."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner, Result

from raftlab.cli import app

EXAMPLE = Path(__file__).with_name("Peterson.tla")


def invoke(*args: str | Path, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, ["spec", "eval", *map(str, args)], input=stdin)


def test_eval_prints_the_value_in_tla_syntax() -> None:
    result = invoke(EXAMPLE, "[p \\in Procs |-> Other(p)]", "--const", "Procs={1, 2}")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "<<2, 1>>"
    result = invoke(EXAMPLE, 'Labels \\ {"cs"}')
    assert result.stdout.strip() == '{"idle", "set", "wait"}'


def test_eval_prints_json_on_request() -> None:
    result = invoke(EXAMPLE, "Cardinality(SUBSET Procs)", "--const", 'Procs={"a", "b"}', "--json")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc == {
        "spec": str(EXAMPLE),
        "expr": "Cardinality(SUBSET Procs)",
        "constants": {"Procs": '{"a", "b"}'},
        "value": "4",
    }


def test_eval_reads_the_spec_from_stdin() -> None:
    text = "---- MODULE S ----\nEXTENDS Naturals\nSq(k) == k * k\n====\n"
    result = invoke("-", "Sq(12)", stdin=text)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "144"


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["Procs"], "constant Procs has no value (give it one: --const Procs=...)"),
        (["1 +"], "<expr>:1:4: expected"),
        (["Other(1)", "--const", "Procs=1.."], "--const Procs:1:4: expected"),
        (["1", "--const", "Nope=1"], "has no CONSTANT Nope (it declares: Procs)"),
        (["1", "--const", "Procs"], "expected --const NAME=VALUE"),
        (["1", "--const", "Procs=1", "--const", "Procs=2"], "constant Procs given twice"),
        (["pc"], "variable pc has no value in the current state"),
        (["Undefined"], "unknown name Undefined"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_it(args: list[str], phrase: str) -> None:
    result = invoke(EXAMPLE, *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and phrase in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_broken_or_missing_spec_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "B.tla"
    broken.write_text("---- MODULE B ----\nA == (1\n====\n")
    result = invoke(broken, "A")
    assert result.exit_code == 2 and f"{broken}:3:1: expected" in result.stderr
    result = invoke(tmp_path / "none.tla", "1")
    assert result.exit_code == 2 and "cannot read the spec" in result.stderr


def test_eval_help_says_what_exit_codes_mean() -> None:
    result = CliRunner().invoke(app, ["spec", "eval", "--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.stdout and "--const" in result.stdout
