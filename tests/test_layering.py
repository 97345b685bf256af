"""The layering of DESIGN.md, checked rather than hoped for."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"consensus", "traces", "sim", "checkers", "kv", "raftlab", "controller"}


def imports(package: str) -> dict[str, set[str]]:
    """Top-level module names imported by each file of ``package``."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("forbidden", ["asyncio", "socket", "os", "time", "random", "kubernetes"])
def test_the_core_does_no_io_and_reads_no_clock(forbidden: str) -> None:
    for path, names in imports("consensus").items():
        tops = {n.split(".")[0] for n in names}
        assert forbidden not in tops, f"{path} imports {forbidden}"


def test_the_core_imports_only_trace_event_types_of_ours() -> None:
    for path, names in imports("consensus").items():
        ours = {n for n in names if n.split(".")[0] in OURS - {"consensus"}}
        assert ours <= {"traces.schema"}, f"{path} imports {sorted(ours)}"


def test_traces_is_a_leaf() -> None:
    for path, names in imports("traces").items():
        ours = {n.split(".")[0] for n in names} & (OURS - {"traces"})
        assert not ours, f"{path} imports {sorted(ours)}"


def test_checkers_never_import_the_runtime() -> None:
    for path, names in imports("checkers").items():
        ours = {n.split(".")[0] for n in names} & {
            "consensus",
            "sim",
            "kv",
            "raftlab",
            "controller",
        }
        assert not ours, f"{path} imports {sorted(ours)}"
