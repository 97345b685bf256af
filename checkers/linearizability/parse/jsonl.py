"""The project's history JSONL (see ``docs/history-format.md``).

One JSON object per line: ``client``, ``type``, ``f``, optionally ``key``,
``value``, ``time`` and ``error``.  An optional first line ``{"history": 1,
...}`` is a header and is skipped.  Any other key makes the line an error,
so that a trace or some other JSONL handed over by mistake is caught at its
first line instead of being half-read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from checkers.linearizability.history import EVENT_TYPES, Event, HistoryError, freeze

ALLOWED_KEYS = frozenset({"client", "type", "f", "key", "value", "time", "error"})
_REQUIRED = frozenset({"client", "type", "f"})


def parse_jsonl_lines(lines: Iterable[str | bytes], source: str) -> list[Event]:
    """Decode and validate every line (streamed: no list of decoded objects is kept)."""

    def decoded() -> Iterator[tuple[int, Any]]:
        for lineno, raw in enumerate(lines, start=1):
            text = raw.strip()
            if not text:
                continue
            try:
                yield lineno, orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                raise HistoryError(f"invalid JSON: {exc}", source, lineno) from None

    return events_from_records(decoded(), source)


def events_from_records(records: Iterable[tuple[int, Any]], source: str) -> list[Event]:
    """Validate decoded records (``(line number, object)`` pairs) into events."""
    events: list[Event] = []
    timed: bool | None = None
    first = True
    for lineno, obj in records:
        if first and isinstance(obj, Mapping) and "history" in obj:
            first = False
            continue
        first = False
        if not isinstance(obj, Mapping):
            raise HistoryError("expected a JSON object", source, lineno)
        if not obj.keys() <= ALLOWED_KEYS:
            extra = sorted(set(obj) - ALLOWED_KEYS)
            raise HistoryError(
                f"unexpected key{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}; "
                f"a history line has only {', '.join(sorted(ALLOWED_KEYS))}",
                source,
                lineno,
            )
        if not obj.keys() >= _REQUIRED:
            for need in ("client", "type", "f"):
                if need not in obj:
                    raise HistoryError(f"missing {need!r}", source, lineno)
        client = obj["client"]
        if isinstance(client, bool) or not isinstance(client, int | str):
            raise HistoryError(
                f"'client' must be an integer or a string, not {client!r}", source, lineno
            )
        typ = obj["type"]
        if typ not in EVENT_TYPES:
            raise HistoryError(
                f"'type' must be one of invoke, ok, fail, info, not {typ!r}", source, lineno
            )
        f = obj["f"]
        if not isinstance(f, str):
            raise HistoryError(f"'f' must be a string, not {f!r}", source, lineno)
        key = obj.get("key")
        if key is not None and (isinstance(key, bool) or not isinstance(key, str | int)):
            raise HistoryError(f"'key' must be a string, not {key!r}", source, lineno)
        has_time = "time" in obj
        if timed is None:
            timed = has_time
        elif timed != has_time:
            raise HistoryError(
                "'time' must be on every line or on none" + (" (missing here)" if timed else ""),
                source,
                lineno,
            )
        t = obj.get("time", lineno)
        if isinstance(t, bool) or not isinstance(t, int):
            raise HistoryError(f"'time' must be an integer, not {t!r}", source, lineno)
        value = obj.get("value")
        if value is not None and not isinstance(value, str | int):
            value = freeze(value)
        events.append(Event(client, typ, f, key if key is None else str(key), value, t, lineno))
    return events
