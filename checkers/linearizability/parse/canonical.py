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
from dataclasses import dataclass

from checkers.linearizability.history import History, new_operation
from checkers.linearizability.parse import JEPSEN_KV, odd_breaks

TYPE_CHECKING = False  # no ``typing`` at run time: start-up (see history.py)
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Final

    from checkers.linearizability.history import Operation, Status, Value

#: A line's ``:type``, captured by its last letter (``e``, ``k``, ``l`` or ``o``
#: for invoke, ok, fail, info): a one-character group is a string CPython
#: keeps ready-made, where a group holding the word allocated one per line.
_TYPE = r"(?:invok(?=e)|o(?=k)|fai(?=l)|inf(?=o))(.)"
#: A value: a string (without escapes or line breaks: :func:`_value` checks), ``nil``
#: or an integer.
_VALUE = r"(\"[^\"]*\"|nil|-?\d+)"

#: A canonical line exactly as Jepsen prints it (one space after each comma
#: and keyword), else the line itself in the last group.  The groups:
#: process, type (see :data:`_TYPE`), the function and key as one text (a
#: call's and its completion's are compared whole), value.  Literal
#: separators make it a fifth faster than :data:`LENIENT`.  The process, the
#: function and key, and a string value are matched loosely (any text
#: without a comma, or a quote), which sre runs in its tight loop for one
#: excluded character where exact classes cost a set test per character;
#: :func:`_client`, :func:`_call_of` and :func:`_value` check them exactly,
#: once per distinct text.
STRICT = re.compile(
    rf"^(?:\{{:process ([^,]+), :type :{_TYPE}, (:f :[^,]*(?:, :key [^,]*)?), "
    rf":value {_VALUE}\}}|(.*))$",
    re.MULTILINE | re.ASCII,
)
#: :data:`STRICT` with any run of spaces, tabs and commas between fields, and
#: white space around the map.
LENIENT = re.compile(
    r"^(?:[ \t]*\{:process[ \t,]+(-?\d+|:[\w-]+)[ \t,]+:type[ \t,]+:"
    + _TYPE
    + r"[ \t,]+(:f[ \t,]+:[\w-]+(?:[ \t,]+:key[ \t,]+(?:\"[^\"\\\n]*\"|-?\d+))?)"
    + r"[ \t,]+:value[ \t,]+"
    + _VALUE
    + r"[ \t,]*\}[ \t\r]*|(.*))$",
    re.MULTILINE | re.ASCII,
)
#: A canonical function and key text (see :func:`_call_of`).
_CALL = re.compile(r":f[ \t,]+:([\w-]+)(?:[ \t,]+:key[ \t,]+(\"[^\"\\\n]*\"|-?\d+))?", re.ASCII)
#: A canonical process: an integer or a keyword.
_PROCESS = re.compile(r"-?\d+|:[\w-]+", re.ASCII)

_NON_BLANK = re.compile(r"\S")

#: The characters a canonical value text may start with: a string, ``nil``,
#: an integer.
_ANY_START: Final = frozenset('"n-0123456789')
#: For each function, the first characters its invocation's value may have
#: (see ``parse._check_shapes``): ``put``/``write`` need a value, ``append`` a
#: string; ``cas`` needs a vector, which is never canonical, and a function
#: not listed here is left to the general reader's error message.
_VALUE_STARTS: Final = {
    "get": _ANY_START,
    "read": _ANY_START,
    "delete": _ANY_START,
    "put": _ANY_START - {"n"},
    "write": _ANY_START - {"n"},
    "append": frozenset('"'),
}
#: The usual functions as constants, so that every operation holds the same
#: string objects (compared by identity first), as it holds the literal statuses.
_FUNCS: Final = {f: f for f in ("get", "read", "put", "write", "delete", "append", "cas")}
_NO_START: Final[frozenset[str]] = frozenset()
#: Marks a value text not read yet (``None`` is a value: ``nil``).
_UNSEEN: Final = object()


@dataclass(frozen=True, slots=True)
class Call:
    """What a line's function and key text says, read once per distinct text.

    A class rather than a tuple: compiled, a tuple kept inside another is
    boxed and unboxed on every line, where a class's fields are read in place.
    """

    f: str  #: the function, a shared constant
    ktext: str  #: the key's text; empty when absent
    key: str | None
    starts: frozenset[str]  #: the first characters an invocation's value may have


#: What a function and key text that is not canonical says: no function,
#: and no value fits (so the reader declines).
_NOT_CANONICAL: Final = Call("", "", None, _NO_START)


def _call_of(fk: str, keys: dict[str, str]) -> Call:
    """What the function and key text of a line says (:data:`_NOT_CANONICAL`
    if it is not canonical); ``keys`` shares one key object per key text.

    :data:`STRICT` admits any text without commas for the function and the
    key, which is cheaper to match than their exact forms; this is checked
    here, once per distinct text.
    """
    m = _CALL.fullmatch(fk)
    if m is None:
        return _NOT_CANONICAL
    f, ktext = m.group(1), m.group(2) or ""
    key = keys.setdefault(ktext, _key(ktext)) if ktext else None
    return Call(_FUNCS.get(f, f), ktext, key, _VALUE_STARTS.get(f, _NO_START))


class _Declined(Exception):
    """A text the general reader must read (it reads it the same, or says what is wrong)."""


def _value(text: str) -> Value:
    """A canonical value text: a string without escapes, ``nil`` or an integer.

    The patterns match a string up to its closing quote whatever it holds,
    which costs the matcher less than excluding escapes and line breaks in
    every character; they are excluded here instead, once per distinct text.
    """
    if text[0] == '"':
        if "\\" in text or "\n" in text:
            raise _Declined
        return text[1:-1]
    if text[0] == "n":
        return None
    return int(text)


class _NotStrict(_Declined):
    """A line is not in :data:`STRICT` form: try :data:`LENIENT`."""


def read_canonical(text: str, source: str) -> History | None:
    """The history of a text of canonical lines, or ``None`` to use the general reader.

    The first non-blank line decides which pattern runs (a ``findall``
    reads the whole text, so it is not started on a file that does not
    begin with a canonical line): :data:`STRICT`, or :data:`LENIENT` (also
    used when a later line is not strict).  A text with line breaks
    other than ``\n`` and ``\r\n`` goes to the general reader, so that line
    numbers agree with ``str.splitlines``.
    """
    if odd_breaks(text):
        return None
    first = _NON_BLANK.search(text)
    if first is None:
        return None  # nothing but white space: the general reader says 0 operations
    start = text.rfind("\n", 0, first.start()) + 1  # where the first non-blank line begins
    probe = STRICT.match(text, start)
    try:
        if probe is not None and probe.group(1):
            try:
                return _pair(_chunks(STRICT, text), source, strict=True)
            except _NotStrict:
                pass
        probe = LENIENT.match(text, start)
        if probe is None or not probe.group(1):
            return None
        return _pair(_chunks(LENIENT, text), source, strict=False)
    except _Declined:
        return None


#: How much text one ``findall`` reads at a time (cut at a line break).
CHUNK: Final = 1 << 20


def _chunks(pattern: re.Pattern[str], text: str) -> Iterator[list[tuple[str, ...]]]:
    """``pattern.findall(text)``, a megabyte at a time: one row per line, in
    lists that follow one another line after line.

    The rows of a whole 100k-operation file take 60 MB that must be paged
    in and freed; a chunk's rows reuse the same memory while it is still in
    the cache, which made reading a fifth faster.  (A pattern without the
    fallback group matches a tenth faster, but its rows, which skip a line
    of another form, could be trusted only by counting the chunk's line
    breaks, which costs as much.)
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
    Each process gets a lane, a small number, on first sight: its open
    invocation and its client are then list items, and a line costs one
    dictionary look-up of a short text for them.  The dictionaries' methods
    are called on the dictionaries, not kept in local variables: compiled
    (``make accel``), those are native calls where a bound method went
    through Python's generic call.
    """
    slots: list[Operation | None] = []
    lanes: dict[str, int] = {}  # process text -> its lane
    clients: list[int | str] = []  # lane -> its client
    # lane -> (slot, call, function and key text, value text, line) of its open invocation
    pending: list[tuple[int, Call, str, str, int] | None] = []
    calls: dict[str, Call] = {}  # function and key text -> what it says
    keys: dict[str, str] = {}
    # Each distinct text becomes one shared object (a function, a key, a
    # value): the search and the reductions then compare and hash the same
    # object again and again, not a fresh slice of the line each time.
    shared: dict[str, Value] = {}
    line = 0
    for rows in chunks:
        for ptext, t, fk, vtext, other in rows:
            line += 1
            if not t:  # not a canonical line: blank, or the fallback group holds it
                if other and not other.isspace():
                    if strict:
                        raise _NotStrict
                    return None
                continue
            if ptext == ":nemesis":  # the general reader skips the nemesis's operations
                continue
            lane = lanes.get(ptext)
            if lane is None:
                client = _client(ptext)
                if client is None:
                    return None
                lane = lanes[ptext] = len(clients)
                clients.append(client)
                pending.append(None)
            opened = pending[lane]
            if t == "e":  # an invocation
                if opened is not None:  # the process has an open invocation
                    return None
                call = calls.get(fk)
                if call is None:
                    call = calls[fk] = _call_of(fk, keys)
                if vtext[0] not in call.starts:
                    return None  # not canonical, a value of the wrong shape, or an error to report
                pending[lane] = (len(slots), call, fk, vtext, line)
                slots.append(None)
                continue
            if opened is None:
                return None  # a completion without its invocation
            pending[lane] = None
            i, call, cfk, cv, cline = opened
            if fk != cfk:  # still the same call if it spaces it otherwise or leaves out the key
                said = calls.get(fk)
                if said is None:
                    said = calls[fk] = _call_of(fk, keys)
                if said.f != call.f or (said.ktext and said.ktext != call.ktext):
                    return None
            # Shared, so read once per distinct text; nil needs no look-up.
            if cv[0] == "n":
                arg = None
            else:
                arg = shared.get(cv, _UNSEEN)
                if arg is _UNSEEN:
                    arg = shared[cv] = _value(cv)
            if t == "o":
                slots[i] = new_operation(
                    i, clients[lane], call.f, call.key, arg, None, "info", cline, None, cline, line
                )
                continue
            if vtext[0] == "n":
                res = None
            elif vtext == cv:  # a write's completion repeats its value
                res = arg
            else:
                res = shared.get(vtext, _UNSEEN)
                if res is _UNSEEN:
                    res = shared[vtext] = _value(vtext)
            status: Status = "ok" if t == "k" else "fail"
            client = clients[lane]
            slots[i] = new_operation(
                i, client, call.f, call.key, arg, res, status, cline, line, cline, line
            )
    # Invocations never completed count as unknown outcomes (``info``).
    for lane, opened in enumerate(pending):
        if opened is not None:
            i, call, _fk, cv, cline = opened
            arg = _value(cv)
            client = clients[lane]
            slots[i] = new_operation(
                i, client, call.f, call.key, arg, None, "info", cline, None, cline, None
            )
    ops: tuple[Operation, ...] = tuple(slots)  # type: ignore[arg-type]  # every slot is filled
    initial = "" if any(op.f in JEPSEN_KV for op in ops) else None
    return History(ops=ops, source=source, format="edn", initial=initial)


def _client(ptext: str) -> int | str | None:
    """A ``:process``: an integer, or a keyword's name; ``None`` if it is neither."""
    if _PROCESS.fullmatch(ptext) is None:
        return None
    return ptext[1:] if ptext[0] == ":" else int(ptext)


def _key(ktext: str) -> str:
    """A ``:key``: a string's text, or an integer's digits (as the general reader keeps it)."""
    return ktext[1:-1] if ktext[0] == '"' else ktext
