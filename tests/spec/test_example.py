"""A small spec in the subset (Peterson.tla, beside this file): its invariant
evaluates on states, its actions are checked on state pairs with their
parameters bound from outside, and an exploration of every state pair
finds the mutual-exclusion violation of the broken variant and none in the
real algorithm."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from checkers.spec import Evaluator, Fn, Spec, SpecError, Value

SPEC = Spec.load(Path(__file__).with_name("Peterson.tla"))
PROCS = frozenset({1, 2})

State = Mapping[str, Value]


def evaluator() -> Evaluator:
    return SPEC.evaluator({"Procs": PROCS})


def state(pc: tuple[str, str], flag: tuple[bool, bool], turn: int) -> dict[str, Value]:
    """A state with pc and flag given per process 1, 2 (functions on {1, 2} are tuples)."""
    return {"pc": pc, "flag": flag, "turn": turn}


def every_state(ev: Evaluator) -> list[dict[str, Value]]:
    """Every type-correct state, built from the spec's own sets."""
    labels = sorted(ev.value("Labels"))
    return [
        state((a, b), (f, g), t)
        for a, b in itertools.product(labels, repeat=2)
        for f, g in itertools.product((False, True), repeat=2)
        for t in sorted(PROCS)
    ]


def reachable(
    ev: Evaluator, candidates: Iterable[dict[str, Value]], next_action: str
) -> list[State]:
    """Breadth-first search through the state pairs for which the action holds."""
    universe = list(candidates)
    frontier = [s for s in universe if ev.holds("Init", s)]
    seen = {_key(s) for s in frontier}
    found: list[State] = list(frontier)
    while frontier:
        following = []
        for s in frontier:
            for t in universe:
                if _key(t) not in seen and ev.holds(next_action, s, t):
                    seen.add(_key(t))
                    following.append(t)
        found.extend(following)
        frontier = following
    return found


def _key(s: State) -> tuple[Value, ...]:
    return (s["pc"], s["flag"], s["turn"])


def test_the_invariants_evaluate_on_states() -> None:
    ev = evaluator()
    assert ev.holds("TypeOK", state(("idle", "cs"), (False, True), 1))
    assert not ev.holds("TypeOK", state(("idle", "gone"), (False, True), 1))
    assert ev.holds("MutualExclusion", state(("cs", "wait"), (True, True), 1))
    assert not ev.holds("MutualExclusion", state(("cs", "cs"), (True, True), 1))
    assert ev.value("InCS", state(("cs", "wait"), (True, True), 1)) == frozenset({1})


def test_an_action_is_checked_on_a_state_pair_with_its_parameter_bound() -> None:
    ev = evaluator()
    before = state(("wait", "wait"), (True, True), 2)
    after = state(("wait", "cs"), (True, True), 2)
    assert ev.holds("Enter", before, after, {"p": 2})
    assert not ev.holds("Enter", before, after, {"p": 1}), "it is not 1's turn"
    assert not ev.holds("Enter", before, state(("wait", "cs"), (True, False), 2), {"p": 2})
    assert ev.holds("Next", before, after)
    assert ev.value(ev.parse("[Next]_vars"), before, before) is True  # a stuttering step
    assert ev.value(ev.parse("<<Next>>_vars"), before, before) is False


def test_enabled_reads_the_guard_in_the_pre_state() -> None:
    ev = evaluator()
    waiting = state(("wait", "wait"), (True, True), 2)
    assert ev.enabled("Enter", waiting, {"p": 2})
    assert not ev.enabled("Enter", waiting, {"p": 1})
    assert not ev.enabled("Leave", waiting, {"p": 1})
    assert ev.enabled("Next", waiting)
    assert ev.enabled("Request", state(("idle", "cs"), (False, True), 1), {"p": 1})


def test_a_missing_parameter_or_a_missing_variable_is_a_clear_error() -> None:
    ev = evaluator()
    with pytest.raises(SpecError, match="no value for parameter p"):
        ev.holds("Enter", state(("idle", "idle"), (False, False), 1), None, {})
    with pytest.raises(SpecError, match="variable turn has no value in the next state"):
        ev.holds(
            "Request",
            state(("idle", "idle"), (False, False), 1),
            {"pc": ("set", "idle"), "flag": (True, False)},
            {"p": 1},
        )


def test_the_algorithm_keeps_mutual_exclusion_in_every_reachable_state() -> None:
    ev = evaluator()
    states = reachable(ev, every_state(ev), "Next")
    assert all(ev.holds("TypeOK", s) and ev.holds("MutualExclusion", s) for s in states)
    assert any(s["pc"] == ("cs", "wait") for s in states), (
        "a process does reach its critical section"
    )


def test_the_eager_variant_is_caught_by_the_invariant() -> None:
    ev = evaluator()
    states = reachable(ev, every_state(ev), "BadNext")
    bad = [s for s in states if not ev.holds("MutualExclusion", s)]
    assert bad and all(s["pc"] == ("cs", "cs") for s in bad)


def test_records_and_strings_work_as_states_too() -> None:
    ev = evaluator()
    named = {"pc": Fn({1: "idle", 3: "cs"}), "flag": (False, False), "turn": 1}
    assert not ev.holds("TypeOK", named)  # the domain is {1, 3}, not Procs


def test_the_temporal_formula_parses_but_does_not_evaluate() -> None:
    with pytest.raises(SpecError, match="temporal operator"):
        evaluator().holds(
            "Spec",
            state(("idle", "idle"), (False, False), 1),
            state(("idle", "idle"), (False, False), 1),
        )


def test_successors_find_exactly_the_states_the_brute_force_search_finds() -> None:
    ev = evaluator()
    by_pairs = {_key(s) for s in reachable(ev, every_state(ev), "Next")}
    start = [s for s in every_state(ev) if ev.holds("Init", s)]
    seen = {_key(s) for s in start}
    frontier: list[State] = start
    while frontier:
        following = []
        for s in frontier:
            for t in ev.successors("Next", s):
                assert ev.holds("Next", s, t), "every successor satisfies the action"
                if _key(t) not in seen:
                    seen.add(_key(t))
                    following.append(t)
        frontier = following
    assert seen == by_pairs


def test_successors_of_one_action_with_its_parameter() -> None:
    ev = evaluator()
    waiting = state(("wait", "wait"), (True, True), 2)
    assert ev.successors("Enter", waiting, {"p": 2}) == [state(("wait", "cs"), (True, True), 2)]
    assert ev.successors("Enter", waiting, {"p": 1}) == []
    idle = state(("idle", "idle"), (False, False), 1)
    assert len(ev.successors("Next", idle)) == 2  # either process may request


SKETCHES = """---- MODULE Sketch ----
EXTENDS Naturals
VARIABLES a, b
ReadsEarly == /\\ b' = a' + 1
              /\\ a' = 0
Partial == a' = 1
Choice == /\\ a' \\in {1, 2}
          /\\ b' = a' * 10
====
"""


def test_successors_branch_on_membership_and_name_what_is_wrong() -> None:
    ev = Spec.from_text(SKETCHES, "Sketch.tla").evaluator()
    now = {"a": 0, "b": 0}
    assert ev.successors("Choice", now) == [{"a": 1, "b": 10}, {"a": 2, "b": 20}]
    with pytest.raises(SpecError, match="a' is read before the action gives it a value"):
        ev.successors("ReadsEarly", now)
    with pytest.raises(SpecError, match="leaves b' without a value"):
        ev.successors("Partial", now)
