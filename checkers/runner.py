"""Running checkers over a trace in one pass.

The runner owns the shared ``ClusterModel`` and hands each event only to the
checkers that asked for its action, so checking cost grows with what the
checkers need, not with the size of the trace times the number of checkers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from checkers.base import LIVENESS, TraceChecker, Violation
from checkers.model import ClusterModel
from traces.schema import INPUT_ACTIONS

Event = dict[str, Any]


#: What reading a field of the wrong shape raises.
_MALFORMED = (KeyError, IndexError, TypeError, AttributeError, ValueError)


class MalformedEvent(ValueError):
    """An event that the reader accepted but whose fields the model or a
    checker cannot read (a field missing or of the wrong type)."""

    def __init__(self, event: Event, error: Exception) -> None:
        what = f"no field {error.args[0]!r}" if isinstance(error, KeyError) else str(error)
        super().__init__(
            f"event {event.get('seq')} ({event.get('act')} of {event.get('n')}) "
            f"is malformed: {what}"
        )
        self.seq = event.get("seq")


@dataclass(slots=True)
class CheckReport:
    """What the checkers found. ``violations`` are safety violations only;
    liveness findings (a leader, a commit or a transfer that did not come
    within its bound in a window without faults) are ``warnings``: they
    make a run suspicious, not wrong, so they fail it only on request
    (``failed(strict_liveness=True)``)."""

    checkers: list[str]
    events: int = 0
    seconds: float = 0.0
    violations: list[Violation] = field(default_factory=list)
    suppressed: int = 0
    warnings: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No safety violation."""
        return not self.violations

    def failed(self, strict_liveness: bool = False) -> bool:
        """Whether the verdict is FAIL (exit code 1): a safety violation, or,
        with ``strict_liveness``, also a liveness warning."""
        return bool(self.violations) or (strict_liveness and bool(self.warnings))

    def by_checker(self) -> dict[str, list[Violation]]:
        out: dict[str, list[Violation]] = {name: [] for name in self.checkers}
        for v in self.violations:
            out.setdefault(v.checker, []).append(v)
        return out

    def warnings_by_checker(self) -> dict[str, list[Violation]]:
        out: dict[str, list[Violation]] = {}
        for v in self.warnings:
            out.setdefault(v.checker, []).append(v)
        return out


def run_checkers(
    events: Iterable[Event],
    checkers: list[TraceChecker],
    progress: Callable[[int], None] | None = None,
) -> CheckReport:
    """Feed ``events`` (read and validated by ``traces.reader``) to every
    checker. A node step is its input event and the non-input events right
    after it that name it as their ``cause``. An event whose fields the model
    or a checker cannot read raises ``MalformedEvent``."""
    report = CheckReport([c.name for c in checkers])
    model = ClusterModel()
    dispatch: dict[str, list[Callable[[Event, ClusterModel], None]]] = {}
    #: "send"/"recv" -> message type -> feeds, for actions like "send:vote_resp".
    typed: dict[str, dict[str, list[Callable[[Event, ClusterModel], None]]]] = {}
    for checker in checkers:
        for action in sorted(checker.actions):
            base, _, kind = action.partition(":")
            if kind:
                typed.setdefault(base, {}).setdefault(kind, []).append(checker.feed)
            else:
                dispatch.setdefault(action, []).append(checker.feed)
    enders: list[Callable[[Event, ClusterModel], None]] = [
        c.end_step for c in checkers if hasattr(c, "end_step")
    ]
    started = time.perf_counter()
    step: Event | None = None
    count = 0
    update = model.update

    def end_step(input_event: Event) -> None:
        model.end_step(input_event)
        if enders:
            for ender in enders:
                ender(input_event, model)

    for event in events:
        count += 1
        # An input event always starts a new step, even one caused by the last.
        if step is not None and (
            event.get("cause") != step["seq"]
            or event["n"] != step["n"]
            or event["act"] in INPUT_ACTIONS
        ):
            try:
                end_step(step)
            except _MALFORMED as error:
                raise MalformedEvent(step, error) from error
            step = None
        try:
            action = event["act"]
            if action in INPUT_ACTIONS and "dg" in event:
                step = model.step = event
            update(event)
            feeds = dispatch.get(action)
            if feeds:
                for feed in feeds:
                    feed(event, model)
            if typed:
                by_kind = typed.get(action)
                if by_kind is not None:
                    feeds = by_kind.get(_message_type(event))
                    if feeds:
                        for feed in feeds:
                            feed(event, model)
        except _MALFORMED as error:
            raise MalformedEvent(event, error) from error
        if progress is not None and count % 16384 == 0:
            progress(count)
    if step is not None:
        try:
            end_step(step)
        except _MALFORMED as error:
            raise MalformedEvent(step, error) from error
    report.events = count
    report.seconds = time.perf_counter() - started
    for checker in checkers:
        for found in checker.finish():
            (report.warnings if found.kind == LIVENESS else report.violations).append(found)
        report.suppressed += getattr(getattr(checker, "found", None), "suppressed", 0)
    report.violations.sort(key=lambda v: v.witnesses[-1] if v.witnesses else 0)
    report.warnings.sort(key=lambda v: v.witnesses[-1] if v.witnesses else 0)
    return report


def _message_type(event: Event) -> Any:
    """The message type a ``send`` (its ``msg``) or a ``recv`` (its ``in``) is about."""
    if event["act"] == "send":
        return event["msg"]["type"]
    return event["in"]["type"]


def collect_client_events(events: Iterable[Event], into: list[Event]) -> Iterator[Event]:
    """Pass events through, keeping the client ``invoke``/``complete`` ones as
    history records (the format of docs/history-format.md)."""
    for event in events:
        action = event["act"]
        if action == "invoke" or action == "complete":
            record = {
                "client": event.get("client"),
                "type": "invoke" if action == "invoke" else event.get("type"),
                "f": event.get("f"),
                "key": event.get("key"),
                "value": event.get("value"),
                "time": event["t"],
            }
            into.append(record)
        yield event
