"""docs/export.md and the export code tell the same story: every ITF
variable, TLA+ record field, etcd mapping and skip reason is documented, and
every raftlab action is either mapped to an etcd-raft event or skipped."""

from __future__ import annotations

from pathlib import Path

from raftlab.cmd_export import EXPORT_HELP
from traces.export import FORMATS
from traces.export.etcd import EVENT_MAP, SKIPPED
from traces.export.itf import VARIABLES
from traces.export.tla import FIELDS
from traces.schema import Action

DOC = (Path(__file__).resolve().parents[2] / "docs" / "export.md").read_text()

#: Actions of actors other than nodes, which etcd-raft's tracing never sees.
NOT_NODE_ACTIONS = {"crash", "pause", "resume", "drop", "duplicate", "partition", "heal"}
NOT_NODE_ACTIONS |= {"invoke", "complete", "observe", "plan", "act", "result"}


def test_every_variable_field_and_mapping_is_documented() -> None:
    for name, meaning in VARIABLES.items():
        assert f"| `{name}` | {meaning} |" in DOC
    for name, meaning in FIELDS.items():
        assert f"| `{name}` | {meaning} |" in DOC
    for event, name in EVENT_MAP.items():
        assert f"| {event} | `{name}` |" in DOC
    for what, why in SKIPPED.items():
        assert f"| {what} | {why} |" in DOC
    for fmt in FORMATS:
        assert f"| `{fmt}` |" in DOC and fmt in EXPORT_HELP


def _named(action: str, text: str) -> bool:
    words = text.replace(",", " ").replace("/", " ").replace("(", " ").split()
    return any(w == action or (w.endswith("*") and action.startswith(w[:-1])) for w in words)


def test_every_node_action_is_mapped_or_skipped_with_a_reason() -> None:
    mapped = " ".join(EVENT_MAP)
    skipped = " ".join(SKIPPED)
    for action in Action:
        if action.value in NOT_NODE_ACTIONS:
            continue
        assert _named(action.value, mapped) or _named(action.value, skipped), action.value
