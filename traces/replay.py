"""Deterministic replay: re-run every node step of a trace and compare.

The engine is generic: it groups a trace into node steps (an input event and
the effect events it caused), hands each input to a ``Replayer`` that re-runs
it on a fresh implementation, and compares what comes back with what was
recorded, field by field. The Raft-specific replayer lives with the core
(``consensus.replayer``); this module only knows the trace model.

The first difference ends the replay with ``diverged at seq N: expected ...,
got ...``, N being the first recorded event that the replay did not
reproduce.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from traces.schema import INPUT_ACTIONS, actor_node

Event = dict[str, Any]

#: Fields that depend on where an event sits in the file, not on what happened.
_POSITIONAL = ("seq", "cause")


class Replayer(Protocol):
    def observe(self, event: Event) -> None:
        """See a recorded event (all of them, in order, after any replay of it)."""

    def replay(self, event: Event) -> list[Event]:
        """Re-run the node step whose input event is ``event``; return the
        regenerated input event followed by its effect events."""
        ...


@dataclass(slots=True)
class Divergence:
    seq: int
    expected: Event | None
    got: Event | None

    def describe(self) -> str:
        return (
            f"diverged at seq {self.seq}: expected {_show(self.expected)}, got {_show(self.got)}"
            + _field_diff(self.expected, self.got)
        )


@dataclass(slots=True)
class ReplayReport:
    steps: int = 0
    events: int = 0
    nodes: set[str] = field(default_factory=set)
    divergence: Divergence | None = None

    @property
    def ok(self) -> bool:
        return self.divergence is None


def replay_trace(
    events: Iterable[Event],
    replayer: Replayer,
    progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    report = ReplayReport()
    group: list[Event] = []

    def flush() -> Divergence | None:
        if not group:
            return None
        head = group[0]
        report.steps += 1
        report.nodes.add(head["n"])
        divergence = compare(group, replayer.replay(head))
        if divergence is None:  # a diverged step ends the replay: nothing to observe
            for event in group:
                replayer.observe(event)
        group.clear()
        return divergence

    for event in events:
        report.events += 1
        if progress is not None and report.events % 4096 == 0:
            progress(report.events)
        if (
            group
            and event.get("cause") == group[0]["seq"]
            and event["n"] == group[0]["n"]
            and event["act"] not in INPUT_ACTIONS  # an input always starts a new step
        ):
            group.append(event)
            continue
        report.divergence = flush()
        if report.divergence is not None:
            return report
        if event["act"] in INPUT_ACTIONS and actor_node(event["n"]) is not None:
            group.append(event)
        else:
            replayer.observe(event)
    report.divergence = flush()
    return report


def compare(recorded: list[Event], replayed: list[Event]) -> Divergence | None:
    for i in range(max(len(recorded), len(replayed))):
        expected = recorded[i] if i < len(recorded) else None
        got = replayed[i] if i < len(replayed) else None
        if expected is None or got is None or _normal(expected) != _normal(got):
            # A step's events are consecutive, so a missing one would have
            # been at the position right after the last recorded one.
            seq = expected["seq"] if expected is not None else recorded[0]["seq"] + i
            return Divergence(seq, expected, got)
    return None


def _normal(event: Event) -> Event:
    return {k: v for k, v in event.items() if k not in _POSITIONAL}


def _show(event: Event | None) -> str:
    if event is None:
        return "nothing"
    text = orjson.dumps(_normal(event)).decode()
    return text if len(text) <= 300 else text[:297] + "..."


def _field_diff(expected: Event | None, got: Event | None) -> str:
    if expected is None or got is None:
        return ""
    a, b = _normal(expected), _normal(got)
    diffs = [
        f"{key}: expected {_json(a.get(key))}, got {_json(b.get(key))}"
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
    ]
    return "\n  " + "\n  ".join(diffs) if diffs else ""


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()
