"""The TLA+ export: a module of the right shape whose records say what the
trace's events say, that the tree-sitter TLA+ grammar parses with no error
node (and that the same grammar rejects once the module is broken)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pytest

from tests.traces.simulated import simulate, write_trace
from traces.export import ExportError, export_trace
from traces.export.steps import message_source
from traces.export.tla import FIELDS, module_name, tla_value
from traces.schema import INPUT_ACTIONS

ts = pytest.importorskip("tree_sitter")
tlaplus = pytest.importorskip("tree_sitter_tlaplus")

RUNS = [("default", 1, 1.2, "joint"), ("crashes", 3, 1.5, "random")]

_FIELD = re.compile(r'(\w+) \|-> (\{[^}]*\}|"(?:[^"\\]|\\.)*"|TRUE|FALSE|-?\d+)')


def parser() -> Any:
    with warnings.catch_warnings():  # tree-sitter-tlaplus hands over its language as an int
        warnings.simplefilter("ignore", DeprecationWarning)
        return ts.Parser(ts.Language(tlaplus.language()))


def exported(tmp_path: Path, run: tuple[str, int, float, str]) -> tuple[list[Any], str]:
    header, events = simulate(*run)
    trace = write_trace(tmp_path / "trace.jsonl", header, events)
    out = tmp_path / "RunTrace.tla"
    out.write_bytes(export_trace(trace, "tla", out).data)
    return events, out.read_text()


def literal(text: str) -> Any:
    """A Python value of the literals the export writes (hand-parsed)."""
    if text in ("TRUE", "FALSE"):
        return text == "TRUE"
    if text.startswith('"'):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if text.startswith("{"):
        return frozenset(int(n) for n in text[1:-1].split(",") if n.strip())
    return int(text)


def records(module: str) -> list[dict[str, Any]]:
    body = module.split("Trace ==", 1)[1]
    return [
        {name: literal(value) for name, value in _FIELD.findall(line)}
        for line in body.splitlines()
        if "[seq |-> " in line
    ]


def test_tla_values_are_tla_literals() -> None:
    assert tla_value(True) == "TRUE" and tla_value(False) == "FALSE"
    assert tla_value(-4) == "-4"
    assert tla_value('say "hi" \\ bye') == '"say \\"hi\\" \\\\ bye"'
    assert tla_value(frozenset({3, 1})) == "{1, 3}"
    assert tla_value((1, "a")) == '<<1, "a">>'
    with pytest.raises(TypeError):
        tla_value(1.5)


def test_the_module_name_is_the_file_name() -> None:
    assert module_name("out/RunTrace.tla") == "RunTrace"
    assert module_name("-") == "RaftlabTrace"
    for bad in ("run-trace.tla", "trace.txt", "123.tla"):
        with pytest.raises(ValueError, match=r"a TLA\+ module must be in NAME\.tla"):
            module_name(bad)


def test_a_bad_module_file_name_is_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"run-trace\.tla: a TLA\+ module must be in NAME\.tla"):
        export_trace(tmp_path / "missing.jsonl", "tla", tmp_path / "run-trace.tla")


@pytest.mark.parametrize("run", RUNS, ids=lambda r: f"{r[0]}-{r[3]}")
def test_the_module_has_one_record_per_step_saying_what_the_events_say(
    tmp_path: Path, run: Any
) -> None:
    events, module = exported(tmp_path, run)
    lines = module.splitlines()
    assert re.fullmatch(r"-{4,} MODULE RunTrace -{4,}", lines[0])
    assert re.fullmatch(r"={4,}", lines[-1])
    assert "EXTENDS Naturals, Sequences" in lines
    rows = records(module)
    assert all(list(row) == list(FIELDS) for row in rows), "every record has every field"
    steps = [
        e
        for e in events
        if (e["act"] in INPUT_ACTIONS and e["n"].startswith("n"))
        or (e["n"] == "env" and e["act"] == "crash")
    ]
    assert [row["seq"] for row in rows] == [e["seq"] for e in steps]
    started = {int(e["n"][1:]) for e in steps if e["act"] == "boot"}
    assert f"Nodes == {tla_value(frozenset(started))}" in lines
    for row, event in zip(rows, steps, strict=True):
        assert row["act"] == event["act"] and row["t"] == event["t"]
        if event["n"] == "env":
            assert row["node"] == event["node"] and row["up"] is False
            continue
        assert row["node"] == int(event["n"][1:]) and row["term"] == event["term"]
        assert row["up"] is True
        if event["act"] == "recv":
            assert row["msgType"] == event["in"]["type"]
            assert row["msgFrom"] == message_source(event["in"]["mid"])
        else:
            assert (row["msgType"], row["msgFrom"]) == ("", 0)
        assert "st" not in event or all(
            row[name] == event["st"][key]
            for key, name in (("role", "role"), ("commit", "commit"), ("last", "lastIndex"))
            if key in event["st"]
        )


@pytest.mark.parametrize("run", RUNS, ids=lambda r: f"{r[0]}-{r[3]}")
def test_tree_sitter_parses_the_module_with_no_error_node(tmp_path: Path, run: Any) -> None:
    _, module = exported(tmp_path, run)
    tree = parser().parse(module.encode())
    assert not tree.root_node.has_error
    definitions = [
        child
        for child in tree.root_node.children[0].children
        if child.type == "operator_definition"
    ]
    names = [d.child_by_field_name("name").text.decode() for d in definitions]
    assert names == ["Nodes", "Trace"]
    trace = definitions[1].child_by_field_name("definition")
    assert trace.type == "tuple_literal"
    assert sum(child.type == "record_literal" for child in trace.children) == len(records(module))


def test_tree_sitter_finds_a_broken_module(tmp_path: Path) -> None:
    """The parse check has teeth: the same module with one record cut short fails it."""
    _, module = exported(tmp_path, RUNS[0])
    broken = module.replace("autoLeave |-> FALSE]", "autoLeave |-> ]", 1)
    assert parser().parse(broken.encode()).root_node.has_error
