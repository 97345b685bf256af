"""The documentation and the code tell the same story."""

from __future__ import annotations

import re
from pathlib import Path

from traces.schema import INPUT_ACTIONS, STATE_FIELDS, Action

ROOT = Path(__file__).resolve().parents[1]


def test_every_trace_action_is_documented() -> None:
    text = (ROOT / "docs" / "trace-format.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.MULTILINE))
    documented |= set(re.findall(r"^\| `[a-z]+` \| `([a-z_]+)` \|", text, re.MULTILINE))
    missing = sorted(a.value for a in Action if a.value not in documented)
    assert not missing, f"actions missing from docs/trace-format.md: {missing}"


def test_input_actions_and_state_fields_are_documented() -> None:
    text = (ROOT / "docs" / "trace-format.md").read_text()
    for action in INPUT_ACTIONS:
        assert f"| `{action.value}` |" in text
    for name in STATE_FIELDS:
        assert f"`{name}`" in text


def test_readme_starts_with_the_two_setup_commands() -> None:
    head = (ROOT / "README.md").read_text()[:600]
    assert "make run" in head and "make test" in head
