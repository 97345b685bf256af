"""A small EDN reader for Jepsen history maps and log values.

Only what Jepsen histories use: maps, vectors, lists, sets (read as
tuples), keywords (read as their name without the colon), strings,
integers, floats, ``nil``, ``true``/``false``, and tagged literals
(``#inst "..."``, read as the tagged value).  Errors raise
:class:`EdnError` with the column, which the callers turn into a
:class:`~checkers.linearizability.history.HistoryError` with the line.
"""

from __future__ import annotations

import re

from checkers.linearizability.history import Event, HistoryError, Value, freeze

_NUM = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?N?M?")
_DELIMS = set(' \t\r\n,()[]{}"')


class EdnError(ValueError):
    """Malformed EDN, with the 1-based column where reading failed."""

    def __init__(self, message: str, column: int) -> None:
        self.column = column
        super().__init__(f"{message} (column {column})")


class _Reader:
    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> EdnError:
        return EdnError(message, self.pos + 1)

    def skip(self) -> None:
        text = self.text
        n = len(text)
        while self.pos < n:
            c = text[self.pos]
            if c in " \t\r\n,":
                self.pos += 1
            elif c == ";":
                while self.pos < n and text[self.pos] != "\n":
                    self.pos += 1
            else:
                return

    def read(self) -> object:
        self.skip()
        if self.pos >= len(self.text):
            raise self.fail("unexpected end of input")
        c = self.text[self.pos]
        if c == "{":
            self.pos += 1
            items = self.read_seq("}")
            if len(items) % 2:
                raise self.fail("map has an odd number of forms")
            out: dict[object, object] = {}
            for k in range(0, len(items), 2):
                key = items[k]
                try:
                    out[key] = items[k + 1]
                except TypeError as exc:
                    raise self.fail("map key cannot be a collection") from exc
            return out
        if c == "[":
            self.pos += 1
            return self.read_seq("]")
        if c == "(":
            self.pos += 1
            return self.read_seq(")")
        if c == "#":
            self.pos += 1
            if self.pos < len(self.text) and self.text[self.pos] == "{":
                self.pos += 1
                return self.read_seq("}")
            self.read_token()  # the tag
            return self.read()
        if c == '"':
            return self.read_string()
        if c in ")]}":
            raise self.fail(f"unexpected {c!r}")
        tok = self.read_token()
        if tok.startswith(":"):
            if len(tok) == 1:
                raise self.fail("empty keyword")
            return tok[1:]
        if tok == "nil":
            return None
        if tok == "true":
            return True
        if tok == "false":
            return False
        if _NUM.fullmatch(tok):
            body = tok.rstrip("NM")
            if "." in body or "e" in body or "E" in body:
                return float(body)
            return int(body)
        return tok  # a symbol

    def read_token(self) -> str:
        start = self.pos
        text = self.text
        while self.pos < len(text) and text[self.pos] not in _DELIMS:
            self.pos += 1
        if self.pos == start:
            raise self.fail("expected a value")
        return text[start : self.pos]

    def read_seq(self, close: str) -> list[object]:
        items: list[object] = []
        while True:
            self.skip()
            if self.pos >= len(self.text):
                raise self.fail(f"missing {close!r}")
            if self.text[self.pos] == close:
                self.pos += 1
                return items
            items.append(self.read())

    def read_string(self) -> str:
        text = self.text
        self.pos += 1
        out: list[str] = []
        escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
        while self.pos < len(text):
            c = text[self.pos]
            if c == '"':
                self.pos += 1
                return "".join(out)
            if c == "\\":
                self.pos += 1
                if self.pos >= len(text):
                    break
                e = text[self.pos]
                if e == "u" and self.pos + 4 < len(text):
                    out.append(chr(int(text[self.pos + 1 : self.pos + 5], 16)))
                    self.pos += 5
                    continue
                if e not in escapes:
                    raise self.fail(f"unknown escape \\{e}")
                out.append(escapes[e])
                self.pos += 1
                continue
            out.append(c)
            self.pos += 1
        raise self.fail("unterminated string")


def read_edn(text: str) -> object:
    """Read exactly one EDN form from ``text``."""
    r = _Reader(text)
    value = r.read()
    r.skip()
    if r.pos != len(text):
        raise r.fail("unexpected text after the value")
    return value


_TYPES = {"invoke", "ok", "fail", "info"}


def parse_edn_lines(lines: list[str], source: str) -> list[Event]:
    """One Jepsen operation map per line; nemesis operations are skipped."""
    events: list[Event] = []
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        try:
            obj = read_edn(line)
        except EdnError as exc:
            raise HistoryError(f"malformed EDN: {exc}", source, lineno) from None
        if not isinstance(obj, dict):
            raise HistoryError(
                "expected an EDN map like {:process 0, :type :invoke, ...}", source, lineno
            )
        process = obj.get("process")
        if process == "nemesis":
            continue
        if not isinstance(process, int | str) or isinstance(process, bool):
            raise HistoryError("missing or bad :process (an integer)", source, lineno)
        typ = obj.get("type")
        if typ not in _TYPES:
            raise HistoryError(
                f"bad :type {typ!r}; expected :invoke, :ok, :fail or :info", source, lineno
            )
        f = obj.get("f")
        if not isinstance(f, str):
            raise HistoryError("missing :f (the operation, e.g. :read)", source, lineno)
        key = obj.get("key")
        value: Value = freeze(obj.get("value"))
        events.append(
            Event(
                client=process,
                type=typ,
                f=f,
                key=None if key is None else str(key),
                value=value,
                time=lineno,
                line=lineno,
            )
        )
    return events
