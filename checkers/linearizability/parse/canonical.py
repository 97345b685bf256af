"""Jepsen's canonical EDN lines, read and paired in one pass.

Jepsen and Porcupine write one operation map per line, always the same
five keys in the same order::

    {:process 8, :type :invoke, :f :get, :key "k5", :value nil}

For a text made only of such lines (and blank lines), :func:`read_canonical`
goes from the text to the :class:`~checkers.linearizability.history.History`
with a regular-expression ``findall`` (a megabyte at a time) and one loop:
no event tuple per line, no second pass for the shapes, and each
:class:`Operation` built once, when its completion is read.  On a
100k-operation history that took about half the time of reading events,
checking their shapes and pairing them in turn.  Nemesis lines are skipped,
as the general reader skips them.

It is only a fast path.  It declines (returns ``None``) whenever a line is
not canonical or anything is unusual: a process that invokes twice, a
completion without its invocation, an unknown function, a value whose shape
is wrong for its function, a key given differently on the two lines.
The general reader (:func:`.edn.parse_edn_text`, then
:func:`.history.pair_events`) then reads the text again, with the same
result or the error message naming the line.  So every history this
function accepts is one the general path reads to the same operations,
which the tests check on generated histories, legal and not.
"""

from __future__ import annotations

import re

from checkers.linearizability.history import History, _build_op
from checkers.linearizability.parse import JEPSEN_KV

TYPE_CHECKING = False  # no ``typing`` at run time: start-up (see history.py)
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Final

    from checkers.linearizability.history import Operation, Value

#: A canonical line exactly as Jepsen prints it (one space after each comma
#: and keyword), else the line itself in the last group.  Literal
#: separators make it a fifth faster than the lenient pattern below.
STRICT = re.compile(
    r"^(?:\{:process (-?\d+|:[\w-]+), :type :(invoke|ok|fail|info), :f :([\w-]+)"
    r"(?:, :key (\"[^\"\\\n]*\"|-?\d+))?, :value (\"[^\"\\\n]*\"|nil|-?\d+)\}|(.*))$",
    re.MULTILINE,
)

_NON_BLANK = re.compile(r"\S")

#: Functions whose invocation may carry any canonical value (a string, an
#: integer or ``nil``); ``put``/``write`` need a value and ``append`` a string
#: (see ``parse._check_shapes``); ``cas`` needs a vector, which is never canonical.
_ANY_VALUE = frozenset({"get", "read", "delete"})
_NEEDS_VALUE = frozenset({"put", "write"})
_NEEDS_STRING = frozenset({"append"})


#: The usual functions as constants, so that every operation holds the same
#: string objects (compared by identity first), as it holds the literal statuses.
_FUNCS: Final = {f: f for f in ("get", "read", "put", "write", "delete", "append", "cas")}
#: Marks a value text not read yet (``None`` is a value: ``nil``).
_UNSEEN: Final = object()


def _value(text: str) -> Value:
    """A canonical value text: a string without escapes, ``nil`` or an integer."""
    c = text[0]
    if c == '"':
        return text[1:-1]
    if c == "n":
        return None
    return int(text)


class _NotStrict(Exception):
    """A line is not in :data:`STRICT` form: try the lenient pattern."""


def read_canonical(text: str, source: str) -> History | None:
    """The history of a text of canonical lines, or ``None`` to use the general reader.

    The first non-blank line decides which pattern runs (a ``findall``
    reads the whole text, so it is not started on a file that does not
    begin with a canonical line): :data:`STRICT`, or the lenient
    ``edn._CANON_LINES`` (any run of spaces, tabs and commas between fields;
    also used when a later line is not strict).  A text with line breaks
    other than ``\n`` and ``\r\n`` goes to the general reader, so that line
    numbers agree with ``str.splitlines``.
    """
    from checkers.linearizability.parse.edn import _CANON_LINES, _odd_breaks

    if _odd_breaks(text):
        return None
    first = _NON_BLANK.search(text)
    if first is None:
        return None  # nothing but white space: the general reader says 0 operations
    start = text.rfind("\n", 0, first.start()) + 1  # where the first non-blank line begins
    probe = STRICT.match(text, start)
    if probe is not None and probe.group(1):
        try:
            return _pair(_chunks(STRICT, text), source, strict=True)
        except _NotStrict:
            pass
    probe = _CANON_LINES.match(text, start)
    if probe is None or not probe.group(1):
        return None
    return _pair(_chunks(_CANON_LINES, text), source, strict=False)


#: How much text one ``findall`` reads at a time (cut at a line break).
CHUNK: Final = 1 << 20


def _chunks(pattern: re.Pattern[str], text: str) -> Iterator[list[tuple[str, ...]]]:
    """``pattern.findall(text)``, a megabyte at a time: one row per line, in
    lists that follow one another line after line.

    The rows of a whole 100k-operation file take 60 MB that must be paged
    in and freed; a chunk's rows reuse the same memory while it is still in
    the cache, which made reading a fifth faster.
    """
    findall = pattern.findall
    pos, n = 0, len(text)
    while pos < n:
        end = text.find("\n", pos + CHUNK)
        if end < 0:
            end = n
        yield findall(text, pos, end)
        pos = end + 1


def _pair(chunks: Iterable[list[tuple[str, ...]]], source: str, strict: bool) -> History | None:
    """Pair the rows of ``findall`` (groups as in :data:`STRICT`) into a history.

    Two plain loops and a line counter: ``enumerate`` over a ``chain`` of the
    chunks cost a pair of objects per line (the numbered row, its number).
    """
    slots: list[Operation | None] = []
    append_slot = slots.append
    # process text -> (slot, f, key text, value text, line) of its open invocation
    open_calls: dict[str, tuple[int, str, str, str, int]] = {}
    pop_call = open_calls.pop
    open_call = open_calls.setdefault
    clients: dict[str, int | str] = {}
    keys: dict[str, str] = {}
    build = _build_op
    plain = _ANY_VALUE
    needs_value = _NEEDS_VALUE
    needs_string = _NEEDS_STRING
    value = _value
    # Each distinct text becomes one shared object (a function, a status, a
    # value): the search and the reductions then compare and hash the same
    # object again and again, not a fresh slice of the line each time.
    shared: dict[str, Value] = {}
    share = shared.get
    line = 0
    for rows in chunks:
        for ptext, typ, f, ktext, vtext, other in rows:
            line += 1
            if not ptext:
                if other and not other.isspace():
                    if strict:
                        raise _NotStrict
                    return None
                continue
            if typ == "invoke":
                if ptext == ":nemesis":  # the general reader skips the nemesis's operations
                    continue
                if f not in plain and not (
                    (f in needs_value and vtext != "nil") or (f in needs_string and vtext[0] == '"')
                ):
                    return None
                # One look-up for the test and the store; by size, not by the
                # identity of the tuple, which the compiled build does not keep.
                seen = len(open_calls)
                open_call(ptext, (len(slots), f, ktext, vtext, line))
                if len(open_calls) == seen:  # the process has an open invocation
                    return None
                append_slot(None)
                continue
            call = pop_call(ptext, None)
            if call is None:
                if ptext == ":nemesis":
                    continue
                return None
            i, cf, ck, cv, cline = call
            if cf != f or (ktext and ktext != ck):
                return None
            client = clients.get(ptext)
            if client is None:
                client = clients[ptext] = _client(ptext)
            key = keys.get(ck) if ck else None
            if key is None and ck:
                key = keys[ck] = _key(ck)
            # The invocation's text of the function (equal to this line's), whose
            # hash the check above has computed already.
            f = _FUNCS.get(cf) or cf
            # _value, inline and shared (a call per value was a tenth of the reading time)
            arg = share(cv, _UNSEEN)
            if arg is _UNSEEN:
                c = cv[0]
                arg = shared[cv] = cv[1:-1] if c == '"' else None if c == "n" else int(cv)
            if typ == "info":
                slots[i] = build(i, client, f, key, arg, None, "info", cline, None, cline, line)
            else:
                res = share(vtext, _UNSEEN)
                if res is _UNSEEN:
                    c = vtext[0]
                    res = shared[vtext] = (
                        vtext[1:-1] if c == '"' else None if c == "n" else int(vtext)
                    )
                status = "ok" if typ == "ok" else "fail"  # (comparisons: no hash of a fresh text)
                slots[i] = build(i, client, f, key, arg, res, status, cline, line, cline, line)
    # Invocations never completed count as unknown outcomes (``info``).
    for ptext, (i, cf, ck, cv, cline) in open_calls.items():
        key = _key(ck) if ck else None
        slots[i] = build(
            i, _client(ptext), cf, key, value(cv), None, "info", cline, None, cline, None
        )
    ops: tuple[Operation, ...] = tuple(slots)  # type: ignore[arg-type]  # every slot is filled
    initial = "" if any(op.f in JEPSEN_KV for op in ops) else None
    return History(ops=ops, source=source, format="edn", initial=initial)


def _client(ptext: str) -> int | str:
    """A ``:process``: an integer, or a keyword's name."""
    return ptext[1:] if ptext[0] == ":" else int(ptext)


def _key(ktext: str) -> str:
    """A ``:key``: a string's text, or an integer's digits (as the general reader keeps it)."""
    return ktext[1:-1] if ktext[0] == '"' else ktext
