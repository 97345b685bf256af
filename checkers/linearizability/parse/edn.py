"""A small EDN reader for Jepsen history maps and log values.

Only what Jepsen histories use: maps, vectors, lists, sets (read as
tuples), keywords (read as their name without the colon), strings,
integers, floats, ``nil``, ``true``/``false``, and tagged literals
(``#inst "..."``, read as the tagged value).  Errors raise
:class:`EdnError` with the column, which the callers turn into a
:class:`~checkers.linearizability.history.HistoryError` with the line.

Why it is built this way: reading one character at a time in Python cost
2.5 s of a 3.3 s check on a 100k-operation history.  Here compiled regular
expressions do the scanning.  A Jepsen operation map is almost always flat
(keyword keys, scalar or flat-vector values), so one ``fullmatch`` confirms
the shape of a line and one ``findall`` splits it into key/value texts;
anything else (nested maps, tags, comments, malformed text) goes through the
general tokenizer, which also produces the error messages.  Converted atoms
are memoized per file (keywords, ``nil`` and small numbers repeat on every
line).
"""

from __future__ import annotations

import re

from checkers.linearizability.history import HistoryError, Value, freeze
from checkers.linearizability.parse import odd_breaks

TYPE_CHECKING = False  # no ``typing`` at run time: start-up (see history.py)
if TYPE_CHECKING:
    from checkers.linearizability.history import EventRow

_NUM = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?N?M?")
_INT = re.compile(r"[+-]?\d+")

# One token of the general reader; exactly one group is non-empty.  ``bad``
# catches any character nothing else accepts, so the matches are contiguous
# and every problem has a column.
_TOKEN = re.compile(
    r"""[\s,]*(?:
      (?P<open>\#\{|[\[({])
    | (?P<close>[\])}])
    | (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<comment>;[^\n]*)
    | (?P<tag>\#[^\s,()\[\]{}"\#;]+)
    | (?P<atom>[^\s,()\[\]{}"\#;][^\s,()\[\]{}";]*)
    | (?P<bad>.)
    )""",
    re.VERBOSE | re.DOTALL,
)

_KW = r"[^\s,()\[\]{}\"#;:][^\s,()\[\]{}\";]*"
_STR = r'"(?:[^"\\\n]|\\.)*"'
_ATOM = r"[^\s,()\[\]{}\"#;][^\s,()\[\]{}\";]*"
_VEC = r"\[(?:[^\[\](){}\"#;\\]|" + _STR + r")*\]"
_VALUE = f"(?:{_STR}|{_VEC}|{_ATOM})"
#: A flat map: keyword keys, string / atom / flat-vector values.
_FLAT = re.compile(rf"\{{[\s,]*(?::{_KW}[\s,]+{_VALUE}[\s,]*)*\}}")
_PAIR = re.compile(rf":({_KW})[\s,]+({_VALUE})")
#: The line Jepsen and Porcupine write: these five keys in this order.  One
#: ``fullmatch`` yields every field, so most lines cost one regex call.
_CANON = re.compile(
    r"\{:process[\s,]+(-?\d+|:[\w-]+)[\s,]+:type[\s,]+:(invoke|ok|fail|info)"
    r"[\s,]+:f[\s,]+:([\w-]+)(?:[\s,]+:key[\s,]+(?:\"([^\"\\\n]*)\"|(-?\d+)))?"
    rf"[\s,]+:value[\s,]+(?:\"([^\"\\\n]*)\"|(nil)|({_VALUE}))[\s,]*\}}"
)

#: The canonical line again, for a whole text at once: every line yields one
#: tuple, either process, type, f, key (quoted, or a number; empty when
#: absent) and value (a string without escapes, ``nil`` or an integer), or,
#: in the last group, the line itself, for the per-line reader.
_CANON_LINES = re.compile(
    r"^(?:[ \t]*\{:process[ \t,]+(-?\d+|:[\w-]+)[ \t,]+:type[ \t,]+:(invoke|ok|fail|info)"
    r"[ \t,]+:f[ \t,]+:([\w-]+)(?:[ \t,]+:key[ \t,]+(\"[^\"\\\n]*\"|-?\d+))?"
    r"[ \t,]+:value[ \t,]+(\"[^\"\\\n]*\"|nil|-?\d+)[ \t,]*\}[ \t\r]*|(.*))$",
    re.MULTILINE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_CLOSE_OF = {"[": "]", "(": ")", "{": "}", "#{": "}"}


class EdnError(ValueError):
    """Malformed EDN, with the 1-based column where reading failed."""

    def __init__(self, message: str, column: int) -> None:
        self.column = column
        super().__init__(f"{message} (column {column})")


def _unescape(body: str, column: int) -> str:
    if "\\" not in body:
        return body

    def one(m: re.Match[str]) -> str:
        e = m.group(1)
        if len(e) == 5:
            return chr(int(e[1:], 16))
        if e not in _ESCAPES:
            raise EdnError(f"unknown escape \\{e}", column + m.start())
        return _ESCAPES[e]

    return _ESCAPE.sub(one, body)


def _atom(tok: str, column: int) -> object:
    """A keyword, ``nil``, boolean, number or symbol."""
    if tok[0] == ":":
        if len(tok) == 1:
            raise EdnError("empty keyword", column)
        return tok[1:]
    if tok == "nil":
        return None
    if tok == "true":
        return True
    if tok == "false":
        return False
    if _INT.fullmatch(tok):
        return int(tok)
    if _NUM.fullmatch(tok):
        body = tok.rstrip("NM")
        if "." in body or "e" in body or "E" in body:
            return float(body)
        return int(body)
    return tok  # a symbol


def _build_map(items: list[object], column: int) -> dict[object, object]:
    if len(items) % 2:
        raise EdnError("map has an odd number of forms", column)
    out: dict[object, object] = {}
    for k in range(0, len(items), 2):
        try:
            out[items[k]] = items[k + 1]
        except TypeError as exc:
            raise EdnError("map key cannot be a collection", column) from exc
    return out


def read_edn(text: str) -> object:
    """Read exactly one EDN form from ``text`` (the general tokenizer)."""
    # Each frame: (opening token, the enclosing level's items).
    stack: list[tuple[str, list[object]]] = []
    top: list[object] = []
    items = top
    tags = 0  # tags waiting for their value at the current level are ignored
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        tok = m.group(kind) if kind is not None else ""
        col = m.start(kind) + 1 if kind is not None else m.start() + 1
        if kind == "comment":
            continue
        if kind == "bad":
            if tok == '"':
                raise EdnError("unterminated string", col)
            raise EdnError(f"unexpected {tok!r}", col)
        if kind == "tag":
            tags += 1
            continue
        tags = 0
        if kind == "open":
            stack.append((tok, items))
            items = []
            continue
        value: object
        if kind == "close":
            if not stack:
                raise EdnError(f"unexpected {tok!r}", col)
            opener, parent = stack.pop()
            if _CLOSE_OF[opener] != tok:
                raise EdnError(f"expected {_CLOSE_OF[opener]!r} to close {opener!r}", col)
            value = _build_map(items, col) if opener == "{" else items
            items = parent
        elif kind == "str":
            value = _unescape(tok[1:-1], col + 1)
        else:
            value = _atom(tok, col)
        if items is top and top:
            raise EdnError("unexpected text after the value", col)
        items.append(value)
    if stack:
        opener = stack[-1][0]
        raise EdnError(f"missing {_CLOSE_OF[opener]!r}", len(text.rstrip()) + 1)
    if tags or not top:
        raise EdnError("unexpected end of input", len(text) + 1)
    return top[0]


def _fast_value(text: str | None, memo: dict[str, object]) -> object:
    """A value text matched by ``_VALUE`` (string, atom or flat vector); None: absent."""
    if text is None:
        return None
    hit = memo.get(text, memo)
    if hit is not memo:
        return hit
    c = text[0]
    if c == '"':
        body = text[1:-1]
        return body if "\\" not in body else _unescape(body, 1)
    if c == "[":
        return freeze(read_edn(text))
    hit = memo[text] = _atom(text, 1)
    return hit


def read_map_line(line: str, memo: dict[str, object]) -> object:
    """One line holding one EDN form, usually a flat map (fast path), else any form."""
    if _FLAT.fullmatch(line):
        return {key: _fast_value(text, memo) for key, text in _PAIR.findall(line)}
    return read_edn(line)


_TYPES = {"invoke", "ok", "fail", "info"}
_FIELDS = ("process", "type", "f", "key", "value")


def parse_edn_text(text: str, source: str) -> list[EventRow]:
    """One Jepsen operation map per line of ``text``; nemesis operations are skipped.

    Same events as :func:`parse_edn_lines` on ``text.splitlines()``, faster:
    one ``findall`` reads every canonical line of the text in one C loop
    (the per-line ``fullmatch`` calls and their match objects were half the
    reading time of a 100k-operation file), and only the other lines go
    through the per-line reader.  A text with line breaks other than
    ``\n`` and ``\r\n`` takes the per-line reader, so line numbers agree
    with ``splitlines``.
    """
    if odd_breaks(text):
        return parse_edn_lines(text.splitlines(), source)
    events: list[EventRow] = []
    append = events.append
    procs: dict[str, object] = {}
    for lineno, (ptext, typ, f, key, vtext, other) in enumerate(_CANON_LINES.findall(text), 1):
        if not ptext:
            if other and not other.isspace():
                events.extend(parse_edn_lines([other], source, lineno))
            continue
        process = procs.get(ptext)
        if process is None:
            process = procs[ptext] = _atom(ptext, 1)
        if process == "nemesis":
            continue
        c = vtext[0]
        value = vtext[1:-1] if c == '"' else None if c == "n" else int(vtext)
        append(
            (
                process,  # type: ignore[arg-type]  # an int or a keyword's name
                typ,  # the pattern admits only the four types
                f,
                (key[1:-1] if key[0] == '"' else key) if key else None,
                value,
                lineno,
                lineno,
            )
        )
    return events


def parse_edn_lines(lines: list[str], source: str, start: int = 1) -> list[EventRow]:
    """One Jepsen operation map per line; nemesis operations are skipped.

    ``start`` is the line number of ``lines[0]``.
    """
    events: list[EventRow] = []
    memo: dict[str, object] = {}
    canon = _CANON.fullmatch
    for lineno, line in enumerate(lines, start=start):
        m = canon(line)
        if m is None:
            line = line.strip()
            if not line or line[0] == ";":
                continue
            m = canon(line)
        if m is not None:
            ptext, typ, f, skey, ikey, svalue, nil, other = m.groups()
            if ptext in memo:
                process = memo[ptext]
            else:
                process = memo[ptext] = _atom(ptext, 1)
            key = skey if skey is not None else ikey
            if svalue is not None:
                value = svalue
            elif nil is not None:
                value = None
            else:
                try:
                    value = memo[other] if other in memo else _fast_value(other, memo)
                except EdnError as exc:
                    raise HistoryError(f"malformed EDN: {exc}", source, lineno) from None
        elif _FLAT.fullmatch(line):
            # Only the five fields the checker reads are converted, inline
            # (function calls per field cost more than the regexes).
            get = dict(_PAIR.findall(line)).get
            try:
                t = get("process")
                process = memo[t] if t in memo else _fast_value(t, memo)
                t = get("type")
                typ = memo[t] if t in memo else _fast_value(t, memo)
                t = get("f")
                f = memo[t] if t in memo else _fast_value(t, memo)
                t = get("key")
                if t is None:
                    key = None
                elif t in memo:
                    key = memo[t]
                else:
                    key = memo[t] = _fast_value(t, memo)
                t = get("value")
                if t is None:
                    value = None
                elif t[0] == '"' and "\\" not in t:
                    value = t[1:-1]
                else:
                    value = memo[t] if t in memo else _fast_value(t, memo)
            except EdnError as exc:
                raise HistoryError(f"malformed EDN: {exc}", source, lineno) from None
        else:
            try:
                obj = read_edn(line)
            except EdnError as exc:
                raise HistoryError(f"malformed EDN: {exc}", source, lineno) from None
            if not isinstance(obj, dict):
                raise HistoryError(
                    "expected an EDN map like {:process 0, :type :invoke, ...}", source, lineno
                )
            process, typ, f, key, value = (obj.get(k) for k in _FIELDS)
        if process == "nemesis":
            continue
        if not isinstance(process, int | str) or isinstance(process, bool):
            raise HistoryError("missing or bad :process (an integer)", source, lineno)
        if typ not in _TYPES:
            raise HistoryError(
                f"bad :type {typ!r}; expected :invoke, :ok, :fail or :info", source, lineno
            )
        if not isinstance(f, str):
            raise HistoryError("missing :f (the operation, e.g. :read)", source, lineno)
        if not (value is None or isinstance(value, str | int)):
            value = freeze(value)
        events.append(
            (
                process,
                typ,  # type: ignore[arg-type]
                f,
                None if key is None else str(key),
                value,
                lineno,
                lineno,
            )
        )
    return events


__all__ = ["EdnError", "Value", "parse_edn_lines", "parse_edn_text", "read_edn", "read_map_line"]
