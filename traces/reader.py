"""Reading traces: validation with line numbers, streaming.

``open_trace`` reads the header eagerly (so a wrong file fails at once) and
returns an iterator over events that validates each line as it goes. Every
problem raises ``TraceError`` naming the file, the line and what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from traces.schema import ACTIONS, SCHEMA, VERSION

Event = dict[str, Any]


class TraceError(ValueError):
    """A trace that cannot be read: ``path:line: what is wrong`` (``path:
    what is wrong`` when the file itself cannot be opened, ``line`` 0)."""

    def __init__(self, where: str, line: int, message: str) -> None:
        super().__init__(f"{where}:{line}: {message}" if line else f"{where}: {message}")
        self.where = where
        self.line = line
        self.reason = message


def check_header(header: Any, where: str = "<trace>") -> Event:
    if not isinstance(header, dict) or header.get("schema") != SCHEMA:
        raise TraceError(
            where, 1, f"not a raftlab trace (the first line must have schema {SCHEMA!r})"
        )
    version = header.get("version")
    if version != VERSION:
        raise TraceError(
            where,
            1,
            f"unsupported trace version {version!r} (this raftlab reads version {VERSION})",
        )
    return header


def check_event(event: Any, expected_seq: int) -> str:
    """Why ``event`` is not a valid event ('' if it is)."""
    if not isinstance(event, dict):
        return f"an event must be a JSON object, got {type(event).__name__}"
    seq = event.get("seq")
    if seq != expected_seq or type(seq) is not int:  # true and 2.0 compare equal to 1 and 2
        return f"expected seq {expected_seq}, got {seq!r}"
    for key in ("t", "lc"):
        value = event.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"field {key!r} must be a non-negative integer, got {value!r}"
    actor = event.get("n")
    if not isinstance(actor, str) or not actor:
        return f"field 'n' (the actor) must be a non-empty string, got {actor!r}"
    action = event.get("act")
    if action not in ACTIONS:
        return f"unknown action {action!r}"
    return ""


def iter_lines(stream: IO[bytes], where: str) -> Iterator[tuple[int, Any]]:
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            yield number, orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            raise TraceError(where, number, f"malformed JSON: {err}") from None


def validated(lines: Iterable[tuple[int, Any]], where: str) -> Iterator[Event]:
    expected = 1
    for number, event in lines:
        problem = check_event(event, expected)
        if problem:
            raise TraceError(where, number, problem)
        expected += 1
        yield event


def open_trace(path: str | Path) -> tuple[Event, Iterator[Event]]:
    """The header and a (lazy, validating) iterator over the events."""
    where = str(path)
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed by the generator below
    except OSError as err:
        raise TraceError(where, 0, f"cannot open: {err.strerror}") from None
    lines = iter_lines(stream, where)
    try:
        first = next(lines, None)
    except TraceError:
        stream.close()
        raise
    if first is None:
        stream.close()
        raise TraceError(where, 1, "empty file")
    try:
        header = check_header(first[1], where)
    except TraceError:
        stream.close()
        raise

    def events() -> Iterator[Event]:
        with stream:
            yield from validated(lines, where)

    return header, events()


def load_trace(path: str | Path) -> tuple[Event, list[Event]]:
    header, events = open_trace(path)
    return header, list(events)
