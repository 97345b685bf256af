"""The properties of spec/RaftReconfig.tla judged from what a step's effects
did: Log Matching (append records), State Machine Safety (apply records),
one uncommitted configuration change (the configuration flag of appended
entries) and current lease reads (lease_read records).

Each is tested on a safe run, where it must hold and must have judged
something (the evidence was gathered, not skipped), and on that run changed
by hand at one record, or on an unsafe mode's run, where it must fail at
the changed step and say what it compared. The fold that gathers the
evidence (traces.export.steps.StepFold) is tested on hand-written events.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from checkers.spec.check import (
    SHOWN_ENTRIES,
    SpecCheck,
    SpecMapping,
    check_events,
)
from tests.checkers import scenarios
from tests.sim.test_unsafe_modes import CASES
from tests.spec.runs import simulated_events
from traces.export.steps import UNKNOWN_TERM, StepFold, spec_steps
from traces.schema import INPUT_ACTIONS

Event = dict[str, Any]


def findings(check: SpecCheck, name: str) -> list[Any]:
    return [v for v in check.violations if v.invariant == name]


def change_second_copy(
    events: list[Event],
    act: str,
    key: Callable[[list[int]], Any],
    change: Callable[[list[int]], None],
) -> tuple[list[Event], int, list[int]]:
    """``events`` with ``change`` made to the first entry of an ``act``
    record (append or apply) that another node's record already held (by
    ``key``): the step's seq and the changed entry."""
    changed = copy.deepcopy(events)
    first: dict[Any, str] = {}
    for event in changed:
        if event["act"] != act:
            continue
        for entry in event["entries"]:
            holder = first.setdefault(key(entry), event["n"])
            # past the first few indexes: the history is then shown by excerpt
            if holder != event["n"] and entry[0] > SHOWN_ENTRIES + 4:
                change(entry)
                return changed, event["seq"], entry
    raise AssertionError(f"no second copy of an entry in the {act} records")


def owners(events: list[Event]) -> dict[int, int]:
    """Event seq -> the seq of the node step it belongs to (its own for an input)."""
    step: dict[str, int] = {}
    owner = {}
    for e in events:
        if e["act"] in INPUT_ACTIONS:
            step[e["n"]] = e["seq"]
        owner[e["seq"]] = step.get(e["n"], 0)
    return owner


def step_of(events: list[Event], seq: int) -> int:
    """The seq of the node step whose effect event ``seq`` is."""
    return owners(events)[seq]


def test_the_safe_run_holds_every_evidence_property(
    mapping: SpecMapping, safe_run: list[Event]
) -> None:
    check = check_events(mapping, safe_run)
    assert check.violations == [], [v.describe() for v in check.violations]
    appended = {(e[0], e[1]) for ev in safe_run if ev["act"] == "append" for e in ev["entries"]}
    applied = {e[0] for ev in safe_run if ev["act"] == "apply" for e in ev["entries"]}
    assert len(check.history["entryAt"]) == len(appended) > 50
    assert len(check.history["appliedAt"]) == len(applied) > 50


def test_a_copy_of_an_entry_with_another_payload_breaks_log_matching(
    mapping: SpecMapping, safe_run: list[Event]
) -> None:
    def flip(entry: list[int]) -> None:
        entry[2] ^= 1

    changed, seq, entry = change_second_copy(safe_run, "append", lambda e: (e[0], e[1]), flip)
    found = findings(check_events(mapping, changed, validate=False), "LogMatching")
    assert [v.witnesses for v in found] == [(step_of(changed, seq),)]
    lines = "\n".join(found[0].states)
    index, term, crc = entry[:3]
    assert f"entryAt[<<{index}, {term}>>] = <<{crc ^ 1}, " in lines
    assert f"<<{index}, {term}, {crc}, " in lines


def test_an_entry_after_another_term_breaks_log_matching(
    mapping: SpecMapping, safe_run: list[Event]
) -> None:
    # a follower's append of two entries that other logs hold: the first
    # one's term changed, so the second follows an entry of another term
    changed = copy.deepcopy(safe_run)
    held: set[tuple[int, int]] = set()
    target = None
    for event in changed:
        if event["act"] != "append":
            continue
        entries = event["entries"]
        if (
            target is None
            and len(entries) >= 2
            and entries[0][0] > SHOWN_ENTRIES + 4
            and all((e[0], e[1]) in held for e in entries)
        ):
            entries[0][1] += 100
            target = (event["seq"], entries[1][0], entries[1][1])
        held.update((e[0], e[1]) for e in entries)
    assert target is not None
    seq, index, term = target
    check = check_events(mapping, changed, validate=False)
    found = findings(check, "LogMatching")
    assert found and found[0].witnesses == (step_of(changed, seq),)
    assert f"entryAt[<<{index}, {term}>>] = " in "\n".join(found[0].states)


def test_another_entry_applied_at_an_index_breaks_state_machine_safety(
    mapping: SpecMapping, safe_run: list[Event]
) -> None:
    def flip(entry: list[int]) -> None:
        entry[2] ^= 1

    changed, seq, entry = change_second_copy(safe_run, "apply", lambda e: e[0], flip)
    found = findings(check_events(mapping, changed, validate=False), "StateMachineSafety")
    assert [v.witnesses for v in found] == [(step_of(changed, seq),)]
    index, term, crc = entry[:3]
    assert f"appliedAt[{index}] = <<{term}, {crc ^ 1}>>" in "\n".join(found[0].states)


def test_two_uncommitted_changes_at_a_leader_break_one_uncommitted_config(
    mapping: SpecMapping, safe_run: list[Event]
) -> None:
    # two entries a leader proposed in its term, after committing in it, the
    # first not yet committed when the second came: made configuration entries
    changed = copy.deepcopy(safe_run)
    owner = owners(changed)
    appends = {owner[e["seq"]]: e for e in changed if e["act"] == "append"}
    waiting: dict[int, list[Event]] = {}
    marked = None
    for step in spec_steps(safe_run):
        node = step.nodes.get(step.node)
        if step.act != "propose" or step.seq not in appends or node is None:
            continue
        if node.role != "leader" or node.commit_term != node.term:
            waiting.pop(step.node, None)
            continue
        append = appends[step.seq]
        earlier = [e for e in waiting.get(step.node, []) if e["entries"][-1][0] > node.commit]
        waiting[step.node] = [*earlier, append]
        if earlier:
            for record in (earlier[-1], append):
                record["entries"][-1][3:] = [1]
            marked = step.seq
            break
    assert marked is not None
    found = findings(check_events(mapping, changed, validate=False), "OneUncommittedConfig")
    assert found and found[0].witnesses == (marked,)
    assert "uncommittedConfs = " in "\n".join(found[0].states)


def test_a_deposed_leader_serving_lease_reads_breaks_lease_reads_current(
    mapping: SpecMapping, tmp_path: Path
) -> None:
    case = next(c for c in CASES if c.mode == "lease-without-checkquorum")
    args = (case.seed, case.faults, case.nodes, case.duration_s, case.membership, case.read_mode)
    unsafe = simulated_events(tmp_path / "unsafe.jsonl", *args, unsafe=(case.mode,))
    found = findings(check_events(mapping, unsafe), "LeaseReadsCurrent")
    assert found
    seq = found[0].witnesses[0]
    read = next(e for e in unsafe[seq - 1 :] if e["act"] == "lease_read")
    assert f"leaseRead = <<{read['n'][1:]}, {read['index']}>>" in found[0].states
    safe = simulated_events(tmp_path / "safe.jsonl", *args)
    assert any(e["act"] == "lease_read" for e in safe)
    assert check_events(mapping, safe).violations == []


def event(seq: int, node: int, act: str, **fields: Any) -> Event:
    return {"seq": seq, "t": seq, "n": f"n{node}", "act": act, **fields}


def test_the_fold_gathers_each_step_s_entries_and_configuration_count() -> None:
    fold = StepFold()
    boot = {"term": 1, "role": "follower", "last": 0, "commit": 0, "conf": {"voters": [1]}}
    events = [
        event(1, 1, "boot", st=boot),
        event(2, 1, "recv", **{"in": {"type": "append_req", "mid": "2:1"}}, st={"last": 3}),
        # a conf entry at 2; the second and third entries follow the first in the event
        event(3, 1, "append", entries=[[1, 1, 11], [2, 1, 12, 1], [3, 1, 13]]),
        event(4, 1, "apply", entries=[[1, 1, 11]]),
        event(5, 1, "recv", **{"in": {"type": "append_req", "mid": "3:1"}}, st={"last": 3}),
        # a conflict at 3: the entries after 2 go, and 3 follows 2 (term 1)
        event(6, 1, "truncate", after=2),
        event(7, 1, "append", entries=[[3, 2, 23], [4, 2, 24]]),
        event(8, 1, "read", **{"in": {"ctx": 1}}, st={"commit": 2}),
        event(9, 1, "lease_read", ctx=1, index=2),
        event(10, 1, "recv", **{"in": {"type": "snapshot", "mid": "3:2"}}, st={"last": 9}),
        event(11, 1, "snapshot_install", index=9, last_term=3),
        event(12, 1, "tick", st={}),
    ]
    steps = [s for e in events if (s := fold.feed(e)) is not None]
    last = fold.flush()
    assert last is not None
    steps.append(last)
    by_seq = {s.seq: s for s in steps}
    assert by_seq[2].appended == ((1, 1, 11, 0), (2, 1, 12, 1), (3, 1, 13, 1))
    assert by_seq[2].applied == ((1, 1, 11),)
    assert by_seq[2].nodes[1].uncommitted_confs == 1
    assert by_seq[5].appended == ((3, 2, 23, 1), (4, 2, 24, 2))
    assert by_seq[5].nodes[1].uncommitted_confs == 1  # the conf entry at 2 stays
    assert by_seq[8].lease_read == (1, 2)
    assert by_seq[8].nodes[1].uncommitted_confs == 0  # committed
    assert by_seq[8].appended == () and by_seq[8].applied == ()
    assert by_seq[10].nodes[1].uncommitted_confs == 0
    assert by_seq[12].lease_read == ()
    assert by_seq[12].nodes[1].commit_term == UNKNOWN_TERM  # commit 2 lies below the snapshot


@pytest.mark.parametrize(
    ("story", "near_miss", "caught_by"),
    [
        (scenarios.mismatched_prefix, {"follower_checks": True}, "LogMatching"),
        (scenarios.different_applies, {"crc": 0xA1}, "StateMachineSafety"),
    ],
)
def test_the_python_checkers_stories_are_judged_alike(
    mapping: SpecMapping, story: Callable[..., Any], near_miss: dict[str, Any], caught_by: str
) -> None:
    # tests/checkers' hand-made stories for the same properties: the story
    # fails the spec's property at the step of its second witness, the near
    # miss passes it (invariants only: the stories are not steps of the
    # spec, and their elections send votes no write made durable, which
    # VotesDurableWhenSent reports in both)
    scenario = story()
    events = scenario.trace.events
    found = findings(check_events(mapping, events, validate=False), caught_by)
    assert [v.witnesses for v in found] == [(owners(events)[scenario.witnesses[-1]],)]
    near = check_events(mapping, story(**near_miss).trace.events, validate=False)
    assert findings(near, caught_by) == []
    assert {v.invariant for v in near.violations} <= {"VotesDurableWhenSent"}


def test_a_vote_sent_before_its_write_breaks_votes_durable_when_sent(
    mapping: SpecMapping, safe_run: list[Event]
) -> None:
    # the write a granted vote_resp waited for, changed to hold no vote: the
    # message then leaves with the vote still volatile
    changed = copy.deepcopy(safe_run)
    owner = owners(changed)
    sends = {}
    for e in changed:
        msg = e.get("msg") or {}
        granted = msg.get("type") == "vote_resp" and msg.get("granted") and not msg.get("pre")
        if e["act"] == "send" and granted:
            sends.setdefault(owner[e["seq"]], e)
    persisted = next(e for e in changed if e["act"] == "persisted" and e["seq"] in sends)
    node, done = persisted["n"], persisted["in"]["id"]
    write = next(e for e in changed if e["act"] == "persist" and e["n"] == node and e["id"] == done)
    write["hs"][1] = 0
    found = findings(check_events(mapping, changed, validate=False), "VotesDurableWhenSent")
    assert [v.witnesses for v in found] == [(persisted["seq"],)]
    term, voter = sends[persisted["seq"]]["msg"]["term"], int(node[1:])
    assert f"<<{voter}, {term}, " in "\n".join(found[0].states)


@pytest.mark.parametrize(
    ("mode", "caught_by"),
    [("volatile-vote", "VotesDurableWhenSent"), ("no-joint", "LegalConfigTransitionStep")],
)
def test_unsafe_modes_break_the_membership_and_durability_properties(
    mapping: SpecMapping, tmp_path: Path, mode: str, caught_by: str
) -> None:
    case = next(c for c in CASES if c.mode == mode)
    args = (case.seed, case.faults, case.nodes, case.duration_s, case.membership, case.read_mode)
    unsafe = simulated_events(tmp_path / "unsafe.jsonl", *args, **case.raft, unsafe=(mode,))
    assert findings(check_events(mapping, unsafe, validate=False), caught_by)


def test_the_fold_follows_what_reaches_the_disk_and_the_votes_sent() -> None:
    fold = StepFold()
    boot = {"term": 0, "role": "follower", "last": 0, "commit": 0, "conf": {"voters": [1, 2]}}
    vote_req = {"type": "vote_req", "term": 1, "src": 1, "dst": 2, "pre": False}
    pre = {**vote_req, "pre": True}
    events = [
        event(1, 1, "boot", st=boot),
        event(2, 1, "tick", st={"role": "precandidate"}),
        event(3, 1, "send", mid="1:1", msg=pre),  # PreVote: no promise
        event(4, 1, "tick", st={"term": 1, "role": "candidate", "vote": 1}),
        event(5, 1, "persist", id=1, hs=[1, 1, 0]),
        event(6, 1, "persist", id=2, hs=[1, 1, 0]),
        event(7, 1, "persisted", **{"in": {"id": 1}}),
        event(8, 1, "send", mid="1:2", msg=vote_req),
    ]
    steps = [s for e in events if (s := fold.feed(e)) is not None]
    last = fold.flush()
    assert last is not None
    by_seq = {s.seq: s for s in [*steps, last]}
    assert by_seq[2].promised == () and by_seq[4].nodes[1].durable == (0, 0)
    assert by_seq[7].nodes[1].durable == (1, 1)
    assert by_seq[7].promised == ((1, 1, 1),)
    assert fold.writes[1] == [(2, 1, 1)]  # the second write is not done yet
