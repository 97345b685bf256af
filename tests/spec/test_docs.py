"""docs/spec-language.md tells the truth: its Python example runs as shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "spec-language.md"


def test_the_python_example_runs_and_gives_what_its_comments_say(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert code is not None
    monkeypatch.chdir(ROOT)
    lines = code.group(1).splitlines()
    scope: dict[str, object] = {}
    for line in lines:
        statement, *rest = (part.strip() for part in re.split(r"\s+# ", line, maxsplit=1))
        comment = rest[0] if rest else ""
        if not statement:
            continue
        if statement.startswith(("from", "spec", "ev =", "s =", "t =")):
            exec(statement, scope)
            continue
        value = eval(statement, scope)  # the doc's own example, nothing else
        stated = re.search(r": (\S+)$", comment)
        expected = eval(stated.group(1)) if stated else True
        assert value == expected, line


def test_the_doc_names_every_standard_module_the_subset_provides() -> None:
    from checkers.spec.resolve import STANDARD

    text = DOC.read_text()
    for module in STANDARD:
        assert f"| {module} |" in text
