"""``RaftConfig.unsafe``: the names are checked, carried through JSON, and a
correct core's configuration reads as it did before unsafe modes existed."""

from __future__ import annotations

import pytest

from consensus import ChangeItem, ChangeOp, ConfChange, CoreMisuse, Membership, RaftConfig
from consensus.confchange import apply_change
from consensus.unsafe import CATALOG, MODES


def test_the_six_modes_in_order() -> None:
    assert MODES == (
        "learner-early-vote",
        "no-joint",
        "commit-old-term",
        "volatile-vote",
        "config-before-noop",
        "lease-without-checkquorum",
    )
    assert all(mode.bug and mode.reference and mode.caught_by for mode in CATALOG)


def test_off_by_default_and_absent_from_the_json() -> None:
    config = RaftConfig()
    assert config.unsafe == ()
    assert "unsafe" not in config.to_json()
    assert RaftConfig.from_json(config.to_json()).unsafe == ()


def test_modes_survive_the_json_round_trip() -> None:
    config = RaftConfig(unsafe=("no-joint", "volatile-vote"))
    assert config.to_json()["unsafe"] == ["no-joint", "volatile-vote"]
    assert RaftConfig.from_json(config.to_json()) == config


def test_an_unknown_mode_is_named_with_the_known_ones() -> None:
    with pytest.raises(CoreMisuse) as err:
        RaftConfig(unsafe=("no-joint", "fast-commit")).validate()
    assert "unknown unsafe mode(s): fast-commit" in str(err.value)
    assert "known: " + ", ".join(MODES) in str(err.value)


def test_a_mode_named_twice_or_a_bad_shape_is_refused() -> None:
    with pytest.raises(CoreMisuse, match="named twice: no-joint"):
        RaftConfig(unsafe=("no-joint", "no-joint")).validate()
    with pytest.raises(CoreMisuse, match="must be a list of mode names"):
        RaftConfig.from_json({"unsafe": "no-joint"})


def test_skip_joint_applies_a_two_voter_change_directly() -> None:
    current = Membership((1, 2, 3), learners=(4, 5))
    change = ConfChange((ChangeItem(ChangeOp.ADD_VOTER, 4), ChangeItem(ChangeOp.ADD_VOTER, 5)))
    assert apply_change(current, change).joint
    direct = apply_change(current, change, skip_joint=True)
    assert direct == Membership((1, 2, 3, 4, 5))
