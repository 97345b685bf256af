"""Deterministic replay: re-run every node step of a trace and compare.

The engine is generic: it groups a trace into node steps (an input event and
the effect events it caused), hands each input to a ``Replayer`` that re-runs
it on a fresh implementation, and compares what comes back with what was
recorded, field by field. The Raft-specific replayer lives with the core
(``consensus.replayer``); this module only knows the trace model.

The first difference ends the replay with ``diverged at seq N: expected ...,
got ...``, N being the first recorded event that the replay did not
reproduce.

A difference is nondeterminism only if the file is the one that was written:
given the trace's integrity (``traces.integrity``), ``ReplayReport.verdict``
tells a modified file (``TAMPERED``) and a cut one (``TRUNCATED``) from a
real divergence (``NOT DETERMINISTIC``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from traces.integrity import Integrity
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
    #: seq of the last recorded event of the diverging step.
    step_end: int = 0

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
    #: The whole file's integrity, when replayed from a file.
    integrity: Integrity | None = None
    #: Why replay could not follow the trace, when the file was modified.
    error: str = ""
    #: How the diverging event contradicts the rest of the trace, if it does.
    contradiction: str = ""
    #: One node process's own trace (traces.nodetrace): one that ends without
    #: a closing record is what a killed process leaves, not a cut file.
    node_trace: bool = False

    @property
    def ok(self) -> bool:
        return self.verdict == "DETERMINISTIC"

    @property
    def verdict(self) -> str:
        """``DETERMINISTIC``, ``NOT DETERMINISTIC`` (exit 1), or a reason the
        question cannot be answered: ``TAMPERED``, ``TRUNCATED at seq N``,
        ``INTERRUPTED at seq N``, ``EMPTY``."""
        integrity = self.integrity
        if integrity is not None and integrity.state == "tampered":
            return integrity.verdict
        if self.contradiction:
            return "TAMPERED"
        if self.divergence is not None and not self._lost_in_cut():
            return "NOT DETERMINISTIC"
        if integrity is not None and integrity.verdict and not self._killed():
            return integrity.verdict
        if self.events == 0:
            return "EMPTY"
        return "DETERMINISTIC"

    @property
    def exit_code(self) -> int:
        return {"DETERMINISTIC": 0, "NOT DETERMINISTIC": 1}.get(self.verdict, 2)

    def _killed(self) -> bool:
        """A node's trace that its killed process left: every whole step in
        it is judged, the missing end is not a reason to withhold a verdict."""
        return (
            self.node_trace and self.integrity is not None and self.integrity.state == "truncated"
        )

    def _lost_in_cut(self) -> bool:
        """Whether the divergence is only the last step's events lost in a cut."""
        integrity, divergence = self.integrity, self.divergence
        return (
            integrity is not None
            and divergence is not None
            and integrity.state in ("truncated", "interrupted")
            and divergence.step_end >= integrity.last_seq
        )

    def explain(self) -> list[str]:
        """What the verdict rests on, in sentences (the verdict line apart)."""
        lines: list[str] = []
        integrity, divergence = self.integrity, self.divergence
        if divergence is not None:
            lines.append(divergence.describe())
        if self.error:
            lines.append(f"replay could not follow the trace: {self.error}")
        if integrity is None:
            return lines
        verdict = self.verdict
        if self.contradiction:
            lines.append(self.contradiction)
        elif verdict == "TAMPERED":
            lines.append(integrity.message)
            if divergence is not None and integrity.covers(divergence.seq):
                lines.append(
                    f"the difference at seq {divergence.seq} lies in the modified events: "
                    "a tampered event, not nondeterminism"
                )
            elif divergence is not None or self.error:
                lines.append("the file was modified, so the difference proves nothing")
        elif verdict == "NOT DETERMINISTIC":
            if integrity.state == "unverified":
                lines.append(
                    f"{integrity.message}: this may be a modified file rather than nondeterminism"
                )
            else:
                lines.append(
                    "the file matches its integrity record, so the events are as they were "
                    "written: the implementation did not reproduce them (nondeterminism)"
                )
            if integrity.state in ("truncated", "interrupted"):
                lines.append(f"(the trace is also {integrity.message})")
        elif verdict == "EMPTY":
            lines.append("the trace holds no events: there is nothing to replay")
        elif self._killed():
            lines.append(
                f"{integrity.message}: a node trace without a closing record, as its process "
                "leaves it when killed; every step it holds was replayed"
            )
        elif integrity.state != "complete":
            lines.append(integrity.message)
        return lines


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


def entry_crcs(divergence: Divergence) -> dict[tuple[int, int], int]:
    """The data entries (``[index, term, crc]``) of a diverging ``append`` or
    ``apply`` whose recorded CRC differs from the replayed one, by (index,
    term), with the recorded CRC."""
    expected, got = divergence.expected, divergence.got
    if expected is None or got is None or expected.get("act") not in ("append", "apply"):
        return {}
    replayed = {
        (e[0], e[1]): e[2] for e in got.get("entries") or () if isinstance(e, list) and len(e) == 3
    }
    return {
        (e[0], e[1]): e[2]
        for e in expected.get("entries") or ()
        if isinstance(e, list) and len(e) == 3 and replayed.get((e[0], e[1]), e[2]) != e[2]
    }


def contradiction(divergence: Divergence, events: Iterable[Event]) -> str:
    """How the diverging event contradicts the trace itself ('' if it does
    not): an entry's CRC in a recorded ``append``/``apply`` that is not the
    CRC-32 of the payload the trace's own ``append_req`` messages carry for
    that index and term. Such a record cannot come from any run, whatever
    the implementation did: it was changed (or misrecorded)."""
    wanted = entry_crcs(divergence)
    if not wanted:
        return ""
    for event in events:
        msg = event.get("msg") if event.get("act") == "send" else None
        if not isinstance(msg, dict) or msg.get("type") != "append_req":
            continue
        for entry in msg.get("entries") or ():
            if not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[2], str):
                continue
            key = (entry[0], entry[1])
            if key in wanted:
                actual = zlib.crc32(entry[2].encode())
                if actual != wanted[key]:
                    return (
                        f"the event at seq {divergence.seq} contradicts the trace itself: it "
                        f"records CRC {wanted[key]} for entry {key[0]} of term {key[1]}, but the "
                        f"payload sent for that entry (seq {event['seq']}) has CRC {actual}: "
                        "a tampered or misrecorded event, not nondeterminism"
                    )
    return ""


def compare(recorded: list[Event], replayed: list[Event]) -> Divergence | None:
    for i in range(max(len(recorded), len(replayed))):
        expected = recorded[i] if i < len(recorded) else None
        got = replayed[i] if i < len(replayed) else None
        if expected is None or got is None or _normal(expected) != _normal(got):
            # A step's events are consecutive, so a missing one would have
            # been at the position right after the last recorded one.
            seq = expected["seq"] if expected is not None else recorded[0]["seq"] + i
            return Divergence(seq, expected, got, recorded[-1]["seq"])
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
