"""spec/RaftReconfig.tla against traces: safe simulated runs with membership
changes pass every property; unsafe modes whose bug the states show, and
hand-made traces that break one property each, are rejected by the property
that says so; the mapping is checked against the spec.

The unsafe seeds are those of tests/sim/test_unsafe_modes.py (fixtures found
offline, not results): what is asserted is the spec checker's verdict.
"""

from __future__ import annotations

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
from tests.spec.runs import simulated_events

Event = dict[str, Any]


def simulated(
    tmp_path: Path, seed: int, faults: str, nodes: int, duration_s: float, **kw: Any
) -> list[Event]:
    return simulated_events(
        tmp_path / f"run-{seed}-{faults}.jsonl", seed, faults, nodes, duration_s, **kw
    )


def failed(check: SpecCheck) -> set[str]:
    return {v.invariant for v in check.violations}


@pytest.mark.parametrize(
    ("seed", "faults", "nodes"),
    [(1, "partitions", 3), (2, "crashes", 5), (3, "chaos", 5), (4, "default", 3)],
)
def test_safe_runs_with_membership_changes_pass_every_property(
    mapping: SpecMapping, tmp_path: Path, seed: int, faults: str, nodes: int
) -> None:
    events = simulated(tmp_path, seed, faults, nodes, 5.0)
    check = check_events(mapping, events)
    assert check.violations == [], [v.describe() for v in check.violations]
    assert check.states > 1000


@pytest.mark.parametrize(
    ("mode", "seed", "caught_by"),
    [
        ("learner-early-vote", 1, "LearnersNeverVoteStep"),
        ("no-joint", 2, "ConfigChangeOverlapStep"),
    ],
)
def test_unsafe_modes_the_states_show_are_rejected(
    mapping: SpecMapping, tmp_path: Path, mode: str, seed: int, caught_by: str
) -> None:
    unsafe = check_events(mapping, simulated(tmp_path, seed, "partitions", 3, 10.0, unsafe=(mode,)))
    assert caught_by in failed(unsafe)
    first = next(v for v in unsafe.violations if v.invariant == caught_by)
    assert first.checker == "spec:RaftReconfig"
    assert f"after event {first.witnesses[-1]}" in first.message
    assert any(line.startswith("config[") for line in first.states)
    same_seed = check_events(mapping, simulated(tmp_path, seed, "partitions", 3, 10.0))
    assert same_seed.violations == []


# Hand-made traces: node input events with their `st`, nothing else (the
# spec checker reads only those and the environment's crashes).

FULL = {
    "term": 1,
    "role": "follower",
    "vote": 0,
    "lead": 0,
    "commit": 0,
    "applied": 0,
    "last": 0,
    "last_term": 0,
    "snap": 0,
    "conf": {"voters": [1, 2, 3]},
}


class Trace:
    def __init__(self, nodes: int = 3) -> None:
        self.events: list[Event] = []
        for node in range(1, nodes + 1):
            self.step(node, "boot", **FULL)

    def step(self, node: int, act: str = "tick", **st: Any) -> Trace:
        seq = len(self.events) + 1
        inputs = {"type": "vote_req", "mid": "1:1"} if act == "recv" else {}
        self.events.append(
            {"seq": seq, "t": seq, "n": f"n{node}", "act": act, "in": inputs, "st": st}
        )
        return self

    def crash(self, node: int) -> Trace:
        seq = len(self.events) + 1
        self.events.append({"seq": seq, "t": seq, "n": "env", "act": "crash", "node": node})
        return self

    def failures(self, mapping: SpecMapping) -> set[str]:
        """The properties these steps break. They carry no messages, so they
        are judged by the invariants alone (test_trace_validation.py
        validates actions on traces that have them)."""
        return failed(check_events(mapping, self.events, validate=False))


def elect(trace: Trace, node: int, term: int, last: int) -> Trace:
    trace.step(node, "tick", term=term, role="candidate", vote=node)
    return trace.step(node, "recv", role="leader", lead=node, last=last, last_term=term)


def test_a_legal_hand_made_run_passes(mapping: SpecMapping) -> None:
    trace = elect(Trace(), 1, 2, 1)
    trace.step(2, "recv", term=2, vote=1, lead=1, last=1, last_term=2, commit=1)
    trace.step(1, "recv", commit=1, applied=1).crash(1)
    trace.step(1, "restart", **{**FULL, "term": 2, "vote": 1, "last": 1, "last_term": 2})
    elect(trace, 2, 3, 2)
    assert trace.failures(mapping) == set()


def test_two_leaders_in_one_term_break_election_safety_even_one_after_the_other(
    mapping: SpecMapping,
) -> None:
    trace = elect(Trace(), 1, 2, 1)
    trace.step(1, "recv", role="follower", lead=0)  # steps down, still in term 2
    elect(trace, 2, 2, 1)
    check = check_events(mapping, trace.events, validate=False)
    assert failed(check) == {"ElectionSafety"}
    (violation,) = check.violations
    assert violation.witnesses == (len(trace.events),)
    assert "elected = {<<2, 1>>, <<2, 2>>}" in violation.states


def test_a_leader_without_a_committed_entry_breaks_leader_completeness(
    mapping: SpecMapping,
) -> None:
    trace = Trace()
    trace.step(3, "recv", term=1, commit=2, applied=2, last=2, last_term=1)
    elect(trace, 1, 2, 1)
    assert trace.failures(mapping) == {"LeaderCompleteness"}


def test_a_shrinking_leader_log_and_a_receding_commit_are_caught(mapping: SpecMapping) -> None:
    trace = elect(Trace(), 1, 2, 3)
    trace.step(1, "recv", last=2)
    assert trace.failures(mapping) == {"LeaderAppendOnlyStep"}
    trace = Trace().step(2, "recv", last=2, last_term=1, commit=2).step(2, "recv", commit=1)
    assert trace.failures(mapping) == {"CommitNeverRecedesStep"}


def test_a_commit_beyond_the_log_breaks_the_summary(mapping: SpecMapping) -> None:
    trace = Trace().step(2, "recv", commit=3, last=2, last_term=1)
    assert trace.failures(mapping) == {"LogSummaryConsistent"}


def test_learners_may_not_vote_or_campaign_but_voters_may(mapping: SpecMapping) -> None:
    learner = {"voters": [1, 2, 3], "learners": [4]}
    trace = Trace()
    trace.step(4, "boot", **{**FULL, "conf": learner})
    trace.step(4, "recv", term=2, vote=1)
    assert trace.failures(mapping) == {"LearnersNeverVoteStep"}
    trace = Trace()
    trace.step(4, "boot", **{**FULL, "conf": learner})
    trace.step(4, "tick", role="precandidate")
    assert trace.failures(mapping) == {"LearnersNeverCampaignStep"}
    trace = Trace().step(3, "recv", term=2, vote=1).step(2, "tick", role="precandidate")
    assert trace.failures(mapping) == set()


def test_configuration_changes_must_be_legal_and_keep_quorums_overlapping(
    mapping: SpecMapping,
) -> None:
    def change(conf: dict[str, list[int]], start: dict[str, list[int]] | None = None) -> set[str]:
        trace = Trace().step(1, "recv", last=2, last_term=1, commit=2)
        if start is not None:
            trace.step(1, "applied", applied=1, conf=start)
        applied = 1 if start is None else 2  # one entry applied: a step both judge
        return trace.step(1, "applied", applied=applied, conf=conf).failures(mapping)

    both = {"ConfigChangeOverlapStep", "LegalConfigTransitionStep"}
    assert change({"voters": [1, 2, 3, 4]}) == set()  # one voter more
    assert change({"voters": [1, 2, 4], "outgoing": [1, 2, 3]}) == set()  # enter joint
    joint = {"voters": [1, 2, 4], "outgoing": [1, 2, 3]}
    assert change({"voters": [1, 2, 4]}, joint) == set()  # leave joint
    assert change({"voters": [1, 2, 3]}, joint) == {"LegalConfigTransitionStep"}  # wrong half
    assert change({"voters": [1, 2, 4]}) == both  # replace, no joint
    assert change({"voters": [1, 2, 3, 4, 5]}) == both  # two voters more
    # 4 voters, one replaced: majorities of 3 still meet, but two voters
    # changed without a joint configuration (the hunt's no-joint counterexample)
    four = {"voters": [1, 2, 3, 4]}
    assert change({"voters": [1, 2, 3, 5]}, four) == {"LegalConfigTransitionStep"}


def test_the_mapping_must_fit_the_spec(tmp_path: Path) -> None:
    source = default_mapping_path().read_text()
    spec = default_mapping_path().with_name("RaftReconfig.tla")
    (tmp_path / "RaftReconfig.tla").write_text(spec.read_text())
    cases = {
        'currentTerm = "term"': ('currentTerm = "trem"', "node.currentTerm: unknown field 'trem'"),
        'role = "role"\n': ("", "no mapping for VARIABLE(S) role"),
        '"ElectionSafety",': ('"ElectionSafty",', "RaftReconfig defines no ElectionSafty"),
    }
    for old, (new, message) in cases.items():
        bad = tmp_path / "bad.mapping.toml"
        bad.write_text(source.replace(old, new, 1))
        with pytest.raises(SpecError) as error:
            load_mapping(bad)
        assert str(error.value).startswith(f"{bad}: ") and message in str(error.value)


def test_the_checker_plugs_in_beside_the_others(tmp_path: Path) -> None:
    from checkers import Registry, run_checkers
    from checkers.registry import BUILTIN
    from checkers.spec.checker import INFO

    events = simulated(tmp_path, 1, "partitions", 3, 10.0, unsafe=("learner-early-vote",))
    registry = Registry([*BUILTIN, INFO])
    report = run_checkers(iter(events), registry.create({}, ["learners-never-vote", INFO.name]))
    assert {v.checker for v in report.violations} == {"learners-never-vote", "spec-invariants"}
    spec_found = [v for v in report.violations if v.checker == "spec-invariants"]
    # the learner's vote breaks the step property and is no step of HandleVoteRequest
    assert {v.invariant for v in spec_found} == {"LearnersNeverVoteStep", "HandleVoteRequest"}
    action = next(v for v in spec_found if v.invariant == "HandleVoteRequest")
    assert "votedFor'[n]: expected one of" in "\n".join(action.states)


def test_a_merged_trace_of_per_node_files_passes(mapping: SpecMapping, tmp_path: Path) -> None:
    from tests.traces.pernode import split_run
    from traces.merge import merge_traces

    files = tmp_path / "traces"
    split_run(files, seed=5, level="state", membership=True)
    _header, events = merge_traces([files], files / "history.jsonl")
    assert any(e["act"] == "restart" for e in events), "the run crashes and restarts nodes"
    check = check_events(mapping, events)
    assert check.violations == [], [v.describe() for v in check.violations]
    assert check.states > 100


def test_an_evaluation_error_names_the_property_and_the_event(
    mapping: SpecMapping, tmp_path: Path
) -> None:
    spec = default_mapping_path().with_name("RaftReconfig.tla").read_text()
    broken = spec.replace(
        "    \\A e, f \\in elected : e[1] = f[1] => e[2] = f[2]",
        '    \\A e, f \\in elected : e[1] = "one" => e[2] = f[2]',
    )
    assert broken != spec
    (tmp_path / "RaftReconfig.tla").write_text(broken)
    (tmp_path / "RaftReconfig.mapping.toml").write_text(default_mapping_path().read_text())
    trace = elect(Trace(), 1, 2, 1)
    with pytest.raises(SpecError) as error:
        check_events(load_mapping(tmp_path / "RaftReconfig.mapping.toml"), trace.events)
    text = str(error.value)
    assert text.startswith(str(tmp_path / "RaftReconfig.tla") + ":")
    assert f"(evaluating ElectionSafety on the state after event {len(trace.events)})" in text
