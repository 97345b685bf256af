"""Majority and joint-majority arithmetic (consensus/quorum.py).

Every safety argument in Raft ends in "two majorities intersect"; these tests
pin the arithmetic, including the joint rule (thesis section 4.3: decisions
in C_old,new need a majority of C_old *and* of C_new).
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consensus import Membership
from consensus.quorum import (
    UNBOUNDED,
    VoteResult,
    committed_index,
    has_quorum,
    joint_committed_index,
    joint_vote_result,
    majority,
    vote_result,
)

W, P, L = VoteResult.WON, VoteResult.PENDING, VoteResult.LOST


@pytest.mark.parametrize(("n", "need"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 4), (7, 4)])
def test_majority(n: int, need: int) -> None:
    assert majority(n) == need


def test_committed_index_is_the_majority_th_highest_ack() -> None:
    assert committed_index((1, 2, 3), {1: 5, 2: 3, 3: 1}) == 3
    assert committed_index((1, 2, 3), {1: 5}) == 0  # missing acks count as 0
    assert committed_index((1, 2, 3, 4), {1: 9, 2: 9, 3: 2, 4: 1}) == 2
    assert committed_index((1,), {1: 7}) == 7


def test_committed_index_of_no_voters_is_unbounded() -> None:
    assert committed_index((), {1: 3}) == UNBOUNDED


def test_committed_index_ignores_non_voters() -> None:
    # A learner (4) acknowledging everything moves nothing: learners never
    # count toward a quorum.
    assert committed_index((1, 2, 3), {1: 5, 2: 1, 3: 1, 4: 100}) == 1


def test_joint_committed_index_is_the_minimum_of_both_halves() -> None:
    joint = Membership(voters=(1, 4, 5), outgoing=(1, 2, 3))
    acked = {1: 10, 2: 10, 3: 10, 4: 2, 5: 1}
    assert committed_index(joint.voters, acked) == 2
    assert committed_index(joint.outgoing, acked) == 10
    assert joint_committed_index(joint, acked) == 2
    plain = Membership(voters=(1, 2, 3))
    assert joint_committed_index(plain, acked) == 10


@pytest.mark.parametrize(
    ("votes", "expected"),
    [
        ({}, P),
        ({1: True}, P),
        ({1: True, 2: True}, W),
        ({1: True, 2: False}, P),
        ({1: False, 2: False}, L),
        ({1: True, 2: False, 3: False}, L),
        ({1: True, 2: True, 3: False}, W),
    ],
)
def test_vote_result(votes: dict[int, bool], expected: VoteResult) -> None:
    assert vote_result((1, 2, 3), votes) is expected


def test_vote_result_of_no_voters_is_won() -> None:
    assert vote_result((), {}) is W


@pytest.mark.parametrize(
    ("incoming", "outgoing", "expected"),
    [
        (W, W, W),
        (W, P, P),
        (P, W, P),
        (P, P, P),
        (W, L, L),
        (L, W, L),
        (L, P, L),
        (P, L, L),
        (L, L, L),
    ],
)
def test_joint_vote_result_needs_both_halves(
    incoming: VoteResult, outgoing: VoteResult, expected: VoteResult
) -> None:
    # Incoming half {1, 2, 3}, outgoing half {4, 5, 6} (disjoint, so each
    # half's result can be set independently).
    halves = {
        W: lambda a, b, c: {a: True, b: True},
        P: lambda a, b, c: {a: True},
        L: lambda a, b, c: {a: False, b: False},
    }
    votes = {**halves[incoming](1, 2, 3), **halves[outgoing](4, 5, 6)}
    joint = Membership(voters=(1, 2, 3), outgoing=(4, 5, 6))
    assert joint_vote_result(joint, votes) is expected


def test_has_quorum() -> None:
    joint = Membership(voters=(1, 4, 5), outgoing=(1, 2, 3))
    assert has_quorum(joint, {1, 2, 4})
    assert not has_quorum(joint, {1, 2, 3})  # no majority of the incoming half
    assert not has_quorum(joint, {1, 4, 5})  # no majority of the outgoing half
    assert has_quorum(Membership(voters=(1, 2, 3)), [2, 3])


voter_sets = st.lists(st.integers(1, 7), min_size=1, max_size=7, unique=True).map(
    lambda xs: tuple(sorted(xs))
)


@given(voters=voter_sets, acks=st.dictionaries(st.integers(1, 7), st.integers(0, 20)))
def test_committed_index_matches_brute_force(voters: tuple[int, ...], acks: dict[int, int]) -> None:
    """The committed index is the largest i that a majority acknowledged."""
    best = max(
        (i for i in range(21) if sum(acks.get(v, 0) >= i for v in voters) >= majority(len(voters))),
        default=0,
    )
    assert committed_index(voters, acks) == best


@given(
    incoming=voter_sets,
    outgoing=voter_sets,
    votes=st.dictionaries(st.integers(1, 7), st.booleans()),
)
def test_joint_vote_result_matches_definition(
    incoming: tuple[int, ...], outgoing: tuple[int, ...], votes: dict[int, bool]
) -> None:
    joint = Membership(voters=incoming, outgoing=outgoing)
    result = joint_vote_result(joint, votes)
    halves = (vote_result(incoming, votes), vote_result(outgoing, votes))
    assert (result is W) == (halves == (W, W))
    assert (result is L) == (L in halves)


def test_any_two_majorities_intersect() -> None:
    """The property every safety argument rests on, checked exhaustively."""
    for n in range(1, 7):
        voters = range(1, n + 1)
        quorums = [
            set(c) for k in range(majority(n), n + 1) for c in itertools.combinations(voters, k)
        ]
        assert all(a & b for a in quorums for b in quorums)
