"""Writing traces: a buffered JSON Lines recorder.

Events are encoded with orjson as they arrive and written in large chunks.
The file appears under its final name only when the recorder is closed: a run
that dies half-way leaves ``<name>.partial`` behind, never a trace that looks
complete but is not.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from traces.schema import SCHEMA, VERSION

Event = dict[str, Any]


def make_header(impl: str, **fields: Any) -> Event:
    """The first line of every trace."""
    return {"schema": SCHEMA, "version": VERSION, "impl": impl, **fields}


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
    """Streams events to ``path`` (JSON Lines), buffered."""

    def __init__(self, path: str | Path, header: Event, buffer_events: int = 8192) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.partial, "wb")  # noqa: SIM115 - closed in close()
        self._chunks: list[bytes] = [orjson.dumps(header)]
        self._limit = buffer_events
        self.seq = 0

    def emit(self, event: Event) -> int:
        self.seq += 1
        event["seq"] = self.seq
        self._chunks.append(orjson.dumps(event))
        if len(self._chunks) >= self._limit:
            self._flush()
        return self.seq

    def _flush(self) -> None:
        if self._chunks:
            self._file.write(b"\n".join(self._chunks) + b"\n")
            self._chunks = []

    def close(self) -> Path:
        """Flush, fsync and move the trace to its final name."""
        if not self._file.closed:
            self._flush()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self.partial, self.path)
        return self.path

    def abort(self) -> Path:
        """The run failed: write what there is and leave it as ``<name>.partial``
        (a file under the final name, if any, is left as it was)."""
        if not self._file.closed:
            self._flush()
            self._file.close()
        return self.partial
