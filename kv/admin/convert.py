"""Protobuf <-> plain values, in one place for the server and the client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consensus.confchange import ChangeOp, Transition
from consensus.core import Role
from consensus.membership import Membership
from consensus.progress import ProgressState
from kv.admin.values import (
    ChangeResult,
    NodeAddress,
    NodeStatus,
    PeerProgress,
)
from kv.netfaults import LinkFaults
from kv.proto import admin_pb2 as pb

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


def address_to_pb(a: NodeAddress) -> pb.NodeAddress:
    return pb.NodeAddress(peer=a.peer, admin=a.admin, http=a.http)


def _address_from_pb(a: pb.NodeAddress) -> NodeAddress:
    return NodeAddress(a.peer, a.admin, a.http)


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
            pb.Member(node_id=n, address=address_to_pb(a)) for n, a in sorted(s.members.items())
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
