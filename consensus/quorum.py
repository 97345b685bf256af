"""Majority and joint-majority arithmetic, and nothing else.

Kept apart from the protocol (as in etcd-io/raft's ``quorum/``) because every
safety argument in Raft ends in "two majorities intersect", and that argument
should be checkable by reading one short file. Joint configurations need a
majority of the incoming voters *and* of the outgoing voters: the committed
index of a joint configuration is the smaller of the two, a joint election is
won only when both halves are won.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from consensus.membership import Membership

#: The committed index of an empty voter set: no constraint, so that the
#: joint minimum of a non-joint configuration is its incoming half's index.
UNBOUNDED = 1 << 62


class VoteResult(StrEnum):
    PENDING = "pending"
    LOST = "lost"
    WON = "won"


def majority(n: int) -> int:
    """Votes needed out of ``n``."""
    return n // 2 + 1


def committed_index(voters: Sequence[int], acked: Mapping[int, int]) -> int:
    """The largest index acknowledged by a majority of ``voters``.

    ``acked`` maps a voter to the highest index it acknowledged (missing = 0).
    """
    if not voters:
        return UNBOUNDED
    indexes = sorted((acked.get(v, 0) for v in voters), reverse=True)
    return indexes[majority(len(voters)) - 1]


def joint_committed_index(config: Membership, acked: Mapping[int, int]) -> int:
    incoming = committed_index(config.voters, acked)
    if not config.outgoing:
        return incoming
    return min(incoming, committed_index(config.outgoing, acked))


def vote_result(voters: Sequence[int], votes: Mapping[int, bool]) -> VoteResult:
    if not voters:
        return VoteResult.WON
    granted = sum(1 for v in voters if votes.get(v) is True)
    missing = sum(1 for v in voters if v not in votes)
    need = majority(len(voters))
    if granted >= need:
        return VoteResult.WON
    if granted + missing >= need:
        return VoteResult.PENDING
    return VoteResult.LOST


def joint_vote_result(config: Membership, votes: Mapping[int, bool]) -> VoteResult:
    incoming = vote_result(config.voters, votes)
    if not config.outgoing:
        return incoming
    outgoing = vote_result(config.outgoing, votes)
    if incoming is outgoing:
        return incoming
    if VoteResult.LOST in (incoming, outgoing):
        return VoteResult.LOST
    return VoteResult.PENDING


def has_quorum(config: Membership, members: Sequence[int] | set[int]) -> bool:
    """Whether ``members`` include a (joint) majority of the voters."""
    present = {v: True for v in members}
    return joint_vote_result(config, present) is VoteResult.WON
