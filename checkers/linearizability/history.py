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
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

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


class Event(NamedTuple):
    """One line of a history: an invocation or a completion by one client.

    A named tuple rather than a frozen dataclass: it is just as immutable,
    and a parser builds one per line, where a frozen dataclass's
    ``__init__`` cost a quarter of the time of reading a 100k-operation file.
    """

    client: int | str
    type: EventType
    f: str
    key: str | None
    value: Value
    time: int
    line: int


@dataclass(slots=True, frozen=True)
class Operation:
    """An invocation paired with its completion.

    ``arg`` is what the client asked for (the value written, ``(expected,
    new)`` for a compare-and-set, the suffix appended); ``result`` is what it
    was told (the value read).  ``ret`` is ``None`` for an operation whose
    outcome is unknown (``info``, or no completion at all): it may take effect
    at any time after ``call``, or never.
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

    @property
    def pending_forever(self) -> bool:
        """True when the outcome is unknown, so the op never has to be placed."""
        return self.ret is None


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
    events: Iterable[Event],
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
    open_calls: dict[int | str, Event] = {}
    # (call, completion or None, status): operations are numbered only once
    # they are in invocation order, so each Operation is built exactly once.
    pairs: list[tuple[Event, Event | None, Status]] = []
    last_time: int | None = None
    for ev in events:
        if last_time is not None and ev.time < last_time:
            raise HistoryError(
                f"time goes backwards ({ev.time} after {last_time}); events must be in time order",
                source,
                ev.line,
            )
        last_time = ev.time
        if ev.type == "invoke":
            prior = open_calls.get(ev.client)
            if prior is not None:
                raise HistoryError(
                    f"client {ev.client!r} invokes {ev.f} while its {prior.f} from line "
                    f"{prior.line} has not completed",
                    source,
                    ev.line,
                )
            open_calls[ev.client] = ev
            continue
        call = open_calls.pop(ev.client, None)
        if call is None:
            raise HistoryError(
                f"client {ev.client!r} completes {ev.f} ({ev.type}) without an open invocation",
                source,
                ev.line,
            )
        if call.f != ev.f:
            raise HistoryError(
                f"client {ev.client!r} completes {ev.f} but invoked {call.f} on line {call.line}",
                source,
                ev.line,
            )
        if call.key != ev.key and ev.key is not None:
            raise HistoryError(
                f"client {ev.client!r} completes key {ev.key!r} but invoked key "
                f"{call.key!r} on line {call.line}",
                source,
                ev.line,
            )
        pairs.append((call, ev, ev.type))
    for call in sorted(open_calls.values(), key=lambda e: e.line):
        pairs.append((call, None, "info"))
    pairs.sort(key=lambda p: (p[0].time, p[0].line))
    ops = tuple(_make_op(i, call, done, status) for i, (call, done, status) in enumerate(pairs))
    return History(ops=ops, source=source, format=fmt, initial=initial)


def _make_op(i: int, call: Event, done: Event | None, status: Status) -> Operation:
    # Events are tuples: unpacking them beats eleven attribute look-ups, and
    # this runs once per operation (100k times for a large history).
    client, _t, f, key, arg, call_time, call_line = call
    if done is None:
        return Operation(i, client, f, key, arg, None, "info", call_time, None, call_line, None)
    if status == "info":
        return Operation(i, client, f, key, arg, None, "info", call_time, None, call_line, done[6])
    return Operation(
        i, client, f, key, arg, done[4], status, call_time, done[5], call_line, done[6]
    )
