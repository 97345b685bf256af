"""Membership values (consensus/membership.py): who votes, who only listens."""

from __future__ import annotations

import pytest

from consensus import ConfChangeError, Membership


def test_queries() -> None:
    m = Membership(voters=(2, 4, 5), outgoing=(1, 2, 3), learners=(6,), learners_next=(3,))
    assert m.joint
    assert [n for n in range(1, 8) if m.is_voter(n)] == [1, 2, 3, 4, 5]
    assert [n for n in range(1, 8) if m.is_learner(n)] == [3, 6]
    assert m.all_voters() == (1, 2, 3, 4, 5)
    assert m.members() == (1, 2, 3, 4, 5, 6)
    assert not Membership(voters=(1,)).joint


@pytest.mark.parametrize(
    ("membership", "message"),
    [
        (Membership(voters=(2, 1)), "sorted"),
        (Membership(voters=(1, 1)), "sorted"),
        (Membership(voters=(1, 2), learners=(2,)), "voters and learners"),
        (Membership(voters=(1,), outgoing=(1, 2), learners=(2,)), "voters and learners"),
        (Membership(voters=(1, 2), learners_next=(2,)), "learners_next"),
        (Membership(), "at least one voter"),
    ],
)
def test_validate_rejects(membership: Membership, message: str) -> None:
    with pytest.raises(ConfChangeError, match=message):
        membership.validate()


def test_validate_accepts_joint_with_learners_next() -> None:
    Membership(voters=(1, 2), outgoing=(1, 2, 3), learners=(4,), learners_next=(3,)).validate()


def test_describe() -> None:
    m = Membership(voters=(1, 2, 4), outgoing=(1, 2, 3), learners=(5,), learners_next=(3,))
    assert m.describe() == ("voters 1,2,4 & 1,2,3 learners 5 (learners after leaving joint: 3)")
    assert Membership(voters=(1,)).describe() == "voters 1"


def test_json_round_trip() -> None:
    for m in (
        Membership(voters=(1, 2, 3)),
        Membership(voters=(1, 2, 4), outgoing=(1, 2, 3), learners=(5,), learners_next=(3,)),
        Membership(voters=(1, 2), outgoing=(1,), auto_leave=True),
    ):
        assert Membership.from_json(m.to_json()) == m
    assert Membership(voters=(1,)).to_json() == {"voters": [1]}


def test_from_json_rejects_non_id_lists() -> None:
    with pytest.raises(ConfChangeError, match="learners"):
        Membership.from_json({"voters": [1], "learners": ["2"]})
    with pytest.raises(ConfChangeError, match="voters"):
        Membership.from_json({"voters": 1})
