"""Reading traces: validation with line numbers, streaming, integrity.

``open_trace`` reads the header eagerly (so a wrong file fails at once) and
returns an ``EventStream``: an iterator over events that validates each line
as it goes. Every problem raises ``TraceError`` naming the file, the line and
what is wrong. Once the stream is exhausted, ``stream.integrity`` says
whether the trace was complete, cut short or modified (``traces.integrity``):
a reader does not stop at a cut file, because a checker may still judge the
events before the cut; the caller decides what the ending means.

gzip files (by their magic bytes, whatever their name) are decompressed on
the fly; the path ``-`` reads standard input.
"""

from __future__ import annotations

import gzip
import io
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from traces.integrity import END_KEY, Integrity, Summer, judge
from traces.schema import ACTIONS, READABLE_VERSIONS, SCHEMA, VERSION

Event = dict[str, Any]

_GZIP_MAGIC = b"\x1f\x8b"


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
    if type(version) is not int or version not in READABLE_VERSIONS:
        readable = ", ".join(map(str, READABLE_VERSIONS))
        raise TraceError(
            where,
            1,
            f"unsupported trace version {version!r} (this raftlab reads versions {readable})",
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


class _Cut(Exception):
    """The last line ends without a newline and does not parse."""


def _lines(stream: IO[bytes], where: str) -> Iterator[tuple[int, bytes, Any]]:
    """(line number, raw line, parsed JSON) for every non-blank line."""
    number = 0
    try:
        for raw in stream:
            number += 1
            if not raw.strip():
                continue
            try:
                yield number, raw, orjson.loads(raw)
            except orjson.JSONDecodeError as err:
                if not raw.endswith(b"\n"):
                    raise _Cut from None
                raise TraceError(where, number, f"malformed JSON: {err}") from None
    except EOFError:  # a gzip stream without its end: cut while being written
        raise _Cut from None
    except (OSError, zlib.error) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise TraceError(where, number + 1, f"cannot read: {reason}") from None


class EventStream:
    """The events of a trace, validated lazily; ``integrity`` once exhausted."""

    def __init__(
        self,
        stream: IO[bytes],
        lines: Iterator[tuple[int, bytes, Any]],
        where: str,
        version: int,
        header_line: bytes = b"",
    ) -> None:
        self.where = where
        self.version = version
        self.integrity: Integrity | None = None
        self._stream = stream
        self._lines = lines
        self._header_line = header_line
        self._iter = self._events()

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        return next(self._iter)

    def drain(self) -> Integrity:
        """Read (and verify) whatever is left; the trace's integrity."""
        for _ in self._iter:
            pass
        assert self.integrity is not None
        return self.integrity

    def close(self) -> None:
        self._stream.close()

    def _events(self) -> Iterator[Event]:
        summer = Summer()
        summer.add_header(self._header_line)
        closing: Event | None = None
        cut = False
        expected = 1
        try:
            for number, raw, event in self._lines:
                if closing is not None:
                    raise TraceError(self.where, number, "a line after the closing record")
                if isinstance(event, dict) and END_KEY in event and "seq" not in event:
                    closing = event
                    continue
                problem = check_event(event, expected)
                if problem:
                    raise TraceError(self.where, number, problem)
                summer.add(raw if raw.endswith(b"\n") else raw + b"\n", event)
                expected += 1
                yield event
        except _Cut:
            cut = True
        finally:
            self._stream.close()
        self.integrity = judge(summer, closing, self.version, cut)


def _open(path: str | Path) -> IO[bytes]:
    raw: Any = sys.stdin.buffer if str(path) == "-" else open(path, "rb")  # noqa: SIM115
    if not hasattr(raw, "peek"):  # a pipe's or a test's stream: buffer it to look ahead
        raw = io.BufferedReader(raw)
    if raw.peek(2)[:2] == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw  # type: ignore[no-any-return]


def open_trace(path: str | Path) -> tuple[Event, EventStream]:
    """The header and a (lazy, validating) stream of the events."""
    where = "<stdin>" if str(path) == "-" else str(path)
    try:
        stream = _open(path)
    except OSError as err:
        raise TraceError(where, 0, f"cannot open: {err.strerror or err}") from None
    lines = _lines(stream, where)
    try:
        first = next(lines, None)
        if first is None:
            raise TraceError(where, 1, "empty file")
        header = check_header(first[2], where)
    except _Cut:
        stream.close()
        raise TraceError(where, 1, "truncated in the header (its line is cut short)") from None
    except TraceError:
        stream.close()
        raise
    raw = first[1] if first[1].endswith(b"\n") else first[1] + b"\n"
    return header, EventStream(stream, lines, where, header["version"], raw)


def load_trace(path: str | Path) -> tuple[Event, list[Event]]:
    header, events = open_trace(path)
    return header, list(events)


__all__ = [
    "VERSION",
    "EventStream",
    "TraceError",
    "check_event",
    "check_header",
    "load_trace",
    "open_trace",
]
