"""The admin gRPC API of a node: membership, leadership, status, faults.

Three parts, so that the node runtime, the CLI and the Kubernetes
controller each see only plain Python values:

- ``AdminBackend``: the small protocol the node runtime implements (status,
  propose a configuration change and wait for it to apply, transfer
  leadership, set network faults). It speaks ``consensus`` values
  (``ConfChange``, ``Membership``, ``Role``, ``ProgressState``) and
  ``kv.netfaults.LinkFaults``; ``core_status`` builds its status from a
  ``RaftCore`` so every backend reports the same fields the same way.
- ``AdminServicer`` and ``serve``: the grpc.aio server. All request
  validation lives here, once: a malformed or impossible request is answered
  INVALID_ARGUMENT with a message naming what is wrong, before the backend is
  called; a leader-only request to another node is answered
  FAILED_PRECONDITION with the leader's id and admin address in trailing
  metadata. The server runs on the runtime's event loop, so the backend is
  never called from another thread.
- ``AdminClient``: a blocking client with one typed method per RPC, returning
  the dataclasses below and raising ``AdminError`` subclasses; it follows
  not-leader answers to the leader (safe: such an answer means nothing was
  proposed).

See docs/admin-api.md for every RPC, its fields and its errors.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol, TypeVar

import grpc
import grpc.aio

from consensus.confchange import ChangeItem, ChangeOp, ConfChange, Transition, apply_change
from consensus.core import RaftCore, Role
from consensus.errors import ConfChangeError
from consensus.membership import Membership
from consensus.progress import ProgressState
from kv.netfaults import LinkFaults
from kv.proto import admin_pb2 as pb
from kv.proto import admin_pb2_grpc as pb_grpc

# -- values -------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class NodeAddress:
    """Where a node listens, each ``host:port``: the Raft transport and this API."""

    peer: str
    admin: str


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


# -- protobuf conversions (one place for server and client) ------------------

_OPS = {
    pb.CHANGE_OP_ADD_VOTER: ChangeOp.ADD_VOTER,
    pb.CHANGE_OP_ADD_LEARNER: ChangeOp.ADD_LEARNER,
    pb.CHANGE_OP_REMOVE: ChangeOp.REMOVE,
}
_TRANSITIONS = {
    pb.TRANSITION_AUTO: Transition.AUTO,
    pb.TRANSITION_JOINT: Transition.JOINT,
    pb.TRANSITION_JOINT_EXPLICIT: Transition.JOINT_EXPLICIT,
}
_STATES = {
    pb.PROGRESS_STATE_PROBE: ProgressState.PROBE,
    pb.PROGRESS_STATE_REPLICATE: ProgressState.REPLICATE,
    pb.PROGRESS_STATE_SNAPSHOT: ProgressState.SNAPSHOT,
}
_ROLES = {
    pb.ROLE_FOLLOWER: Role.FOLLOWER,
    pb.ROLE_PRE_CANDIDATE: Role.PRE_CANDIDATE,
    pb.ROLE_CANDIDATE: Role.CANDIDATE,
    pb.ROLE_LEADER: Role.LEADER,
}


def _inverse(table: Mapping[Any, Any]) -> dict[Any, Any]:
    return {v: k for k, v in table.items()}


_OPS_PB, _TRANSITIONS_PB = _inverse(_OPS), _inverse(_TRANSITIONS)
_STATES_PB, _ROLES_PB = _inverse(_STATES), _inverse(_ROLES)


def membership_to_pb(m: Membership) -> pb.Configuration:
    return pb.Configuration(
        voters=m.voters,
        outgoing=m.outgoing,
        learners=m.learners,
        learners_next=m.learners_next,
        joint=m.joint,
        auto_leave=m.auto_leave,
    )


def membership_from_pb(c: pb.Configuration) -> Membership:
    return Membership(
        voters=tuple(c.voters),
        outgoing=tuple(c.outgoing),
        learners=tuple(c.learners),
        learners_next=tuple(c.learners_next),
        auto_leave=c.auto_leave,
    )


def faults_to_pb(peer: int, f: LinkFaults) -> pb.PeerFaults:
    return pb.PeerFaults(
        peer_id=peer,
        drop=f.drop,
        delay_ms=f.delay_ms,
        jitter_ms=f.jitter_ms,
        block_out=f.block_out,
        block_in=f.block_in,
    )


def _faults_from_pb(f: pb.PeerFaults) -> LinkFaults:
    return LinkFaults(f.drop, f.delay_ms, f.jitter_ms, f.block_out, f.block_in)


def _address_from_pb(a: pb.NodeAddress) -> NodeAddress:
    return NodeAddress(a.peer, a.admin)


def status_to_pb(s: NodeStatus) -> pb.Status:
    return pb.Status(
        node_id=s.node_id,
        role=_ROLES_PB[s.role],
        term=s.term,
        leader_id=s.leader_id,
        leader_address=s.leader_address,
        commit=s.commit,
        applied=s.applied,
        last_index=s.last_index,
        configuration=membership_to_pb(s.configuration),
        progress=[
            pb.PeerProgress(
                node_id=p.node_id,
                match=p.match,
                next=p.next,
                state=_STATES_PB[p.state],
                inflight=p.inflight,
                recent_active=p.recent_active,
            )
            for p in s.progress
        ],
        members=[
            pb.Member(node_id=n, address=pb.NodeAddress(peer=a.peer, admin=a.admin))
            for n, a in sorted(s.members.items())
        ],
        faults=[faults_to_pb(peer, f) for peer, f in sorted(s.faults.items())],
    )


def status_from_pb(s: pb.Status) -> NodeStatus:
    return NodeStatus(
        node_id=s.node_id,
        role=_ROLES[s.role],
        term=s.term,
        leader_id=s.leader_id,
        leader_address=s.leader_address,
        commit=s.commit,
        applied=s.applied,
        last_index=s.last_index,
        configuration=membership_from_pb(s.configuration),
        progress=tuple(
            PeerProgress(p.node_id, p.match, p.next, _STATES[p.state], p.inflight, p.recent_active)
            for p in s.progress
        ),
        members={m.node_id: _address_from_pb(m.address) for m in s.members},
        faults={f.peer_id: _faults_from_pb(f) for f in s.faults},
    )


def _change_reply(r: ChangeResult) -> pb.ChangeReply:
    return pb.ChangeReply(
        index=r.index, term=r.term, configuration=membership_to_pb(r.configuration)
    )


def _change_result(r: pb.ChangeReply) -> ChangeResult:
    return ChangeResult(r.index, r.term, membership_from_pb(r.configuration))


# -- validation ---------------------------------------------------------------


def _invalid(message: str) -> NoReturn:
    raise InvalidRequestError(message)


def _require_node(node: int, what: str = "node_id") -> int:
    if node <= 0:
        _invalid(f"{what} is required (a positive node id)")
    return node


def _check_address(address: NodeAddress, what: str) -> None:
    for name, value in (("peer", address.peer), ("admin", address.admin)):
        host, sep, port = value.rpartition(":")
        if not (sep and host and port.isdigit() and 0 < int(port) < 65536):
            _invalid(f"{what}.{name} must be host:port, got {value!r}")


def _role_in(m: Membership, node: int) -> str:
    if m.is_voter(node):
        return "a voter"
    if m.is_learner(node):
        return "a learner"
    return "not a member"


def _check_items(
    items: Sequence[ChangeItem], addresses: Mapping[int, NodeAddress], current: Membership
) -> None:
    """Each item must change something and name a node that exists (or bring
    the address of the one it adds)."""
    for i, item in enumerate(items):
        where = f"changes[{i}]"
        member = item.node in current.members()
        if item.op is ChangeOp.REMOVE:
            if not member:
                _invalid(f"{where}: node {item.node} is not a member, nothing to remove")
        elif not member and item.node not in addresses:
            _invalid(f"{where}: node {item.node} is new; its address (peer and admin) is required")
        elif member and item.node in addresses:
            _invalid(f"{where}: node {item.node} is already a member; give no address")
        elif item.op is ChangeOp.ADD_VOTER and item.node in current.voters:
            _invalid(f"{where}: node {item.node} is already a voter")
        elif item.op is ChangeOp.ADD_LEARNER and item.node in current.learners:
            _invalid(f"{where}: node {item.node} is already a learner")


def _check_unique(items: Sequence[ChangeItem]) -> None:
    seen: set[int] = set()
    for i, item in enumerate(items):
        if item.node in seen:
            _invalid(f"changes[{i}]: node {item.node} appears in more than one change")
        seen.add(item.node)


def _check_faults(entries: Sequence[pb.PeerFaults], status: NodeStatus) -> dict[int, LinkFaults]:
    known = set(status.configuration.members()) | set(status.members)
    out: dict[int, LinkFaults] = {}
    for i, f in enumerate(entries):
        where = f"faults[{i}]"
        peer = _require_node(f.peer_id, f"{where}.peer_id")
        if peer == status.node_id:
            _invalid(f"{where}: peer {peer} is this node; faults are set on links to peers")
        if peer not in known:
            _invalid(f"{where}: node {peer} is not a known peer (known: {sorted(known)})")
        if peer in out:
            _invalid(f"{where}: peer {peer} appears more than once")
        if not (math.isfinite(f.drop) and 0.0 <= f.drop <= 1.0):
            _invalid(f"{where}.drop must be a probability in [0, 1], got {f.drop!r}")
        for name in ("delay_ms", "jitter_ms"):
            value = getattr(f, name)
            if not (math.isfinite(value) and value >= 0.0):
                _invalid(f"{where}.{name} must be a finite number >= 0, got {value!r}")
        out[peer] = _faults_from_pb(f)
    return out


# -- the server ---------------------------------------------------------------

_CODES = {
    InvalidRequestError: grpc.StatusCode.INVALID_ARGUMENT,
    NotLeaderError: grpc.StatusCode.FAILED_PRECONDITION,
    RefusedError: grpc.StatusCode.FAILED_PRECONDITION,
    OutcomeUnknownError: grpc.StatusCode.UNAVAILABLE,
}

R = TypeVar("R")


class AdminServicer(pb_grpc.AdminServicer):
    """Validates every request, then calls the backend once."""

    def __init__(self, backend: AdminBackend) -> None:
        self.backend = backend

    async def _answer(
        self, context: grpc.aio.ServicerContext[Any, Any], work: Callable[[], Awaitable[R]]
    ) -> R:
        """Run ``work``; an ``AdminError`` becomes the status code and
        trailing metadata the client turns back into the same error."""
        try:
            return await work()
        except AdminError as err:
            meta: list[tuple[str, str]] = [(META_ERROR, err.kind)]
            if isinstance(err, NotLeaderError):
                meta += [
                    (META_LEADER_ID, str(err.leader_id)),
                    (META_LEADER_ADDRESS, err.leader_address),
                ]
            code = _CODES.get(type(err), grpc.StatusCode.UNKNOWN)
            await context.abort(code, err.message, trailing_metadata=tuple(meta))
            raise AssertionError("context.abort returns only by raising") from err

    async def _leader(self) -> NodeStatus:
        status = await self.backend.status()
        if status.role is not Role.LEADER:
            raise NotLeaderError(status.leader_id, status.leader_address)
        return status

    async def _change(
        self,
        items: Sequence[ChangeItem],
        transition: Transition,
        addresses: Mapping[int, NodeAddress],
        check: Callable[[Membership], None] = lambda _: None,
    ) -> pb.ChangeReply:
        _check_unique(items)
        for node, address in addresses.items():
            _check_address(address, f"address of node {node}")
        status = await self._leader()
        current = status.configuration
        check(current)
        _check_items(items, addresses, current)
        if current.joint:
            raise RefusedError(
                f"in a joint configuration ({current.describe()}); it must be left first"
            )
        change = ConfChange(tuple(items), transition)
        try:
            apply_change(current, change)
        except ConfChangeError as err:
            _invalid(f"the change {change.describe()} is impossible: {err}")
        return _change_reply(await self.backend.propose_change(change, addresses))

    async def AddLearner(
        self, request: pb.AddLearnerRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ChangeReply:
        async def work() -> pb.ChangeReply:
            node = _require_node(request.node_id)
            if not request.HasField("address"):
                _invalid("address is required: the new node's peer and admin host:port")

            def check(m: Membership) -> None:
                if node in m.members():
                    _invalid(f"node {node} is already {_role_in(m, node)}")

            items = [ChangeItem(ChangeOp.ADD_LEARNER, node)]
            addresses = {node: _address_from_pb(request.address)}
            return await self._change(items, Transition.AUTO, addresses, check)

        return await self._answer(context, work)

    async def Promote(
        self, request: pb.PromoteRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ChangeReply:
        async def work() -> pb.ChangeReply:
            node = _require_node(request.node_id)

            def check(m: Membership) -> None:
                if node not in m.learners:
                    _invalid(f"node {node} is {_role_in(m, node)}, not a learner")

            items = [ChangeItem(ChangeOp.ADD_VOTER, node)]
            return await self._change(items, Transition.AUTO, {}, check)

        return await self._answer(context, work)

    async def RemoveNode(
        self, request: pb.RemoveNodeRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ChangeReply:
        async def work() -> pb.ChangeReply:
            node = _require_node(request.node_id)
            items = [ChangeItem(ChangeOp.REMOVE, node)]
            return await self._change(items, Transition.AUTO, {})

        return await self._answer(context, work)

    async def ChangeMembership(
        self, request: pb.ChangeMembershipRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ChangeReply:
        async def work() -> pb.ChangeReply:
            if not request.changes:
                _invalid("changes is empty; name at least one (LeaveJoint leaves a joint config)")
            transition = _TRANSITIONS.get(request.transition)
            if transition is None:
                _invalid(f"unknown transition {request.transition}")
            items: list[ChangeItem] = []
            addresses: dict[int, NodeAddress] = {}
            for i, raw in enumerate(request.changes):
                op = _OPS.get(raw.op)
                if op is None:
                    _invalid(f"changes[{i}].op is required (ADD_VOTER, ADD_LEARNER or REMOVE)")
                node = _require_node(raw.node_id, f"changes[{i}].node_id")
                if raw.HasField("address"):
                    if op is ChangeOp.REMOVE:
                        _invalid(f"changes[{i}]: a removal takes no address")
                    addresses[node] = _address_from_pb(raw.address)
                items.append(ChangeItem(op, node))
            return await self._change(items, transition, addresses)

        return await self._answer(context, work)

    async def LeaveJoint(
        self, request: pb.LeaveJointRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ChangeReply:
        async def work() -> pb.ChangeReply:
            status = await self._leader()
            if not status.configuration.joint:
                raise RefusedError("not in a joint configuration, nothing to leave")
            return _change_reply(await self.backend.propose_change(ConfChange.leave(), {}))

        return await self._answer(context, work)

    async def CaughtUp(
        self, request: pb.CaughtUpRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.CaughtUpReply:
        async def work() -> pb.CaughtUpReply:
            node = _require_node(request.node_id)
            if request.max_lag < 0:
                _invalid(f"max_lag must be >= 0 entries, got {request.max_lag}")
            status = await self._leader()
            if node not in status.configuration.members():
                _invalid(f"node {node} is not a member")
            r = caught_up(status, node, request.max_lag)
            return pb.CaughtUpReply(
                match=r.match,
                commit=r.commit,
                lag=r.lag,
                recent_active=r.recent_active,
                caught_up=r.caught_up,
            )

        return await self._answer(context, work)

    async def TransferLeader(
        self, request: pb.TransferLeaderRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.TransferLeaderReply:
        async def work() -> pb.TransferLeaderReply:
            target = _require_node(request.target_id, "target_id")
            status = await self._leader()
            m = status.configuration
            if not m.is_voter(target):
                _invalid(f"node {target} is {_role_in(m, target)}; leadership goes only to voters")
            if target == status.node_id:
                return pb.TransferLeaderReply(leader_id=target, term=status.term)
            r = await self.backend.transfer_leader(target)
            return pb.TransferLeaderReply(leader_id=r.leader_id, term=r.term)

        return await self._answer(context, work)

    async def GetStatus(
        self, request: pb.GetStatusRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.Status:
        async def work() -> pb.Status:
            return status_to_pb(await self.backend.status())

        return await self._answer(context, work)

    async def SetFaults(
        self, request: pb.SetFaultsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.SetFaultsReply:
        async def work() -> pb.SetFaultsReply:
            if not request.heal and not request.faults:
                _invalid("nothing to do: set heal or give faults for at least one peer")
            wanted = _check_faults(request.faults, await self.backend.status())
            if request.heal:
                self.backend.heal()
            for peer, faults in wanted.items():
                self.backend.set_faults(peer, faults)
            after = await self.backend.status()
            return pb.SetFaultsReply(
                faults=[faults_to_pb(p, f) for p, f in sorted(after.faults.items())]
            )

        return await self._answer(context, work)


async def serve(
    backend: AdminBackend, host: str = "127.0.0.1", port: int = 0
) -> tuple[grpc.aio.Server, int]:
    """Start the admin server on the running event loop; port 0 picks a free
    port. Returns the server (``await server.stop(None)`` ends it) and its port."""
    server = grpc.aio.server()
    pb_grpc.add_AdminServicer_to_server(AdminServicer(backend), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot bind the admin API to {host}:{port}")
    await server.start()
    return server, bound


# -- the client ---------------------------------------------------------------


def _error_from_rpc(err: grpc.RpcError, target: str) -> AdminError:
    code = err.code() if isinstance(err, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = (err.details() if isinstance(err, grpc.Call) else "") or str(code)
    meta = dict(err.trailing_metadata() or ()) if isinstance(err, grpc.Call) else {}
    kind = meta.get(META_ERROR, "")
    if kind == NotLeaderError.kind:
        leader = str(meta.get(META_LEADER_ID, "0"))
        return NotLeaderError(
            int(leader) if leader.isdigit() else 0,
            str(meta.get(META_LEADER_ADDRESS, "")),
            details,
        )
    classes: dict[str, type[AdminError]] = {
        c.kind: c for c in (InvalidRequestError, RefusedError, OutcomeUnknownError)
    }
    if kind in classes:
        return classes[kind](details)
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return OutcomeUnknownError(
            f"no answer from {target} in time; a change asked for may still take effect"
        )
    error = AdminError(f"{target}: {details}")
    error.code = code.name
    return error


class AdminClient:
    """A blocking client of one node's admin API that follows the leader.

    Leader-only calls answered "not the leader" are retried at the leader the
    answer names, at most ``max_redirects`` times; the client then keeps
    talking to that leader. Use as a context manager or call ``close``.
    """

    def __init__(
        self,
        address: str,
        timeout: float = 10.0,
        follow_leader: bool = True,
        max_redirects: int = 3,
    ) -> None:
        self.timeout = timeout
        self.follow_leader = follow_leader
        self.max_redirects = max_redirects
        self.address = address
        self._channel = grpc.insecure_channel(address)
        self._stub = pb_grpc.AdminStub(self._channel)

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def _retarget(self, address: str) -> None:
        self._channel.close()
        self.address = address
        self._channel = grpc.insecure_channel(address)
        self._stub = pb_grpc.AdminStub(self._channel)

    def _call(self, method: str, request: Any, leader_only: bool = True) -> Any:
        redirects = 0
        while True:
            try:
                return getattr(self._stub, method)(request, timeout=self.timeout)
            except grpc.RpcError as rpc_err:
                err = _error_from_rpc(rpc_err, self.address)
            if not (
                leader_only
                and self.follow_leader
                and isinstance(err, NotLeaderError)
                and err.leader_address
                and err.leader_address != self.address
                and redirects < self.max_redirects
            ):
                raise err
            redirects += 1
            self._retarget(err.leader_address)

    def add_learner(self, node_id: int, address: NodeAddress) -> ChangeResult:
        req = pb.AddLearnerRequest(
            node_id=node_id, address=pb.NodeAddress(peer=address.peer, admin=address.admin)
        )
        return _change_result(self._call("AddLearner", req))

    def promote(self, node_id: int) -> ChangeResult:
        return _change_result(self._call("Promote", pb.PromoteRequest(node_id=node_id)))

    def remove_node(self, node_id: int) -> ChangeResult:
        return _change_result(self._call("RemoveNode", pb.RemoveNodeRequest(node_id=node_id)))

    def change_membership(
        self,
        changes: Sequence[ChangeItem],
        transition: Transition = Transition.AUTO,
        addresses: Mapping[int, NodeAddress] | None = None,
    ) -> ChangeResult:
        addresses = addresses or {}
        items = []
        for c in changes:
            item = pb.ChangeItem(op=_OPS_PB[c.op], node_id=c.node)
            if c.node in addresses and c.op is not ChangeOp.REMOVE:
                a = addresses[c.node]
                item.address.CopyFrom(pb.NodeAddress(peer=a.peer, admin=a.admin))
            items.append(item)
        req = pb.ChangeMembershipRequest(changes=items, transition=_TRANSITIONS_PB[transition])
        return _change_result(self._call("ChangeMembership", req))

    def leave_joint(self) -> ChangeResult:
        return _change_result(self._call("LeaveJoint", pb.LeaveJointRequest()))

    def caught_up(self, node_id: int, max_lag: int) -> CaughtUpResult:
        r = self._call("CaughtUp", pb.CaughtUpRequest(node_id=node_id, max_lag=max_lag))
        return CaughtUpResult(r.match, r.commit, r.lag, r.recent_active, r.caught_up)

    def transfer_leader(self, target_id: int) -> TransferResult:
        r = self._call("TransferLeader", pb.TransferLeaderRequest(target_id=target_id))
        return TransferResult(r.leader_id, r.term)

    def status(self) -> NodeStatus:
        """This node's status (no redirect: every node answers for itself)."""
        return status_from_pb(self._call("GetStatus", pb.GetStatusRequest(), leader_only=False))

    def set_faults(
        self, faults: Mapping[int, LinkFaults] | None = None, heal: bool = False
    ) -> dict[int, LinkFaults]:
        """Set this node's links to the given peers (after clearing all with
        ``heal``); returns every link with faults afterwards. No redirect."""
        entries = [faults_to_pb(p, f) for p, f in sorted((faults or {}).items())]
        r = self._call("SetFaults", pb.SetFaultsRequest(heal=heal, faults=entries), False)
        return {f.peer_id: _faults_from_pb(f) for f in r.faults}
