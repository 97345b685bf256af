"""Run every tests/scenarios/*.txt and compare with its expected output.

``pytest --rewrite-scenarios`` writes the observed output back instead.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.scenarios.runner import parse, render_file, run_file

HERE = Path(__file__).parent
FILES = sorted(HERE.glob("*.txt"))


def test_there_are_scenarios() -> None:
    assert len(FILES) >= 8


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario(path: Path, request: pytest.FixtureRequest) -> None:
    blocks = run_file(path)
    if request.config.getoption("--rewrite-scenarios"):
        path.write_text(render_file(blocks))
        return
    expected = render_file(blocks, use_actual=False)
    actual = render_file(blocks)
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                f"{path.name} (expected)",
                f"{path.name} (actual)",
            )
        )
        pytest.fail(f"scenario output differs (rerun with --rewrite-scenarios):\n{diff}")


def test_parse_and_render_round_trip() -> None:
    text = "# what it checks\ncmd 1\n----\nout a\nout b\n\ncmd 2\n----\nok\n"
    assert render_file(parse(text), use_actual=False) == text


def test_parse_rejects_a_missing_separator() -> None:
    with pytest.raises(ValueError, match="line 1"):
        parse("cmd 1\nout\n")
