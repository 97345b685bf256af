"""Jepsen log lines, as in Jepsen's etcd test logs.

``INFO  jepsen.util - PROCESS<TAB>:TYPE<TAB>:F<TAB>VALUE`` where VALUE is an
EDN form (``nil``, ``3``, ``[3 0]``, ``:timed-out``).  Jepsen has separated
the fields with tabs, with runs of spaces, and with both across versions (and
logs get re-indented when copied), so any run of whitespace separates them.
Lines from other loggers are skipped; a ``jepsen.util`` line that does not
have this shape is an error.  Time is the line number.
"""

from __future__ import annotations

import re

from checkers.linearizability.history import HistoryError, freeze
from checkers.linearizability.parse.edn import EdnError, read_edn

TYPE_CHECKING = False  # no ``typing`` at run time: start-up (see history.py)
if TYPE_CHECKING:
    from checkers.linearizability.history import EventRow

_LINE = re.compile(
    r"^\s*(?:.*?\s)??(?P<level>INFO|WARN|DEBUG|ERROR|TRACE)\s+(?:\[[^\]]*\]\s+)?jepsen\.util\s*[-:]\s+"
    r"(?P<process>\S+)\s+:(?P<type>[a-z]+)\s+:(?P<f>[a-z-]+)(?:\s+(?P<value>.*?))?\s*$"
)
_OTHER = re.compile(r"^\s*(?:\S+\s+)?(INFO|WARN|DEBUG|ERROR|TRACE)\s+\S+")
_TYPES = {"invoke", "ok", "fail", "info"}


def parse_jepsen_log_lines(lines: list[str], source: str) -> list[EventRow]:
    """Operations from ``jepsen.util`` lines; nemesis lines are skipped."""
    events: list[EventRow] = []
    for lineno, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        m = _LINE.match(line)
        if m is None:
            if "jepsen.util" in line:
                raise HistoryError(
                    "malformed jepsen.util line; expected "
                    "'INFO  jepsen.util - PROCESS :TYPE :F VALUE' (fields separated by "
                    "tabs or spaces)",
                    source,
                    lineno,
                )
            if _OTHER.match(line):
                continue  # another logger's line
            raise HistoryError("not a Jepsen log line", source, lineno)
        process = m.group("process").lstrip(":")
        if process == "nemesis":
            continue
        try:
            client: int | str = int(process)
        except ValueError:
            raise HistoryError(f"process {process!r} is not a number", source, lineno) from None
        typ = m.group("type")
        if typ not in _TYPES:
            raise HistoryError(
                f"bad type :{typ}; expected :invoke, :ok, :fail or :info", source, lineno
            )
        text = m.group("value")
        value: object = None
        if text is not None and text.strip():
            try:
                value = read_edn(text.strip())
            except EdnError as exc:
                raise HistoryError(f"malformed value {text!r}: {exc}", source, lineno) from None
        # (client, type, f, key, value, time, line): see ``history.EventRow``
        events.append((client, typ, m.group("f"), None, freeze(value), lineno, lineno))  # type: ignore[arg-type]
    return events
