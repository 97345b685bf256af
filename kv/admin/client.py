"""A blocking admin client that returns plain values and follows the leader."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import grpc
import grpc.aio

from consensus.confchange import ChangeItem, ChangeOp, Transition
from kv.admin.convert import (
    _OPS_PB,
    _TRANSITIONS_PB,
    _change_result,
    _faults_from_pb,
    address_to_pb,
    faults_to_pb,
    status_from_pb,
)
from kv.admin.values import (
    META_ERROR,
    META_LEADER_ADDRESS,
    META_LEADER_ID,
    AdminError,
    CaughtUpResult,
    ChangeResult,
    InvalidRequestError,
    NodeAddress,
    NodeStatus,
    NotLeaderError,
    OutcomeUnknownError,
    RefusedError,
    TransferResult,
)
from kv.netfaults import LinkFaults
from kv.proto import admin_pb2 as pb
from kv.proto import admin_pb2_grpc as pb_grpc

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
        req = pb.AddLearnerRequest(node_id=node_id, address=address_to_pb(address))
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
                item.address.CopyFrom(address_to_pb(a))
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
