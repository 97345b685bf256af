"""The planting machinery of bench/mutants.py: every planted bug must be a
real edit of today's core (a mutant whose text drifted away would measure
nothing while looking like a miss), the edit lands in the copy and never in
the checkout, and a worker really runs the mutated copy."""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "mutants.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_mutants", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


bench = _load()
CATALOGUE = {m.name: m for m in bench.load_catalogue()}


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_each_mutant_is_an_edit_of_the_current_sources(name: str) -> None:
    mutant = CATALOGUE[name]
    texts = bench.mutated_sources(mutant, ROOT)  # DriftError names the mutant
    for file, text in texts.items():
        assert text != (ROOT / file).read_text(), f"{name} leaves {file} unchanged"


def test_the_catalogue_covers_every_class_of_bug_the_issue_names() -> None:
    classes = {m.kind for m in CATALOGUE.values()}
    assert {"persistence", "election", "lease", "reads", "replication", "snapshot"} <= classes
    assert {"membership", "commit"} <= classes


def test_a_drifted_mutant_is_reported_instead_of_measuring_nothing() -> None:
    gone = bench.Mutant("gone", "x", "y", (bench.Edit("consensus/core.py", "no such code", ""),))
    with pytest.raises(bench.DriftError, match="gone: search text found 0 times"):
        bench.mutated_sources(gone, ROOT)
    twice = bench.Mutant("twice", "x", "y", (bench.Edit("consensus/core.py", "self.", ""),))
    with pytest.raises(bench.DriftError, match=r"twice: search text found [0-9]+ times"):
        bench.mutated_sources(twice, ROOT)


def test_planting_edits_the_copy_and_leaves_the_checkout_alone(tmp_path: Path) -> None:
    mutant = CATALOGUE["vote_twice_in_term"]
    (edit,) = mutant.edits
    before = (ROOT / edit.file).read_text()
    bench.plant(mutant, ROOT, tmp_path, unit=False)
    assert (tmp_path / edit.file).read_text() == before.replace(edit.find, edit.replace)
    assert (ROOT / edit.file).read_text() == before
    assert all((tmp_path / name).is_dir() for name in bench.PACKAGES)
    assert not (tmp_path / "tests").exists()
    assert not list(tmp_path.rglob("__pycache__"))


def test_the_plan_tries_every_profile_in_each_block_and_every_combination() -> None:
    found = {"profiles": ["a", "b", "c"], "read_modes": ["index", "lease"]}
    runs = list(itertools.islice(bench.plan(found, [3, 5], ["random", "none"], 1), 3 * 8))
    for block in range(0, len(runs), 3):
        assert sorted(r["profile"] for r in runs[block : block + 3]) == ["a", "b", "c"]
    shapes = {(r["profile"], r["nodes"], r["read_mode"], r["membership"]) for r in runs}
    assert len(shapes) == 24
    assert len({r["seed"] for r in runs}) == 24


def test_a_worker_runs_the_mutated_copy_and_its_bug_is_caught(tmp_path: Path) -> None:
    args = [
        *("--only", "vote_twice_in_term", "--no-baseline", "--workers", "1"),
        *("--budget", "120", "--max-runs", "6", "--profiles", "crashes"),
        *("--nodes", "3", "--membership", "none", "--duration", "5"),
    ]
    env = dict(os.environ, TMPDIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    (record,) = [r for r in lines if r["kind"] == "mutant"]
    assert "error" not in record, record
    assert record["caught"], record
    assert "election-safety" in record["fired"]
    assert record["config"]["profile"] == "crashes"
    assert lines[-1]["kind"] == "summary" and lines[-1]["caught_by_simulation"] == 1
    assert not list(tmp_path.iterdir()), "the copy was not removed"


def test_failing_tests_are_read_from_pytest_summary_lines() -> None:
    out = "\n".join(
        [
            "..F.E",
            "FAILED tests/consensus/test_election.py::test_one_vote_per_term - assert 2 == 1",
            "ERROR tests/scenarios/test_scenarios.py::test_scenario[reads] - KeyError",
            "1 failed, 1 error, 3 passed in 1.0s",
        ]
    )
    assert bench._failed_lines(out) == [
        "tests/consensus/test_election.py::test_one_vote_per_term",
        "tests/scenarios/test_scenarios.py::test_scenario[reads]",
    ]
