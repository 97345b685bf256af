"""Everything a node asks its driver to do, as values.

The driver carries effects out *in order*. The I/O contract (as in
etcd-io/raft's Ready): a ``Send`` is only emitted once every ``Persist`` it
depends on has been acknowledged with ``Persisted``, so a driver that simply
performs effects in order, and reports completed writes, never sends a vote
or an acknowledgement for state that could be lost in a crash.

The classes built on every step (``Send``, ``Persist``, ``ApplyEntries``,
``Note``) write their ``__init__`` out instead of letting ``dataclass``
generate it. It does the same (a frozen dataclass sets its fields with
``object.__setattr__``), but when mypyc compiles this module (``make accel``)
a generated ``__init__`` stays interpreted and costs about fifteen times as
much as a written one, which is compiled. tests/consensus/test_inits.py keeps
each written ``__init__`` equal to its class's fields, in order and with their
defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from consensus.messages import Message
from consensus.records import Entry, HardState, Snapshot


@dataclass(slots=True, frozen=True)
class Send:
    msg: Message

    def __init__(self, msg: Message) -> None:
        # Written out for the compiled build: see the module docstring.
        object.__setattr__(self, "msg", msg)


@dataclass(slots=True, frozen=True)
class Persist:
    """Write durably, then report ``Persisted(id)``.

    ``snapshot`` (if any) is stored first; entries before it are dropped, and
    if the log does not contain the snapshot's last entry the whole log is.
    Then ``entries`` (if any) replace every stored entry from
    ``entries[0].index`` on. Then the hard state is stored.
    """

    id: int
    hard_state: HardState
    entries: tuple[Entry, ...] = ()
    snapshot: Snapshot | None = None

    def __init__(
        self,
        id: int,
        hard_state: HardState,
        entries: tuple[Entry, ...] = (),
        snapshot: Snapshot | None = None,
    ) -> None:
        # Written out for the compiled build: see the module docstring.
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "hard_state", hard_state)
        object.__setattr__(self, "entries", entries)
        object.__setattr__(self, "snapshot", snapshot)


@dataclass(slots=True, frozen=True)
class ApplyEntries:
    """Committed entries to apply in order; report ``Applied(last index)``."""

    entries: tuple[Entry, ...]

    def __init__(self, entries: tuple[Entry, ...]) -> None:
        # Written out for the compiled build: see the module docstring.
        object.__setattr__(self, "entries", entries)


@dataclass(slots=True, frozen=True)
class RestoreSnapshot:
    """Replace the state machine's state by the snapshot's."""

    snapshot: Snapshot


@dataclass(slots=True, frozen=True)
class Accepted:
    """A proposal was appended at ``index`` (it may still be lost if this
    leader loses its leadership before the entry commits)."""

    index: int
    term: int


@dataclass(slots=True, frozen=True)
class Refused:
    """A proposal, configuration change or transfer was not accepted.
    ``leader`` is the node believed to lead (0 if unknown)."""

    reason: str
    leader: int = 0


@dataclass(slots=True, frozen=True)
class ReadReady:
    """Read ``ctx`` may be served once the state machine applied ``index``."""

    ctx: int
    index: int


@dataclass(slots=True, frozen=True)
class ReadRefused:
    ctx: int
    reason: str
    leader: int = 0


@dataclass(slots=True, frozen=True)
class Note:
    """An internal transition worth recording in the trace (becoming leader,
    committing, truncating, applying a configuration...). Drivers without a
    trace ignore notes."""

    action: str
    detail: Mapping[str, object]

    def __init__(self, action: str, detail: Mapping[str, object]) -> None:
        # Written out for the compiled build: see the module docstring.
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "detail", detail)


Effect = (
    Send
    | Persist
    | ApplyEntries
    | RestoreSnapshot
    | Accepted
    | Refused
    | ReadReady
    | ReadRefused
    | Note
)
