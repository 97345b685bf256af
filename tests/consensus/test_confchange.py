"""Entering and leaving joint consensus (consensus/confchange.py).

Thesis chapter 4: a single voter change may go directly (4.1, any majority of
C_old and of C_new overlap when they differ by one voter); anything larger
goes through the joint configuration C_old,new (4.3). Demoted voters keep
their vote in the outgoing half until the joint configuration is left.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consensus import ChangeItem, ChangeOp, ConfChange, ConfChangeError, Membership, Transition
from consensus.confchange import apply_change, enter_joint, leave_joint, voter_delta
from tests.harness import change

BASE = Membership(voters=(1, 2, 3), learners=(4,))


def test_single_voter_addition_skips_joint() -> None:
    after = apply_change(Membership(voters=(1, 2, 3)), change("add_voter 4"))
    assert after == Membership(voters=(1, 2, 3, 4))
    assert not after.joint


def test_single_voter_removal_skips_joint() -> None:
    after = apply_change(Membership(voters=(1, 2, 3)), change("remove 2"))
    assert after == Membership(voters=(1, 3))


def test_learner_changes_alongside_one_voter_change_stay_simple() -> None:
    after = apply_change(BASE, change("add_voter 5 add_learner 6 remove 4"))
    assert after == Membership(voters=(1, 2, 3, 5), learners=(6,))


def test_promoting_a_learner_is_a_single_voter_change() -> None:
    after = apply_change(BASE, change("add_voter 4"))
    assert after == Membership(voters=(1, 2, 3, 4))


def test_demoting_a_voter_without_joint() -> None:
    after = apply_change(BASE, change("add_learner 3"))
    assert after == Membership(voters=(1, 2), learners=(3, 4))


def test_two_voter_changes_enter_joint_with_auto_leave() -> None:
    after = apply_change(Membership(voters=(1, 2, 3)), change("add_voter 4 remove 3"))
    assert after.joint
    assert after.voters == (1, 2, 4)
    assert after.outgoing == (1, 2, 3)
    assert after.auto_leave


@pytest.mark.parametrize(
    ("transition", "auto_leave"), [(Transition.JOINT, True), (Transition.JOINT_EXPLICIT, False)]
)
def test_forced_joint_even_for_one_change(transition: Transition, auto_leave: bool) -> None:
    cc = ConfChange((ChangeItem(ChangeOp.ADD_VOTER, 4),), transition)
    after = apply_change(Membership(voters=(1, 2, 3)), cc)
    assert after.joint
    assert after.voters == (1, 2, 3, 4)
    assert after.outgoing == (1, 2, 3)
    assert after.auto_leave is auto_leave


def test_demotion_in_joint_waits_in_learners_next() -> None:
    joint = apply_change(Membership(voters=(1, 2, 3)), change("add_learner 3 add_voter 4"))
    assert joint.voters == (1, 2, 4)
    assert joint.outgoing == (1, 2, 3)
    assert joint.learners == ()
    assert joint.learners_next == (3,)
    assert joint.is_voter(3)  # still votes in the outgoing half
    assert joint.is_learner(3)
    left = apply_change(joint, ConfChange.leave())
    assert left == Membership(voters=(1, 2, 4), learners=(3,))


def test_leave_joint_keeps_learners_and_drops_removed_voters() -> None:
    joint = apply_change(BASE, change("remove 1 remove 2 add_voter 5 add_voter 6"))
    assert joint.outgoing == (1, 2, 3)
    assert joint.voters == (3, 5, 6)
    assert leave_joint(joint) == Membership(voters=(3, 5, 6), learners=(4,))


def test_remove_learner() -> None:
    assert apply_change(BASE, change("remove 4")) == Membership(voters=(1, 2, 3))


@pytest.mark.parametrize(
    ("current", "spec", "message"),
    [
        (Membership(voters=(1, 2, 3), outgoing=(1, 2)), "add_voter 4", "joint"),
        (Membership(voters=(1, 2, 3)), "leave", "not in a joint"),
        (Membership(voters=(1,)), "remove 1", "every voter"),
        (Membership(voters=(1, 2)), "remove 1 remove 2", "every voter"),
        (Membership(voters=(1, 2, 3)), "add_voter 0", "positive"),
    ],
)
def test_invalid_changes_raise(current: Membership, spec: str, message: str) -> None:
    with pytest.raises(ConfChangeError, match=message):
        apply_change(current, change(spec))


def test_enter_joint_twice_raises() -> None:
    joint = Membership(voters=(1, 2), outgoing=(1, 2, 3))
    with pytest.raises(ConfChangeError):
        enter_joint(joint, (), True)


def test_voter_delta() -> None:
    assert voter_delta(Membership(voters=(1, 2, 3)), Membership(voters=(1, 2, 4))) == 2
    assert voter_delta(Membership(voters=(1, 2, 3)), Membership(voters=(1, 2, 3, 4))) == 1


def test_describe_and_json_round_trip() -> None:
    cc = change("add_voter 4 remove 3 joint_explicit")
    assert cc.describe() == "add_voter 4, remove 3 (joint_explicit)"
    assert ConfChange.leave().describe() == "leave joint"
    assert ConfChange.from_json(cc.to_json()) == cc
    assert ConfChange.from_json(ConfChange.leave().to_json()).is_leave


@pytest.mark.parametrize(
    "obj",
    [
        {"items": "x"},
        {"items": [["add_voter"]]},
        {"items": [["promote", 3]]},
        {"items": [["add_voter", "3"]]},
        {"items": [], "transition": "sideways"},
    ],
)
def test_from_json_rejects_malformed(obj: dict[str, object]) -> None:
    with pytest.raises(ConfChangeError):
        ConfChange.from_json(obj)


items = st.lists(
    st.builds(ChangeItem, st.sampled_from(list(ChangeOp)), st.integers(1, 6)), max_size=4
).map(tuple)


@given(
    voters=st.lists(st.integers(1, 6), min_size=1, max_size=5, unique=True),
    learner_pool=st.lists(st.integers(1, 6), max_size=3, unique=True),
    batch=items,
    transition=st.sampled_from(list(Transition)),
)
def test_every_accepted_change_yields_a_valid_membership(
    voters: list[int],
    learner_pool: list[int],
    batch: tuple[ChangeItem, ...],
    transition: Transition,
) -> None:
    learners = sorted(set(learner_pool) - set(voters))
    start = Membership(voters=tuple(sorted(voters)), learners=tuple(learners))
    cc = ConfChange(batch, transition)
    if cc.is_leave:
        return
    try:
        after = apply_change(start, cc)
    except ConfChangeError:
        return
    after.validate()
    final = leave_joint(after) if after.joint else after
    final.validate()
    assert not after.joint or after.outgoing == start.voters
    # What the batch says, applied in order, is what the final config holds.
    expect_voters, expect_learners = set(start.voters), set(start.learners)
    for item in batch:
        expect_voters.discard(item.node)
        expect_learners.discard(item.node)
        if item.op is ChangeOp.ADD_VOTER:
            expect_voters.add(item.node)
        elif item.op is ChangeOp.ADD_LEARNER:
            expect_learners.add(item.node)
    assert set(final.voters) == expect_voters
    assert set(final.learners) == expect_learners
    # A direct (non-joint) change moves at most one vote.
    if not after.joint:
        assert voter_delta(start, after) <= 1
