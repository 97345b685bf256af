"""The admin API's plain values, its errors and the backend protocol.

The CLI, the controller and the node runtime see only these: never protobuf
types. ``core_status`` builds a status from a ``RaftCore`` so that every
backend reports the same fields the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from consensus.confchange import ConfChange
from consensus.core import RaftCore, Role
from consensus.membership import Membership
from consensus.progress import ProgressState
from kv.netfaults import LinkFaults

# -- values -------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class NodeAddress:
    """Where a node listens: the Raft transport and this API (``host:port``)
    and the client HTTP API (a base URL, ``http://host:port``; empty when
    the node has none)."""

    peer: str
    admin: str
    http: str = ""


@dataclass(slots=True, frozen=True)
class PeerProgress:
    """The leader's view of one member's replication (consensus.progress)."""

    node_id: int
    match: int
    next: int
    state: ProgressState
    inflight: int
    recent_active: bool


@dataclass(slots=True, frozen=True)
class NodeStatus:
    node_id: int
    role: Role
    term: int
    leader_id: int
    leader_address: str
    commit: int
    applied: int
    last_index: int
    configuration: Membership
    progress: tuple[PeerProgress, ...] = ()
    members: Mapping[int, NodeAddress] = field(default_factory=dict)
    faults: Mapping[int, LinkFaults] = field(default_factory=dict)

    def progress_of(self, node: int) -> PeerProgress | None:
        return next((p for p in self.progress if p.node_id == node), None)


@dataclass(slots=True, frozen=True)
class ChangeResult:
    """A configuration entry applied on the leader, and the configuration it
    installed (later entries, such as an automatic leave, may follow it)."""

    index: int
    term: int
    configuration: Membership


@dataclass(slots=True, frozen=True)
class CaughtUpResult:
    match: int
    commit: int
    lag: int
    recent_active: bool
    caught_up: bool


@dataclass(slots=True, frozen=True)
class TransferResult:
    leader_id: int
    term: int


# -- errors -------------------------------------------------------------------

#: Trailing metadata keys of an error answer.
META_ERROR = "raftlab-error"
META_LEADER_ID = "raftlab-leader-id"
META_LEADER_ADDRESS = "raftlab-leader-address"


class AdminError(Exception):
    """An admin request that did not succeed. ``code`` is the gRPC status name."""

    code = "UNKNOWN"
    kind = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(AdminError):
    """The request is malformed or names what does not exist (INVALID_ARGUMENT)."""

    code = "INVALID_ARGUMENT"
    kind = "invalid"


class NotLeaderError(AdminError):
    """Asked a node that is not the leader (FAILED_PRECONDITION); the leader
    is ``leader_id`` at ``leader_address`` (0 and "" when unknown)."""

    code = "FAILED_PRECONDITION"
    kind = "not-leader"

    def __init__(self, leader_id: int, leader_address: str, message: str = "") -> None:
        if not message:
            where = f"node {leader_id} at {leader_address or '?'}" if leader_id else "unknown"
            message = f"not the leader; the leader is {where}"
        super().__init__(message)
        self.leader_id = leader_id
        self.leader_address = leader_address


class RefusedError(AdminError):
    """The leader refused in its current state: a change still applying, a
    joint configuration to leave first, a transfer in progress
    (FAILED_PRECONDITION). Retrying later may succeed."""

    code = "FAILED_PRECONDITION"
    kind = "refused"


class OutcomeUnknownError(AdminError):
    """The request was proposed but not seen to finish in time (UNAVAILABLE):
    it may still take effect. Read GetStatus before retrying."""

    code = "UNAVAILABLE"
    kind = "outcome-unknown"


# -- the backend --------------------------------------------------------------


class AdminBackend(Protocol):
    """What the node runtime provides to the admin API.

    ``propose_change`` and ``transfer_leader`` raise ``NotLeaderError`` when
    this node is not the leader, ``RefusedError`` with the core's reason when
    the core refuses, and ``OutcomeUnknownError`` when the change was accepted
    but not applied (or the transfer not finished) within the runtime's
    timeout. ``addresses`` holds the addresses of nodes the change adds.
    ``set_faults`` and ``heal`` are ``kv.transport.FaultControl``.
    """

    async def status(self) -> NodeStatus: ...

    async def propose_change(
        self, change: ConfChange, addresses: Mapping[int, NodeAddress]
    ) -> ChangeResult: ...

    async def transfer_leader(self, target: int) -> TransferResult: ...

    def set_faults(self, peer: int, faults: LinkFaults) -> None: ...

    def heal(self) -> None: ...


def core_status(
    core: RaftCore,
    members: Mapping[int, NodeAddress],
    faults: Mapping[int, LinkFaults],
) -> NodeStatus:
    """A node's status read from its core: what a backend's ``status`` returns.

    ``recent_active`` uses the core's own CheckQuorum rule (heard from within
    an election timeout); the leader is always active to itself.
    """
    horizon = core.now - core.config.election_ticks
    progress: tuple[PeerProgress, ...] = ()
    if core.role is Role.LEADER:
        progress = tuple(
            PeerProgress(
                node_id=node,
                match=pr.match,
                next=pr.next,
                state=pr.state,
                inflight=len(pr.inflights),
                recent_active=node == core.id or pr.last_heard >= horizon,
            )
            for node, pr in sorted(core.progress.items())
        )
    leader = members.get(core.lead) if core.lead else None
    return NodeStatus(
        node_id=core.id,
        role=core.role,
        term=core.term,
        leader_id=core.lead,
        leader_address=leader.admin if leader else "",
        commit=core.log.committed,
        applied=core.log.applied,
        last_index=core.log.last_index,
        configuration=core.membership,
        progress=progress,
        members=dict(sorted(members.items())),
        faults=dict(sorted(faults.items())),
    )


def caught_up(status: NodeStatus, node: int, max_lag: int) -> CaughtUpResult:
    """Whether ``node`` is within ``max_lag`` entries of the leader's commit
    index, from the leader's replication progress (never from elapsed time).
    A node the leader has not heard from lately is never caught up: its
    match may be old news."""
    pr = status.progress_of(node)
    if pr is None:
        raise RefusedError(f"the leader has no replication progress for node {node} yet")
    lag = max(0, status.commit - pr.match)
    return CaughtUpResult(
        match=pr.match,
        commit=status.commit,
        lag=lag,
        recent_active=pr.recent_active,
        caught_up=lag <= max_lag and pr.recent_active,
    )
