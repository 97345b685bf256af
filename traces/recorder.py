"""Writing traces: a buffered JSON Lines recorder.

Events are encoded with orjson as they arrive and written in large chunks.
The file appears under its final name only when the recorder is closed: it
is written under a temporary name unique to this writer (so two runs given
the same path never write into one file) and renamed when complete. A run
that dies half-way leaves that ``.partial`` file behind, ending with a
closing record that says so, never a trace that looks complete but is not.

A path ending in ``.gz`` is written gzip-compressed; ``-`` streams to
standard output. Every trace ends with a closing record
(``traces.integrity``).
"""

from __future__ import annotations

import gzip
import os
import secrets
import sys
from pathlib import Path
from typing import IO, Any

import orjson

from traces.integrity import Summer
from traces.schema import SCHEMA, VERSION

Event = dict[str, Any]

#: The path that means standard output.
STDOUT = "-"

#: Buffered bytes that make the recorder write. Kept well under malloc's
#: threshold for mapping a block on its own (128 KiB): a larger buffer's
#: joined chunk, and the many lines freed with it, are mapped and unmapped
#: afresh on every write, and the page faults that follow cost more than a
#: tenth of a compiled traced simulation; a smaller one reuses the same heap.
BUFFER_BYTES = 64 * 1024


#: orjson writes a line's newline itself, which saves a copy per event.
_LINE = orjson.OPT_APPEND_NEWLINE


def encode_line(obj: Event) -> bytes:
    """One trace line: compact JSON and its newline."""
    return orjson.dumps(obj, option=_LINE)


def make_header(impl: str, **fields: Any) -> Event:
    """The first line of every trace."""
    return {"schema": SCHEMA, "version": VERSION, "impl": impl, **fields}


def trace_bytes(header: Event, events: list[Event], end: str = "complete") -> bytes:
    """A whole trace file's content (uncompressed), closing record included:
    what ``FileRecorder`` writes for these events."""
    summer = Summer()
    lines = [encode_line(header)]
    summer.add_header(lines[0])
    for event in events:
        line = encode_line(event)
        summer.add(line, event)
        lines.append(line)
    lines.append(encode_line(summer.closing(end)))
    return b"".join(lines)


def unique_partial(path: Path) -> Path:
    """A temporary name beside ``path`` that no other writer uses: the
    process id and random bits (opened with exclusive create, so even a
    clash is an error, never a shared file)."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")


class StopRequest:
    """Set by a signal handler; the recorder stops the run at the next event
    (with ``KeyboardInterrupt``) rather than wherever the signal landed."""

    __slots__ = ("requested",)

    def __init__(self) -> None:
        self.requested = False


class MemoryRecorder:
    """Keeps events as dicts; for tests and in-process checking."""

    def __init__(self, header: Event) -> None:
        self.header = header
        self.events: list[Event] = []

    def emit(self, event: Event) -> int:
        seq = len(self.events) + 1
        event["seq"] = seq
        self.events.append(event)
        return seq

    def close(self) -> None:
        """Nothing to flush; present so recorders are interchangeable."""


class FileRecorder:
    """Streams events to ``path`` (JSON Lines, gzip if it ends in ``.gz``,
    standard output if it is ``-``), buffered: written once ``buffer_bytes``
    or ``buffer_events`` are held, whichever comes first."""

    def __init__(
        self,
        path: str | Path,
        header: Event,
        buffer_events: int = 8192,
        stop: StopRequest | None = None,
        buffer_bytes: int = BUFFER_BYTES,
    ) -> None:
        self.to_stdout = str(path) == STDOUT
        self._stop = stop
        self.path = Path(path)
        self._raw: IO[bytes]
        if self.to_stdout:
            self.partial = self.path
            self._raw = sys.stdout.buffer
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.partial = unique_partial(self.path)
            self._raw = open(self.partial, "xb")  # noqa: SIM115 - closed in close()/abort()
        self._out: IO[bytes] = self._raw
        if self.path.name.endswith(".gz"):
            self._out = gzip.GzipFile(  # type: ignore[assignment]
                fileobj=self._raw, mode="wb", compresslevel=6, mtime=0
            )
        self._summer = Summer()
        self._chunks: list[bytes] = [encode_line(header)]
        self._summer.add_header(self._chunks[0])
        self._limit = buffer_events
        self._limit_bytes = buffer_bytes
        self._buffered = 0
        self._closed = False
        self.seq = 0

    def emit(self, event: Event) -> int:
        if self._stop is not None and self._stop.requested:
            # Between two events the recorder's state is whole: the only
            # safe place for an interruption to surface.
            raise KeyboardInterrupt
        self.seq += 1
        event["seq"] = self.seq
        line = orjson.dumps(event, option=_LINE)  # encode_line, inlined: once per event
        self._summer.add(line, event)
        self._chunks.append(line)
        self._buffered += len(line)
        if self._buffered >= self._limit_bytes or len(self._chunks) >= self._limit:
            self._flush()
        return self.seq

    def _flush(self) -> None:
        if self._chunks:
            chunks, self._chunks = self._chunks, []
            self._buffered = 0
            self._out.write(b"".join(chunks))

    def _finish(self, end: str, reason: str = "") -> None:
        self._chunks.append(encode_line(self._summer.closing(end, reason)))
        self._flush()
        if self._out is not self._raw:
            self._out.close()  # writes the gzip trailer; leaves the raw file open
        self._raw.flush()
        self._closed = True

    def close(self) -> Path:
        """Write the closing record, fsync and move the trace to its final name."""
        if self._closed:
            return self.path
        self._finish("complete")
        if not self.to_stdout:
            os.fsync(self._raw.fileno())
            self._raw.close()
            os.replace(self.partial, self.path)
        return self.path

    def abort(self, reason: str = "interrupted") -> Path:
        """The run failed: write what there is, with a closing record saying
        it ended early, and leave it under its ``.partial`` name (a file
        under the final name, if any, is left as it was)."""
        if not self._closed:
            end = "interrupted" if reason.startswith("interrupted") else "failed"
            try:
                self._finish(end, reason)
            finally:
                if not self.to_stdout:
                    self._raw.close()
        return self.partial
