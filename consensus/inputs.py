"""Everything that can happen to a node, as values.

``RaftCore.step(now, input)`` is the only way in. ``now`` is the node's
logical clock in ticks (see core.py); nothing here carries wall time.

The classes built on every step (``Receive``, ``Persisted``, ``Applied``)
write their ``__init__`` out instead of letting ``dataclass`` generate it. It
does the same (a frozen dataclass sets its fields with
``object.__setattr__``), but when mypyc compiles this module (``make accel``)
a generated ``__init__`` stays interpreted and costs about fifteen times as
much as a written one, which is compiled. tests/consensus/test_inits.py keeps
each written ``__init__`` equal to its class's fields, in order and with their
defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from consensus.confchange import ConfChange
from consensus.messages import Message


@dataclass(slots=True, frozen=True)
class Tick:
    """Time passed. Drivers deliver one at ``core.next_deadline()`` at the
    latest; extra ticks are harmless."""


@dataclass(slots=True, frozen=True)
class Receive:
    msg: Message

    def __init__(self, msg: Message) -> None:
        # Written out for the compiled build: see the module docstring.
        object.__setattr__(self, "msg", msg)


@dataclass(slots=True, frozen=True)
class Propose:
    """Append a command. Answered by ``Accepted`` or ``Refused``."""

    data: str


@dataclass(slots=True, frozen=True)
class ProposeConfChange:
    change: ConfChange


@dataclass(slots=True, frozen=True)
class TransferLeader:
    target: int


@dataclass(slots=True, frozen=True)
class ReadIndex:
    """Ask for a linearizable read. ``ctx`` identifies it in the answer
    (``ReadReady`` or ``ReadRefused``)."""

    ctx: int


@dataclass(slots=True, frozen=True)
class Persisted:
    """Storage finished every ``Persist`` effect up to and including ``id``."""

    id: int

    def __init__(self, id: int) -> None:
        # Written out for the compiled build: see the module docstring.
        object.__setattr__(self, "id", id)


@dataclass(slots=True, frozen=True)
class Applied:
    """The state machine applied every entry up to ``index``."""

    index: int

    def __init__(self, index: int) -> None:
        # Written out for the compiled build: see the module docstring.
        object.__setattr__(self, "index", index)


@dataclass(slots=True, frozen=True)
class Compact:
    """The state machine's state at the applied index, serialized: the core
    turns it into a snapshot and drops the log prefix it covers."""

    index: int
    data: str


@dataclass(slots=True, frozen=True)
class Campaign:
    """Start an election now (tests and operators; like etcd's MsgHup)."""


Input = (
    Tick
    | Receive
    | Propose
    | ProposeConfChange
    | TransferLeader
    | ReadIndex
    | Persisted
    | Applied
    | Compact
    | Campaign
)
