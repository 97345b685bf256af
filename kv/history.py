"""Client-side history recording in the format ``raftlab lincheck`` reads.

One ``HistoryRecorder`` is shared by every client of a run (one event loop):
each operation is an ``invoke`` line when it starts and an ``ok``, ``fail``
or ``info`` line when its outcome is known (docs/history-format.md). Times
are microseconds of the monotonic clock since the recorder was made, read at
the moment a line is recorded, so lines are in time order and never
decrease; the header keeps the wall-clock start for people.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson

OUTCOMES = ("ok", "fail", "info")


class HistoryRecorder:
    __slots__ = ("_origin", "header", "lines")

    def __init__(self, **header: Any) -> None:
        self._origin = time.monotonic_ns()
        self.header: dict[str, Any] = {
            "history": 1,
            "clock": "monotonic microseconds since started_unix_ns",
            "started_unix_ns": time.time_ns(),
            **header,
        }
        self.lines: list[dict[str, Any]] = []

    def _now(self) -> int:
        return (time.monotonic_ns() - self._origin) // 1000

    def invoke(self, client: int | str, f: str, key: str, value: Any) -> None:
        self.lines.append(
            {
                "client": client,
                "type": "invoke",
                "f": f,
                "key": key,
                "value": value,
                "time": self._now(),
            }
        )

    def complete(
        self, client: int | str, outcome: str, f: str, key: str, value: Any, error: str = ""
    ) -> None:
        """Record the outcome of ``client``'s open invocation of ``f`` on ``key``."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
        line: dict[str, Any] = {
            "client": client,
            "type": outcome,
            "f": f,
            "key": key,
            "value": value,
            "time": self._now(),
        }
        if error:
            line["error"] = error
        self.lines.append(line)

    def to_jsonl(self) -> bytes:
        return b"".join(orjson.dumps(x) + b"\n" for x in [self.header, *self.lines])

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_bytes(self.to_jsonl())
        return path
