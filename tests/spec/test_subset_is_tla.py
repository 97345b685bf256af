"""The subset stays TLA+: every spec file in the repository parses with the
tree-sitter TLA+ grammar without an error node, and Subset.tla (every
construct of the subset, once) evaluates as its comments say."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import tree_sitter_tlaplus
from tree_sitter import Language, Node, Parser

from checkers.spec import Spec

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
SPEC_FILES = sorted(HERE.glob("*.tla")) + sorted((ROOT / "spec").glob("*.tla"))


def tla_parser() -> Parser:
    with warnings.catch_warnings():  # tree-sitter-tlaplus 1.5 hands the language over as an int
        warnings.simplefilter("ignore", DeprecationWarning)
        return Parser(Language(tree_sitter_tlaplus.language()))


def first_error(node: Node) -> Node | None:
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        found = first_error(child)
        if found is not None:
            return found
    return None


@pytest.mark.parametrize("path", SPEC_FILES, ids=[p.name for p in SPEC_FILES])
def test_the_spec_is_tla_for_the_tree_sitter_grammar_and_reads_here(path: Path) -> None:
    tree = tla_parser().parse(path.read_bytes())
    error = first_error(tree.root_node)
    assert error is None, f"{path.name}:{error.start_point[0] + 1}: {error.type}"
    Spec.load(path)  # and our parser reads it too


def test_the_grammar_check_finds_an_error_in_text_that_is_not_tla() -> None:
    broken = b"---- MODULE B ----\nA == /\\ (1 +\nB == {1, 2\n====\n"
    assert first_error(tla_parser().parse(broken).root_node) is not None


def test_every_construct_of_the_subset_evaluates_as_written() -> None:
    spec = Spec.load(HERE / "Subset.tla")
    ev = spec.evaluator({"Limit": 3, "Procs": frozenset({1, 2}), "Names": frozenset({"a"})})
    assert ev.value("Checks") == (True,) * 6
    start = {"count": 0, "log": (), "table": (0, 0)}
    assert ev.holds("Init", start) and ev.holds("TypeOK", start)
    after = ev.successors("Next", start)
    assert after == [
        {"count": 0, "log": ("a",), "table": (0, 0)},
        {"count": 1, "log": (), "table": (0, 1)},
        {"count": 1, "log": (), "table": (1, 0)},
    ]
    assert all(ev.holds("TypeOK", s) and ev.holds("Moves", start, s) for s in after)
    assert ev.value(ev.parse("[Next]_vars"), start, start) is True
