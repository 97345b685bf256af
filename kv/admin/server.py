"""The grpc.aio admin server: every request is validated here, once.

A malformed or impossible request is answered INVALID_ARGUMENT, naming what
is wrong, before the backend is called; a leader-only request to another
node is answered FAILED_PRECONDITION with the leader in trailing metadata.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, NoReturn, TypeVar

import grpc
import grpc.aio

from consensus.confchange import ChangeItem, ChangeOp, ConfChange, Transition, apply_change
from consensus.core import Role
from consensus.errors import ConfChangeError
from consensus.membership import Membership
from kv.admin.convert import (
    _OPS,
    _TRANSITIONS,
    _address_from_pb,
    _change_reply,
    _faults_from_pb,
    faults_to_pb,
    status_to_pb,
)
from kv.admin.values import (
    META_ERROR,
    META_LEADER_ADDRESS,
    META_LEADER_ID,
    AdminBackend,
    AdminError,
    InvalidRequestError,
    NodeAddress,
    NodeStatus,
    NotLeaderError,
    OutcomeUnknownError,
    RefusedError,
    caught_up,
)
from kv.netfaults import LinkFaults
from kv.proto import admin_pb2 as pb
from kv.proto import admin_pb2_grpc as pb_grpc

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
