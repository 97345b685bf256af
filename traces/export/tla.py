"""A raftlab trace as a TLA+ module, for users who validate traces with TLC.

The module defines ``Nodes`` (every node that started) and ``Trace``, a
sequence with one record per node step and per crash
(``traces.export.steps``): the event (``seq``, ``t``, ``node``, ``act``,
``msgType``, ``msgFrom``) and the state of the node that stepped after it
(``up`` is FALSE after a crash). Every record has the same fields, so a
trace-validation spec can read ``Trace[i].field`` without ``DOMAIN`` tests.

TLA+ requires a module's name to be its file's name, so the caller passes
the name (``module_name`` derives it from the output path).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from traces.export.steps import SpecStep

DEFAULT_MODULE = "RaftlabTrace"

#: Record field -> what it holds (docs/export.md lists the same).
FIELDS: dict[str, str] = {
    "seq": "the event's seq in the raftlab trace",
    "t": "its time in microseconds",
    "node": "the node that stepped (or crashed)",
    "act": 'the raftlab action: "boot", "recv", "tick", ..., or "crash"',
    "msgType": 'for "recv": the message type ("append_req", ...); "" otherwise',
    "msgFrom": 'for "recv": the sender; 0 otherwise',
    "up": "FALSE after a crash, TRUE otherwise",
    "term": "the node's term after the step",
    "role": '"follower", "precandidate", "candidate" or "leader"',
    "vote": "the node it voted for (0: none)",
    "leader": "the leader it knows of (0: unknown)",
    "commit": "its commit index",
    "applied": "its applied index",
    "lastIndex": "the index of its last log entry",
    "lastTerm": "the term of its last log entry",
    "snapshotIndex": "the last index its snapshot covers",
    "voters": "its applied configuration's voters",
    "outgoing": "the outgoing voters of a joint configuration ({} otherwise)",
    "learners": "its learners",
    "learnersNext": "learners to be added when the joint configuration is left",
    "autoLeave": "whether the joint configuration is left automatically",
}

_IDENT = re.compile(r"[A-Za-z0-9_]*[A-Za-z][A-Za-z0-9_]*")


class ModuleNameError(ValueError):
    """A file name that cannot be a TLA+ module name."""


def module_name(path: str | Path) -> str:
    """The module name for a ``.tla`` file (``DEFAULT_MODULE`` for ``-``)."""
    if str(path) == "-":
        return DEFAULT_MODULE
    name = Path(path).name
    stem = name[: -len(".tla")] if name.endswith(".tla") else name
    if not name.endswith(".tla") or not _IDENT.fullmatch(stem):
        raise ModuleNameError(
            f"{path}: a TLA+ module must be in NAME.tla, NAME being its module name "
            f"(letters, digits, _), e.g. {DEFAULT_MODULE}.tla"
        )
    return stem


def tla_value(value: Any) -> str:
    """A TLA+ literal: booleans, integers, strings, sets (sorted), sequences."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, frozenset | set):
        return "{" + ", ".join(tla_value(item) for item in sorted(value)) + "}"
    if isinstance(value, tuple | list):
        return "<<" + ", ".join(tla_value(item) for item in value) + ">>"
    raise TypeError(f"no TLA+ literal for a {type(value).__name__}: {value!r}")


def step_fields(step: SpecStep) -> dict[str, Any]:
    """The record of one step, field -> Python value, in ``FIELDS`` order."""
    node = step.nodes[step.node]
    return {
        "seq": step.seq,
        "t": step.t,
        "node": step.node,
        "act": step.act,
        "msgType": step.msg_type,
        "msgFrom": step.msg_from,
        "up": step.node in step.running,
        "term": node.term,
        "role": node.role,
        "vote": node.vote,
        "leader": node.leader,
        "commit": node.commit,
        "applied": node.applied,
        "lastIndex": node.last_index,
        "lastTerm": node.last_term,
        "snapshotIndex": node.snapshot_index,
        "voters": node.voters,
        "outgoing": node.outgoing,
        "learners": node.learners,
        "learnersNext": node.learners_next,
        "autoLeave": node.auto_leave,
    }


def tla_record(fields: dict[str, Any]) -> str:
    return "[" + ", ".join(f"{name} |-> {tla_value(v)}" for name, v in fields.items()) + "]"


def _comment(text: str) -> str:
    """``text`` fit for a ``\\*`` comment, which ends at the line's end."""
    return " ".join(text.splitlines())


def tla_module(name: str, steps: Iterable[SpecStep], source: str) -> str:
    """The whole module's text."""
    records: list[str] = []
    nodes: set[int] = set()
    for step in steps:
        nodes.update(step.nodes)
        records.append(tla_record(step_fields(step)))
    rule = "-" * max(4, 30 - len(name) // 2)
    body = ",\n       ".join(records)
    lines = [
        f"{rule} MODULE {name} {rule}",
        f"\\* The raftlab trace {_comment(source)}, exported by `raftlab export --format tla`:",
        "\\* one record per node step and per crash, with the state of the node after it",
        "\\* (docs/export.md lists the fields).",
        "EXTENDS Naturals, Sequences",
        "",
        f"Nodes == {tla_value(frozenset(nodes))}",
        "",
        f"Trace ==\n    << {body} >>" if records else "Trace == << >>",
        "",
        "=" * (len(rule) * 2 + len(name) + 9),
        "",
    ]
    return "\n".join(lines)
