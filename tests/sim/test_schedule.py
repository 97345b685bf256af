"""Schedule files: the format, its errors, the triggers, and byte-for-byte
replay through ``raftlab sim --schedule``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from raftlab.cli import app
from sim.hunt import judge
from sim.operations import ClientOp, operations_from_trace
from sim.profiles import PROFILES
from sim.schedule import (
    FaultEvent,
    Schedule,
    ScheduleError,
    load_schedule,
    run_schedule,
    schedule_from_json,
)
from sim.workload import WorkloadConfig
from traces.reader import load_trace
from traces.recorder import MemoryRecorder, trace_bytes

EVERY_KIND = Schedule(
    nodes=3,
    seed=11,
    duration_s=4.0,
    faults=replace(PROFILES["default"], partition_every_s=0.0, crash_every_s=0.0),
    workload=WorkloadConfig(clients=3, rate=60.0, keys=3),
    events=(
        FaultEvent(0.8, "partition", "leader", 0.6, "after_append"),
        FaultEvent(1.6, "crash", "leader", 0.3, "after_persist"),
        FaultEvent(2.2, "crash", "leader", 0.5),
        FaultEvent(2.2, "crash", "voter", 0.1, "after_vote"),
        FaultEvent(3.0, "pause", "follower", 0.4),
        FaultEvent(3.4, "partition", 2, 0.3, one_way=True),
    ),
    membership=(
        {"at": 1.0, "do": "add_learner", "node": 4},
        {"at": 2.0, "do": "promote", "node": 4},
    ),
    shape="test",
)


def events_of(schedule: Schedule) -> list[dict[str, Any]]:
    recorder = MemoryRecorder(schedule.header())
    run_schedule(schedule, recorder)
    return recorder.events


def test_json_round_trip_keeps_every_field() -> None:
    again = schedule_from_json(orjson.loads(EVERY_KIND.dumps()))
    assert again == EVERY_KIND
    assert again.dumps() == EVERY_KIND.dumps()


def test_the_same_schedule_gives_the_same_events() -> None:
    assert events_of(EVERY_KIND) == events_of(EVERY_KIND)


def test_a_legal_schedule_with_every_kind_of_fault_passes_every_check() -> None:
    verdict = judge(EVERY_KIND)
    assert verdict.failed == [], verdict.violations
    stats = verdict.stats
    assert stats is not None and stats.faults["crash"] >= 3 and stats.faults["pause"] == 1


def test_after_append_cuts_the_leader_off_as_its_entries_leave() -> None:
    events = events_of(EVERY_KIND)
    part = next(e for e in events if e["act"] == "partition")
    isolated = part["groups"][0][0]
    first_drop = events[part["seq"]]  # the event right after the partition
    assert first_drop["act"] == "drop" and first_drop["reason"] == "partition"
    send = events[first_drop["cause"] - 1]
    assert send["n"] == f"n{isolated}" and send["t"] == part["t"]
    assert send["msg"]["type"] == "append_req" and send["msg"]["entries"]


def test_after_persist_crashes_after_the_persisted_step_and_drops_what_it_sent() -> None:
    events = events_of(EVERY_KIND)
    crash = next(e for e in events if e["act"] == "crash" and e["t"] >= 1_600_000)
    node = f"n{crash['node']}"
    same_time = [e for e in events if e["t"] == crash["t"] and e["seq"] < crash["seq"]]
    step = [e for e in same_time if e["n"] == node and e["act"] == "persisted"]
    assert step, "the crash follows the node's persisted step"
    sent = {e["mid"] for e in same_time if e["n"] == node and e["act"] == "send"}
    dropped = {e["mid"] for e in same_time if e["act"] == "drop" and e["reason"] == "crash"}
    assert sent and sent <= dropped


def test_after_vote_crashes_the_node_that_just_granted_a_vote() -> None:
    events = events_of(EVERY_KIND)
    crashes = [e for e in events if e["act"] == "crash" and e["t"] >= 2_200_000]
    leader_crash, voter_crash = crashes[0], crashes[1]
    grants = [
        e
        for e in events
        if e["act"] == "send"
        and e["msg"]["type"] == "vote_resp"
        and e["msg"]["granted"]
        and not e["msg"]["pre"]
        and leader_crash["seq"] < e["seq"] < voter_crash["seq"]
    ]
    assert grants and grants[-1]["n"] == f"n{voter_crash['node']}"
    assert grants[-1]["t"] == voter_crash["t"]


def test_an_event_with_no_node_to_aim_at_is_skipped() -> None:
    schedule = replace(EVERY_KIND, events=(FaultEvent(0.01, "crash", "leader", 0.1),))
    verdict = judge(schedule)
    assert verdict.stats is not None and verdict.stats.faults["skipped"] == 1
    assert not [e for e in verdict.events if e["act"] == "crash"]


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def test_raftlab_sim_schedule_replays_to_the_same_bytes(tmp_path: Path) -> None:
    path = tmp_path / "schedule.json"
    path.write_bytes(EVERY_KIND.dumps())
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert invoke("sim", "--schedule", path, "--out", first).exit_code == 0
    assert invoke("sim", "--schedule", path, "--out", second, "--no-check").exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    recorder = MemoryRecorder(EVERY_KIND.header())
    run_schedule(EVERY_KIND, recorder)
    assert first.read_bytes() == trace_bytes(recorder.header, recorder.events)
    header, _ = load_trace(first)
    assert header["schedule"] == orjson.loads(EVERY_KIND.dumps())


def write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "bad.json"
    path.write_bytes(orjson.dumps(doc) if not isinstance(doc, bytes) else doc)
    return path


def good() -> dict[str, Any]:
    return EVERY_KIND.to_json()


def edited(**fields: Any) -> dict[str, Any]:
    return {**good(), **fields}


@pytest.mark.parametrize(
    ("doc", "phrase"),
    [
        (b"{not json", "cannot read schedule"),
        ([], "a schedule is a JSON object"),
        (edited(format="other"), "not a raftlab-schedule version 1 file"),
        (edited(colour="red"), "unknown field 'colour'"),
        (edited(nodes="three"), "nodes must be an integer"),
        (edited(read_mode="fast"), "read_mode must be 'index' or 'lease'"),
        (edited(events=[{"at": 1, "do": "explode"}]), "events[0]: do must be one of"),
        (edited(events=[{"at": 1, "do": "crash", "node": "boss"}]), "node must be an id or one"),
        (edited(events=[{"at": 1, "do": "crash", "when": "after_vote"}]), "'voter' goes with"),
        (edited(events=[{"at": 1, "do": "pause", "when": "after_persist"}]), "is for crashes"),
        (edited(faults={"loss": 0.1, "wind": 3}), "faults: unknown field 'wind'"),
        (edited(workload={"mix": {"scan": 1.0}}), "unknown operations in workload mix"),
        (edited(membership=[{"at": 1, "do": "promote", "node": 9}]), "names node 9"),
        (edited(nodes=0), "--nodes must be between 1 and 64"),
        (edited(operations={"op": "put"}), "operations must be a list of dict"),
        (edited(operations=[{"client": 1, "at": 0.1, "op": "put", "key": "k"}]), "string value"),
        (edited(operations=[{"client": 9, "at": 0.1, "op": "get", "key": "k"}]), "client must"),
        (edited(operations=[{"client": 1, "at": 0.1, "op": "scan", "key": "k"}]), "op must be"),
        (edited(operations=[{"client": 1, "at": -1, "op": "get", "key": "k"}]), "at must be"),
        (edited(operations=[{"client": 1, "op": "get", "key": "k", "x": 1}]), "field 'x'"),
        (
            edited(operations=[{"client": 1, "at": 1, "op": "cas", "key": "k", "value": "v"}]),
            "operations[0]: a cas needs value [expected, new]",
        ),
    ],
)
def test_a_bad_schedule_is_one_clear_error_naming_the_file(
    tmp_path: Path, doc: Any, phrase: str
) -> None:
    path = write(tmp_path, doc)
    with pytest.raises(ScheduleError) as error:
        load_schedule(path)
    assert str(path) in str(error.value) and phrase in str(error.value)
    result = invoke("sim", "--schedule", path, "--out", tmp_path / "t.jsonl")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


#: EVERY_KIND with its client operations listed rather than drawn.
LISTED = replace(
    EVERY_KIND,
    operations=(
        ClientOp(1, 0.5, "put", "k1", "a"),
        ClientOp(2, 0.5, "get", "k1"),
        ClientOp(1, 0.6, "cas", "k1", ["a", "b"]),
        ClientOp(3, 1.25, "delete", "k1"),
        ClientOp(2, 2.5, "get", "k1"),
    ),
)


def test_listed_operations_round_trip_and_are_invoked_at_their_times() -> None:
    again = schedule_from_json(orjson.loads(LISTED.dumps()))
    assert again == LISTED and again.dumps() == LISTED.dumps()
    invoked = operations_from_trace(events_of(LISTED))
    assert [(op.client, op.op, op.key, op.value) for op in invoked] == [
        (op.client, op.op, op.key, op.value) for op in LISTED.operations or ()
    ]
    for listed, ran in zip(LISTED.operations or (), invoked, strict=True):
        # at its time, or later when its client was still busy with the one before
        assert ran.at >= listed.at
    assert invoked[0].at == 0.5 and invoked[1].at == 0.5 and invoked[3].at == 1.25
    assert LISTED.client_ops() == 5 and LISTED.weight() == 6 + 2 + 3 + 5


def test_a_run_s_operations_listed_replay_that_run_exactly() -> None:
    """The list keeps the clients' random stream in step, so the run with its
    own operations listed is the same run, event for event."""
    drawn = replace(EVERY_KIND, workload=replace(EVERY_KIND.workload, mix=(("put", 1), ("cas", 1))))
    events = events_of(drawn)
    listed = replace(drawn, operations=operations_from_trace(events))
    assert listed.operations and any(op.op == "cas" for op in listed.operations)
    assert events_of(listed) == events


def test_an_operation_deleted_is_one_invocation_fewer() -> None:
    assert LISTED.operations is not None
    fewer = replace(LISTED, operations=LISTED.operations[1:])
    invoked = operations_from_trace(events_of(fewer))
    assert [op.op for op in invoked] == ["get", "cas", "delete", "get"]


def test_raftlab_sim_schedule_replays_listed_operations_to_the_same_bytes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "schedule.json"
    path.write_bytes(LISTED.dumps())
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert invoke("sim", "--schedule", path, "--out", first).exit_code == 0
    assert invoke("sim", "--schedule", path, "--out", second).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    recorder = MemoryRecorder(LISTED.header())
    run_schedule(LISTED, recorder)
    assert first.read_bytes() == trace_bytes(recorder.header, recorder.events)


def test_a_run_cut_at_a_moment_is_the_same_run_up_to_that_moment() -> None:
    """What the shrinker's cut at the violation relies on: nothing in a run
    looks at its end, so the shorter run is a prefix of the longer one."""
    from sim.hunt.shrink import cut_at

    events = events_of(LISTED)
    for seq in (len(events) // 3, len(events) // 2, len(events) - 5):
        moment = events[seq - 1]["t"]
        cut = cut_at(LISTED, moment)
        assert int(cut.duration_s * 1_000_000) in (moment, moment + 1)
        assert all(e.at * 1_000_000 <= moment + 1 for e in cut.events)
        assert events_of(cut) == [e for e in events if e["t"] <= moment]
