"""Reading histories: the project's JSONL, Jepsen EDN maps, Jepsen log lines.

Each format has its own module that turns lines into
:data:`~checkers.linearizability.history.EventRow` tuples; this module picks
the format, checks each event's shape for its function (so that a ``cas``
without ``[expected, new]`` is reported at its line, not deep inside a
search), and pairs invocations with completions.

Every problem raises :class:`~checkers.linearizability.history.HistoryError`
naming the file and line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from checkers.linearizability.gcpause import paused_gc
from checkers.linearizability.history import History, HistoryError, Value, pair_events

TYPE_CHECKING = False  # no ``typing`` at run time: start-up (see history.py)
if TYPE_CHECKING:
    from typing import Any

    from checkers.linearizability.history import EventRow

__all__ = ["FORMATS", "detect_format", "history_from_records", "load_history", "parse_text"]

FORMATS = ("auto", "jsonl", "edn", "jepsen-log")
KNOWN_F = ("get", "put", "delete", "cas", "append", "read", "write")
_KNOWN = frozenset(KNOWN_F)
#: Operations whose invocation value must have a shape (see ``_check_shapes``).
_SHAPED = frozenset({"cas", "put", "write", "append"})


#: Line breaks that ``str.splitlines`` honours and ``$`` does not (besides a
#: lone ``\r``), the last three only in non-ASCII text.
_ODD_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def odd_breaks(text: str) -> bool:
    """True when ``text`` has a line break other than ``\n`` and ``\r\n``.

    Plain substring searches: one regular expression over the whole text
    cost a third of the reading time.
    """
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return True
    odd = _ODD_BREAKS[:5] if text.isascii() else _ODD_BREAKS
    return any(c in text for c in odd)


def detect_format(first_lines: list[str], name: str = "") -> str:
    """Guess the format from the file name, then from the first non-blank line."""
    suffix = Path(name).suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if suffix == ".edn":
        return "edn"
    for line in first_lines:
        s = line.strip()
        if not s:
            continue
        if "jepsen.util" in s:
            return "jepsen-log"
        if s.startswith("{") and (":type" in s or ":process" in s):
            return "edn"
        if s.startswith("{"):
            return "jsonl"
        break
    return "jsonl" if suffix != ".log" else "jepsen-log"


def _check_shapes(events: Sequence[EventRow], source: str) -> None:
    # The names first, all at once (a set of a few strings); then only the
    # invocations whose value has a required shape, one at a time.
    if not {ev[2] for ev in events} <= _KNOWN:
        for ev in events:
            if ev[2] not in _KNOWN:
                raise HistoryError(
                    f"unknown operation {ev[2]!r}; expected one of {', '.join(KNOWN_F)}",
                    source,
                    ev[6],
                )
    for _client, typ, f, _key, v, _time, line in events:
        if typ != "invoke" or f not in _SHAPED:
            continue
        if f == "cas" and not (isinstance(v, tuple) and len(v) == 2):
            raise HistoryError(f"cas needs the value [expected, new], got {v!r}", source, line)
        if f in ("put", "write") and v is None:
            raise HistoryError(f"{f} needs a value (use delete to remove a key)", source, line)
        if f == "append" and not isinstance(v, str):
            raise HistoryError(f"append needs a string value, got {v!r}", source, line)


#: Jepsen/Knossos/Porcupine key-value histories (those with these functions)
#: read an unwritten key as "".
JEPSEN_KV = frozenset({"get", "put", "append"})


def _initial(fmt: str, events: Sequence[EventRow]) -> Value:
    if fmt == "edn" and any(ev[2] in JEPSEN_KV for ev in events):
        return ""
    return None


def parse_text(text: str, fmt: str = "auto", source: str = "<history>") -> History:
    """Parse a whole history held in memory."""
    if fmt == "auto":
        fmt = detect_format(text[:65_536].splitlines()[:20], source)
    events: Sequence[EventRow]
    if fmt == "jsonl":
        # Each reader loads on first use: the JSONL one imports orjson (4 ms
        # of start-up, with the datetime, uuid and platform it imports), the
        # others compile their regular expressions.
        from checkers.linearizability.parse.jsonl import parse_jsonl_lines

        events = parse_jsonl_lines(text.splitlines(), source)
    elif fmt == "edn":
        from checkers.linearizability.parse.canonical import read_canonical

        # Jepsen's own line format, read and paired in one pass; anything
        # unusual declines and is read below, event by event.
        hist = read_canonical(text, source)
        if hist is not None:
            return hist
        from checkers.linearizability.parse.edn import parse_edn_text

        events = parse_edn_text(text, source)
    elif fmt == "jepsen-log":
        from checkers.linearizability.parse.jepsen_log import parse_jepsen_log_lines

        events = parse_jepsen_log_lines(text.splitlines(), source)
    else:
        raise HistoryError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}", source)
    # An empty history (no operations at all) is a valid input: it is
    # linearizable, and the report says it had 0 operations.
    _check_shapes(events, source)
    return pair_events(events, source=source, fmt=fmt, initial=_initial(fmt, events))


def load_history(path: str | Path, fmt: str = "auto") -> History:
    """Read a history file; ``fmt`` is one of :data:`FORMATS`."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise HistoryError(f"cannot read: {exc.strerror or exc}", str(p)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise HistoryError("not UTF-8 text", str(p), line) from None
    with paused_gc():
        return parse_text(text, fmt, str(p))


def history_from_records(
    records: Iterable[Mapping[str, Any]], source: str = "<records>"
) -> History:
    """A history from decoded JSONL objects (e.g. client events taken from a trace).

    Line numbers in errors count records from 1.
    """
    from checkers.linearizability.parse.jsonl import events_from_records

    events = events_from_records(enumerate(records, start=1), source)
    _check_shapes(events, source)
    return pair_events(events, source=source, fmt="jsonl", initial=None)
