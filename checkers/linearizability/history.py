"""Operations and histories: what the parsers produce and the search consumes.

A history is a set of *operations*, each an invocation paired with its
completion.  Pairing happens once, in :func:`pair_events`, so that every
input format (project JSONL, Jepsen EDN maps, Jepsen log lines) shares the
same rules about what a well-formed history is and the same error messages
when it is not.

Times are integers in whatever unit the source used; when a source has no
times, the parsers use the line number, which preserves real-time order.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field, fields

#: ``typing`` is for the type checker only: importing it costs ``raftlab
#: lincheck`` about 2 ms of start-up, a twentieth of its whole run on a small file.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

    Status = Literal["ok", "fail", "info"]
    EventType = Literal["invoke", "ok", "fail", "info"]

#: A value as it appears in a history: JSON scalars, with lists turned into
#: tuples so that every value can be hashed and compared.
Value = Hashable

EVENT_TYPES: frozenset[str] = frozenset({"invoke", "ok", "fail", "info"})


class HistoryError(ValueError):
    """The input is not a well-formed history.

    Carries the source name and line number so that a person can go straight
    to the offending line; ``str()`` gives ``file:line: message``.
    """

    def __init__(self, message: str, source: str = "<history>", line: int | None = None) -> None:
        self.message = message
        self.source = source
        self.line = line
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")


if TYPE_CHECKING:
    #: One line of a history, as every reader gives it to :func:`pair_events`:
    #: ``(client, type, f, key, value, time, line)``, an invocation or a
    #: completion by one client.  A plain tuple: a reader builds one per line,
    #: where a frozen dataclass's ``__init__`` cost a quarter of the time of
    #: reading a 100k-operation file (and a named tuple's a tenth).
    EventRow = tuple[int | str, EventType, str, str | None, Value, int, int]


@dataclass(slots=True, frozen=True)
class Operation:
    """An invocation paired with its completion.

    ``arg`` is what the client asked for (the value written, ``(expected,
    new)`` for a compare-and-set, the suffix appended); ``result`` is what it
    was told (the value read).  ``ret`` is ``None`` for an operation whose
    outcome is unknown (``info``, or no completion at all): it may take effect
    at any time after ``call``, or never.

    A frozen slotted dataclass, because the searches read its fields
    millions of times and a slot is the fastest attribute Python has (a
    named tuple's fields read 1.7x slower here).  Its ``__init__`` is
    written here, with plain stores: in the compiled build (``make accel``)
    they are native stores into the object's fields (0.08 us, where the
    dataclass-generated one took 1 us) and Python code still cannot
    assign.  Pure Python's frozen ``__setattr__`` would refuse them, so
    there the class gets :func:`_frozen_init` instead, and the parsers
    build operations with :func:`new_operation` (1.2-2.2 us for eleven
    ``object.__setattr__`` calls is too slow for one per invocation).
    """

    id: int
    client: int | str
    f: str
    key: str | None
    arg: Value
    result: Value
    status: Status
    call: int
    ret: int | None
    call_line: int
    ret_line: int | None

    def __init__(
        self,
        id: int,
        client: int | str,
        f: str,
        key: str | None,
        arg: Value,
        result: Value,
        status: Status,
        call: int,
        ret: int | None,
        call_line: int,
        ret_line: int | None,
    ) -> None:
        self.id = id  # type: ignore[misc]  # frozen: only here, and native when compiled
        self.client = client  # type: ignore[misc]
        self.f = f  # type: ignore[misc]
        self.key = key  # type: ignore[misc]
        self.arg = arg  # type: ignore[misc]
        self.result = result  # type: ignore[misc]
        self.status = status  # type: ignore[misc]
        self.call = call  # type: ignore[misc]
        self.ret = ret  # type: ignore[misc]
        self.call_line = call_line  # type: ignore[misc]
        self.ret_line = ret_line  # type: ignore[misc]

    @property
    def pending_forever(self) -> bool:
        """True when the outcome is unknown, so the op never has to be placed."""
        return self.ret is None


class _Draft:
    """An :class:`Operation` being filled in: the same slots, but writable.

    The frozen ``__init__`` stores each field with ``object.__setattr__``
    (1.2-2.2 us for eleven fields); plain slot stores, then switching the
    object's class to :class:`Operation` (allowed because the two classes
    have the same slots and the same base), cost a third of that, and a
    history builds one operation per invocation.  Once its class is
    switched, the object is an ordinary frozen :class:`Operation`.
    """

    __slots__ = Operation.__slots__

    def __init__(
        self,
        i: int,
        client: int | str,
        f: str,
        key: str | None,
        arg: Value,
        result: Value,
        status: Status,
        call: int,
        ret: int | None,
        call_line: int,
        ret_line: int | None,
    ) -> None:
        self.id = i
        self.client = client
        self.f = f
        self.key = key
        self.arg = arg
        self.result = result
        self.status = status
        self.call = call
        self.ret = ret
        self.call_line = call_line
        self.ret_line = ret_line
        self.__class__ = Operation  # type: ignore[assignment]


#: This module is pure Python (a ``.py`` file), not the compiled build's C extension.
_PURE = __file__.endswith(".py")
_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Operation))


def _frozen_init(self: Operation, *args: object, **kwargs: object) -> None:
    """Pure Python's ``Operation(...)``: what the dataclass would generate
    (the stores of the class's own ``__init__`` would meet its frozen
    ``__setattr__``).  Rarely called: the parsers use :func:`new_operation`."""
    names = _FIELDS
    values = dict(zip(names, args, strict=False), **kwargs)
    if len(args) > len(names) or len(values) != len(names) or not values.keys() <= set(names):
        raise TypeError(f"Operation() takes the fields {', '.join(names)}; got {sorted(values)}")
    for name in names:
        object.__setattr__(self, name, values[name])


if _PURE:
    Operation.__init__ = _frozen_init  # type: ignore[method-assign]


def new_operation(
    i: int,
    client: int | str,
    f: str,
    key: str | None,
    arg: Value,
    result: Value,
    status: Status,
    call: int,
    ret: int | None,
    call_line: int,
    ret_line: int | None,
) -> Operation:
    """An :class:`Operation` from its fields in order: how the readers build one.

    In pure Python a :class:`_Draft` (a third of the frozen ``__init__``'s
    cost).  Compiled, where an object cannot change class, the native
    ``__init__``, and the readers call this function natively, with their
    integers unboxed: called through a variable, as before, each operation
    cost a generic call, five boxed integers and, for the class itself, its
    eleven arguments parsed from a tuple.
    """
    if _PURE:
        return _Draft(i, client, f, key, arg, result, status, call, ret, call_line, ret_line)  # type: ignore[return-value]
    return Operation(i, client, f, key, arg, result, status, call, ret, call_line, ret_line)


@dataclass(slots=True, frozen=True)
class History:
    """A parsed history: operations ordered by invocation."""

    ops: tuple[Operation, ...]
    source: str = "<history>"
    format: str = "jsonl"
    #: What a read of a never-written key returns in this source: ``None`` in
    #: the project's JSONL, ``""`` in Jepsen/Porcupine key-value histories.
    initial: Value = None
    notes: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.ops)

    @property
    def clients(self) -> list[int | str]:
        """Client ids in a stable order (ints before strings), one lane each."""
        seen = {op.client for op in self.ops}
        return sorted(seen, key=client_sort_key)


def client_sort_key(client: int | str) -> tuple[int, int, str]:
    """Order clients numerically when they are numbers, whatever the hash seed."""
    if isinstance(client, int):
        return (0, client, "")
    return (1, 0, client)


def freeze(value: object) -> Value:
    """Turn decoded JSON/EDN into hashable values (lists become tuples)."""
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
    return value


def pair_events(
    events: Iterable[EventRow],
    source: str = "<history>",
    fmt: str = "jsonl",
    initial: Value = None,
) -> History:
    """Pair each invocation with its client's next completion.

    Rules that hold for every format: a client has at most one open
    invocation (an ``info`` completion closes the client's slot but leaves
    the operation open forever); a completion must follow an invocation of
    the same function; an invocation with no completion at the end of the
    history counts as ``info``.
    """
    # Operations are numbered in invocation order, which is the order of
    # the events (times never go backwards, and ties keep line order): each
    # invocation takes the next slot, and its Operation is built once, into
    # that slot, when it completes.  No sort, one allocation per operation.
    slots: list[Operation | None] = []
    open_calls: dict[int | str, tuple[int, EventRow]] = {}
    last_time: int | None = None
    for ev in events:
        client, typ, f, key, value, t, line = ev
        if last_time is not None and t < last_time:
            raise HistoryError(
                f"time goes backwards ({t} after {last_time}); events must be in time order",
                source,
                line,
            )
        last_time = t
        if typ == "invoke":
            prior = open_calls.get(client)
            if prior is not None:
                raise HistoryError(
                    f"client {client!r} invokes {f} while its {prior[1][2]} from line "
                    f"{prior[1][6]} has not completed",
                    source,
                    line,
                )
            open_calls[client] = (len(slots), ev)
            slots.append(None)
            continue
        opened = open_calls.pop(client, None)
        if opened is None:
            raise HistoryError(
                f"client {client!r} completes {f} ({typ}) without an open invocation",
                source,
                line,
            )
        i, call = opened
        if call[2] != f:
            raise HistoryError(
                f"client {client!r} completes {f} but invoked {call[2]} on line {call[6]}",
                source,
                line,
            )
        if key is not None and call[3] != key:
            raise HistoryError(
                f"client {client!r} completes key {key!r} but invoked key "
                f"{call[3]!r} on line {call[6]}",
                source,
                line,
            )
        if typ == "info":
            slots[i] = new_operation(
                i, client, f, call[3], call[4], None, "info", call[5], None, call[6], line
            )
        else:
            slots[i] = new_operation(
                i, client, f, call[3], call[4], value, typ, call[5], t, call[6], line
            )
    for i, call in open_calls.values():
        slots[i] = new_operation(
            i, call[0], call[2], call[3], call[4], None, "info", call[5], None, call[6], None
        )
    ops: tuple[Operation, ...] = tuple(slots)  # type: ignore[arg-type]  # every slot is filled
    return History(ops=ops, source=source, format=fmt, initial=initial)
