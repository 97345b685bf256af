"""Messages between Raft peers.

One frozen dataclass per message type, so that handlers are chosen by type and
every field is named. ``src``/``dst`` are node ids; every message carries the
sender's term. ``KIND`` is the message's name in traces (a read-only property
rather than a class variable: mypyc, which can compile this package, would
otherwise take it for a dataclass field).
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

    @property
    def KIND(self) -> str:
        return "heartbeat"


@dataclass(slots=True, frozen=True)
class HeartbeatResponse:
    term: int
    src: int
    dst: int
    round: int

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
