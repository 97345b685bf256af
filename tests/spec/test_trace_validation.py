"""Trace validation against spec/RaftReconfig.tla's actions: safe simulated
runs of every fault profile, with membership changes, have every step be its
action (no false alarm); a safe trace changed by hand at one step (a term, a
second vote in one term, a commit index jump) is rejected at that step, by
that step's action, naming the variable and the expected and actual values;
the unsafe modes the spec can see are rejected by the action or invariant
docs/spec-checking.md names.

The unsafe seeds are tests/sim/test_unsafe_modes.py's (fixtures found
offline, not results): what is asserted is the spec checker's verdict.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from checkers.spec import SpecError
from checkers.spec.check import (
    SpecCheck,
    SpecMapping,
    check_events,
    default_mapping_path,
    load_mapping,
)
from sim import PROFILES
from tests.sim.test_unsafe_modes import CASES
from tests.spec.runs import simulated_events
from traces.export.steps import spec_steps

Event = dict[str, Any]


run = simulated_events


@pytest.mark.parametrize("faults", sorted(PROFILES))
def test_safe_runs_of_every_profile_are_steps_of_the_spec(
    mapping: SpecMapping, tmp_path: Path, faults: str
) -> None:
    seed = sorted(PROFILES).index(faults) + 1
    events = run(tmp_path / "run.jsonl", seed, faults, 3 if seed % 2 else 5, 4.0)
    check = check_events(mapping, events)
    assert check.violations == [], [v.describe() for v in check.violations]
    assert check.validated > 1000 and check.unvalidated == 0


def test_the_safe_run_passes(mapping: SpecMapping, safe_run: list[Event]) -> None:
    assert check_events(mapping, safe_run).violations == []


def first_finding(check: SpecCheck) -> tuple[str, tuple[int, ...], str]:
    found = check.violations[0]
    return found.invariant, found.witnesses, "\n".join(found.states)


def mutated(events: list[Event], seq: int, **st: Any) -> list[Event]:
    """``events`` with the state after step ``seq`` changed (the fields kept
    until the node's next step that changes them, as a real delta would)."""
    changed = copy.deepcopy(events)
    changed[seq - 1].setdefault("st", {}).update(st)
    return changed


def steps_with_state(events: list[Event]) -> list[tuple[Any, Any, Any]]:
    """(step, the stepping node's state before it, after it) for every node step."""
    out, before = [], {}
    for step in spec_steps(events):
        if step.act != "crash":
            out.append((step, before.get(step.node), step.nodes[step.node]))
        before = dict(step.nodes)
    return out


def test_a_changed_term_is_not_the_action_of_its_step(
    mapping: SpecMapping, safe_run: list[Event]
) -> None:
    step, was, _now = next(
        (s, a, b) for s, a, b in steps_with_state(safe_run) if s.act == "applied" and a
    )
    check = check_events(mapping, mutated(safe_run, step.seq, term=was.term + 1))
    action, witnesses, details = first_finding(check)
    assert (action, witnesses) == ("Applied", (step.seq,))
    assert f"event {step.seq}, the applied of n{step.node}, is not the action Applied(" in (
        check.violations[0].message
    )
    assert f"currentTerm'[n]: expected {was.term}, actual {was.term + 1}" in details


def test_a_second_vote_in_one_term_is_not_a_vote_the_spec_allows(
    mapping: SpecMapping, safe_run: list[Event]
) -> None:
    # a vote_req the node rejected: it had voted for another in that term
    step, was, _now = next(
        (s, a, b)
        for s, a, b in steps_with_state(safe_run)
        if s.msg_type == "vote_req"
        and not s.msg_pre
        and a is not None
        and a.term == b.term == s.msg_term
        and a.vote not in (0, s.msg_from)
        and b.vote == a.vote
    )
    check = check_events(mapping, mutated(safe_run, step.seq, vote=step.msg_from))
    action, witnesses, details = first_finding(check)
    assert (action, witnesses) == ("HandleVoteRequest", (step.seq,))
    assert f"votedFor'[n]: expected one of {{{was.vote}}}, actual {step.msg_from}" in details


def test_a_commit_index_jump_is_not_what_the_leader_sent(
    mapping: SpecMapping, safe_run: list[Event]
) -> None:
    # a follower's heartbeat that moved its commit index: move it one further
    step, was, now = next(
        (s, a, b)
        for s, a, b in steps_with_state(safe_run)
        if s.msg_type == "heartbeat" and a is not None and a.commit < b.commit < b.last_index
    )
    check = check_events(mapping, mutated(safe_run, step.seq, commit=now.commit + 1))
    action, witnesses, details = first_finding(check)
    assert (action, witnesses) == ("HandleHeartbeat", (step.seq,))
    assert f"commitIndex'[n]: expected one of {{{was.commit}, {now.commit}}}" in details
    assert f"actual {now.commit + 1}" in details


def test_invariants_only_skips_validation(mapping: SpecMapping, safe_run: list[Event]) -> None:
    step, was, _now = next(
        (s, a, b) for s, a, b in steps_with_state(safe_run) if s.act == "applied" and a
    )
    changed = mutated(safe_run, step.seq, term=was.term + 1)
    check = check_events(mapping, changed, validate=False)
    assert check.validated == 0
    assert "Applied" not in {v.invariant for v in check.violations}


@pytest.mark.parametrize(
    ("mode", "caught_by"),
    [
        ("volatile-vote", "Restart"),
        ("commit-old-term", "HandleResponse"),
        ("config-before-noop", "ProposeConf"),
    ],
)
def test_unsafe_modes_are_rejected_by_an_action(
    mapping: SpecMapping, tmp_path: Path, mode: str, caught_by: str
) -> None:
    case = next(c for c in CASES if c.mode == mode)
    args = (case.seed, case.faults, case.nodes, case.duration_s, case.membership)
    unsafe = run(tmp_path / "unsafe.jsonl", *args, **case.raft, unsafe=(mode,))
    check = check_events(mapping, unsafe)
    assert caught_by in {v.invariant for v in check.violations}
    found = next(v for v in check.violations if v.invariant == caught_by)
    assert "FALSE (" in found.states[0] and "the step changed: " in found.states[-1]
    safe = run(tmp_path / "safe.jsonl", *args, **case.raft)
    assert check_events(mapping, safe).violations == []


def test_action_rules_must_fit_the_spec(tmp_path: Path) -> None:
    spec = default_mapping_path().with_name("RaftReconfig.tla")
    base = default_mapping_path().read_text(encoding="utf-8")
    cases = {
        'name = "Tick"\nparams = { n = "node" }': 'name = "Tick"\nparams = { x = "node" }',
        'name = "Crash"\nparams = { n = "node" }': 'name = "Nope"\nparams = { n = "node" }',
        'name = "Boot"\nparams = { n = "node" }': 'name = "Boot"\nparams = { n = "nodes" }',
    }
    messages = []
    for old, new in cases.items():
        path = tmp_path / "RaftReconfig.mapping.toml"
        (tmp_path / "RaftReconfig.tla").write_text(spec.read_text(encoding="utf-8"))
        path.write_text(base.replace(old, new, 1), encoding="utf-8")
        with pytest.raises(SpecError) as error:
            load_mapping(path)
        assert "\n" not in str(error.value)
        messages.append(error.value.message)
    assert "Tick takes (n), the mapping binds (x)" in messages[0]
    assert "defines no Nope" in messages[1]
    assert "unknown field 'nodes'" in messages[2]
