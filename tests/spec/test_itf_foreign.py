"""``raftlab spec check SPEC TRACE.itf.json --invariant ... --action ...``:
a TLA+ spec checked on an ITF trace of another tool, whose variables are
the spec's. On a hand-written document in Quint's shape (every ITF
encoding Quint writes), and on one that Quint itself writes when the
``quint`` command is found ($QUINT, the PATH, or build/quint from ``make
quint``, which ``make test`` runs when npm is present)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner, Result

from raftlab.cli import app
from tests.quint import quint, run_quint

COUNTER_TLA = r"""---- MODULE Counter ----
EXTENDS Naturals, Sequences, FiniteSets
CONSTANT Limit
VARIABLES x, seen, log, pair, last

TypeOK == x \in Nat /\ seen \subseteq Nat /\ Len(log) = x

SeenBelow == seen = {i \in 0..x : i < x}

Bounded == x <= Limit

Next ==
    /\ x' = x + 1
    /\ seen' = seen \cup {x}
    /\ log' = Append(log, x)
    /\ pair' = <<x, "b">>
    /\ last' = [i \in DOMAIN last \cup {x} |-> i % 2 = 0]
====
"""


def counter_state(k: int) -> dict[str, Any]:
    """State k of the counter, encoded as Quint writes it."""
    return {
        "#meta": {"index": k},
        "x": {"#bigint": str(k)},
        "seen": {"#set": [{"#bigint": str(i)} for i in range(k)]},
        "log": [{"#bigint": str(i)} for i in range(k)],
        "pair": {"#tup": [{"#bigint": str(max(k - 1, 0))}, "a" if k == 0 else "b"]},
        "last": {"#map": [[{"#bigint": str(i)}, i % 2 == 0] for i in range(k)]},
    }


def counter_doc(states: int = 5) -> dict[str, Any]:
    return {
        "#meta": {"format": "ITF", "source": "counter.qnt", "status": "ok"},
        "vars": ["x", "seen", "log", "pair", "last"],
        "states": [counter_state(k) for k in range(states)],
    }


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    spec = tmp_path / "Counter.tla"
    spec.write_text(COUNTER_TLA)
    trace = tmp_path / "counter.itf.json"
    trace.write_bytes(orjson.dumps(counter_doc()))
    return spec, trace


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["spec", "check", *map(str, args)])


def test_a_trace_that_keeps_the_invariants_and_is_next_passes(files: tuple[Path, Path]) -> None:
    spec, trace = files
    result = invoke(spec, trace, "--invariant", "TypeOK", "--invariant", "SeenBelow")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"ok: 5 states of {trace} checked against 2 invariants of Counter; 0 failures\n"
    )
    result = invoke(spec, trace, "--invariant", "TypeOK", "--action", "Next", "--json")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert (doc["states"], doc["validated"], doc["ok"]) == (5, 4, True)
    assert doc["invariants"] == ["TypeOK"] and doc["actions"] == ["Next"]


def test_a_broken_invariant_names_the_state_and_what_it_read(files: tuple[Path, Path]) -> None:
    spec, trace = files
    result = invoke(spec, trace, "--invariant", "Bounded", "--const", "Limit=2")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Bounded violated (states[3]):"
    assert f"Bounded is FALSE in states[3] of {trace}." in lines[1]
    assert "x = 3" in result.stdout
    assert lines[-1].startswith("FAIL: 5 states of ") and lines[-1].endswith("; 2 failures")


def test_a_step_that_is_not_the_action_names_the_conjunct(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, _trace = files
    doc = counter_doc()
    doc["states"][2]["log"].append({"#bigint": "9"})  # a log entry Next did not append
    trace = tmp_path / "bad.itf.json"
    trace.write_bytes(orjson.dumps(doc))
    result = invoke(spec, trace, "--action", "Next")
    assert result.exit_code == 1, result.output
    assert f"the step from states[1] to states[2] of {trace} is not Next:" in result.stdout
    assert "log' = Append(log, x)" in result.stdout
    assert "log': expected <<0, 1>>, actual <<0, 1, 9>>" in result.stdout
    assert "the step changed: " in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "not a raftlab ITF export, so there is no mapping to say what to check"),
        (("--invariant", "Nope"), "--invariant Nope: Counter defines no Nope"),
        (("--action", "Bounded", "--invariant", "Nope"), "defines no Nope"),
        (("--invariant", "Bounded"), "constant Limit"),
    ],
)
def test_what_cannot_be_checked_is_one_line(
    files: tuple[Path, Path], args: tuple[str, ...], message: str
) -> None:
    spec, trace = files
    result = invoke(spec, trace, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_a_trace_without_a_variable_of_the_spec_is_refused(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, _trace = files
    doc = counter_doc()
    doc["vars"].remove("pair")
    for state in doc["states"]:
        del state["pair"]
    trace = tmp_path / "short.itf.json"
    trace.write_bytes(orjson.dumps(doc))
    result = invoke(spec, trace, "--invariant", "TypeOK")
    assert result.exit_code == 2
    assert "the trace has no variable pair of Counter" in result.output


COUNTER_QNT = """module counter {
  var x: int
  var seen: Set[int]
  var log: List[int]
  var pair: (int, str)
  var last: int -> bool
  action init = all { x' = 0, seen' = Set(), log' = [], pair' = (0, "a"), last' = Map() }
  action step = all {
    x' = x + 1, seen' = seen.union(Set(x)), log' = log.append(x), pair' = (x, "b"),
    last' = last.put(x, x % 2 == 0)
  }
}
"""


@pytest.mark.skipif(quint() is None, reason="quint is not installed (make quint)")
def test_a_trace_quint_wrote_is_checked_against_a_tla_spec(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, _trace = files
    model = tmp_path / "counter.qnt"
    model.write_text(COUNTER_QNT)
    out = tmp_path / "quint.itf.json"
    run_quint(model, out, 6)
    result = invoke(
        spec, out, "--invariant", "TypeOK", "--invariant", "SeenBelow", "--action", "Next"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok: 7 states of {out} checked against 2 invariants")
    result = invoke(spec, out, "--invariant", "Bounded", "--const", "Limit=4")
    assert result.exit_code == 1
    assert "Bounded is FALSE in states[5] of " in result.stdout
