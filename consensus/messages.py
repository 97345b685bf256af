"""Messages between Raft peers.

One frozen dataclass per message type, so that handlers are chosen by type and
every field is named. ``src``/``dst`` are node ids; every message carries the
sender's term. ``KIND`` is the message's name in traces (a read-only property
rather than a class variable: mypyc, which can compile this package, would
otherwise take it for a dataclass field).

The classes built on every step (appends, heartbeats and their answers) write
their ``__init__`` out instead of letting ``dataclass`` generate it. It does
the same (a frozen dataclass sets its fields with ``object.__setattr__``), but
when mypyc compiles this module (``make accel``) a generated ``__init__``
stays interpreted and costs about fifteen times as much as a written one,
which is compiled. tests/consensus/test_inits.py keeps each written
``__init__`` equal to its class's fields, in order and with their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from consensus.records import Entry, Snapshot


@dataclass(slots=True, frozen=True)
class VoteRequest:
    """RequestVote, or PreVote when ``pre`` (then ``term`` is the term the
    candidate *would* campaign in; nobody adopts it). ``transfer`` marks an
    election started by TimeoutNow, which voters grant even while they still
    hear from a leader."""

    term: int
    src: int
    dst: int
    last_index: int
    last_term: int
    pre: bool = False
    transfer: bool = False

    @property
    def KIND(self) -> str:
        return "vote_req"


@dataclass(slots=True, frozen=True)
class VoteResponse:
    term: int
    src: int
    dst: int
    granted: bool
    pre: bool = False

    @property
    def KIND(self) -> str:
        return "vote_resp"


@dataclass(slots=True, frozen=True)
class AppendRequest:
    term: int
    src: int
    dst: int
    prev_index: int
    prev_term: int
    entries: tuple[Entry, ...]
    commit: int

    def __init__(
        self,
        term: int,
        src: int,
        dst: int,
        prev_index: int,
        prev_term: int,
        entries: tuple[Entry, ...],
        commit: int,
    ) -> None:
        # Written out for the compiled build: see the module docstring.
        object.__setattr__(self, "term", term)
        object.__setattr__(self, "src", src)
        object.__setattr__(self, "dst", dst)
        object.__setattr__(self, "prev_index", prev_index)
        object.__setattr__(self, "prev_term", prev_term)
        object.__setattr__(self, "entries", entries)
        object.__setattr__(self, "commit", commit)

    @property
    def KIND(self) -> str:
        return "append_req"


@dataclass(slots=True, frozen=True)
class AppendResponse:
    """Answer to an append or a snapshot. On success ``index`` is the highest
    index known to match the leader. On rejection ``index`` is the rejected
    ``prev_index`` and (``hint_index``, ``hint_term``) is the follower's last
    entry at or below it whose term is at most the leader's ``prev_term``:
    the leader can skip everything between."""

    term: int
    src: int
    dst: int
    success: bool
    index: int
    hint_index: int = 0
    hint_term: int = 0

    def __init__(
        self,
        term: int,
        src: int,
        dst: int,
        success: bool,
        index: int,
        hint_index: int = 0,
        hint_term: int = 0,
    ) -> None:
        # Written out for the compiled build: see the module docstring.
        object.__setattr__(self, "term", term)
        object.__setattr__(self, "src", src)
        object.__setattr__(self, "dst", dst)
        object.__setattr__(self, "success", success)
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "hint_index", hint_index)
        object.__setattr__(self, "hint_term", hint_term)

    @property
    def KIND(self) -> str:
        return "append_resp"


@dataclass(slots=True, frozen=True)
class Heartbeat:
    """Keeps followers from campaigning and confirms leadership for reads.

    ``commit`` is capped at what the follower is known to hold; ``round``
    numbers the heartbeat broadcast so that acknowledgements can confirm
    ReadIndex requests and leases."""

    term: int
    src: int
    dst: int
    commit: int
    round: int

    def __init__(self, term: int, src: int, dst: int, commit: int, round: int) -> None:
        # Written out for the compiled build: see the module docstring.
        object.__setattr__(self, "term", term)
        object.__setattr__(self, "src", src)
        object.__setattr__(self, "dst", dst)
        object.__setattr__(self, "commit", commit)
        object.__setattr__(self, "round", round)

    @property
    def KIND(self) -> str:
        return "heartbeat"


@dataclass(slots=True, frozen=True)
class HeartbeatResponse:
    term: int
    src: int
    dst: int
    round: int

    def __init__(self, term: int, src: int, dst: int, round: int) -> None:
        # Written out for the compiled build: see the module docstring.
        object.__setattr__(self, "term", term)
        object.__setattr__(self, "src", src)
        object.__setattr__(self, "dst", dst)
        object.__setattr__(self, "round", round)

    @property
    def KIND(self) -> str:
        return "heartbeat_resp"


@dataclass(slots=True, frozen=True)
class InstallSnapshot:
    term: int
    src: int
    dst: int
    snapshot: Snapshot

    @property
    def KIND(self) -> str:
        return "snapshot"


@dataclass(slots=True, frozen=True)
class TimeoutNow:
    """Leader transfer: "campaign now, without waiting for a timeout"."""

    term: int
    src: int
    dst: int

    @property
    def KIND(self) -> str:
        return "timeout_now"


Message = (
    VoteRequest
    | VoteResponse
    | AppendRequest
    | AppendResponse
    | Heartbeat
    | HeartbeatResponse
    | InstallSnapshot
    | TimeoutNow
)

MESSAGE_TYPES: tuple[type[Message], ...] = (
    VoteRequest,
    VoteResponse,
    AppendRequest,
    AppendResponse,
    Heartbeat,
    HeartbeatResponse,
    InstallSnapshot,
    TimeoutNow,
)
