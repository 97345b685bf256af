"""Per-node trace files (traces/nodetrace.py): what a node process writes,
what a kill leaves, incarnations and Lamport clocks, levels, the
environment's trace."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import orjson
import pytest

from consensus import DurableState, RaftConfig, RaftCore
from consensus.membership import Membership
from consensus.traced import TracedNode
from raftlab.experiment import replay_file
from tests.traces.pernode import split_run
from traces.merge import merge_traces, write_merged
from traces.nodetrace import (
    ENV_TRACE,
    EnvTraceWriter,
    NodeTraceWriter,
    last_lamport,
    next_incarnation,
    node_trace_files,
    open_node_trace,
    resume_lamport,
)
from traces.reader import load_trace, open_trace

Event = dict[str, object]


def _event(lc: int, act: str = "tick", **fields: object) -> Event:
    return {"seq": 0, "t": lc * 10, "n": "n1", "lc": lc, "term": 1, "act": act, "tk": lc, **fields}


def _ending(path: Path) -> str:
    _, stream = open_trace(path)
    return stream.drain().state


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("full")
    split_run(directory, seed=3, level="full")
    return directory


@pytest.fixture(scope="module")
def state_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("state")
    split_run(directory, seed=3, level="state")
    return directory


# -- the writer ----------------------------------------------------------------------


def test_events_reach_the_file_at_flush_and_a_close_makes_it_complete(tmp_path: Path) -> None:
    path = tmp_path / "n1.0.trace.jsonl"
    writer = NodeTraceWriter(path, 1, "full", {"raft": {"election_ticks": 10}})
    header_size = path.stat().st_size
    assert header_size > 0  # the header is written at once
    assert writer.emit(_event(1)) == 1
    assert writer.emit(_event(2)) == 2
    assert path.stat().st_size == header_size  # buffered until the step ends
    writer.flush()
    assert path.stat().st_size > header_size
    writer.close()
    header, events = load_trace(path)
    assert (header["node"], header["incarnation"], header["level"]) == (1, 0, "full")
    assert header["raft"] == {"election_ticks": 10}
    assert [e["seq"] for e in events] == [1, 2]
    assert _ending(path) == "complete"


def test_a_killed_writer_leaves_what_it_flushed_and_a_torn_line_is_dropped(
    tmp_path: Path,
) -> None:
    path = tmp_path / "n1.0.trace.jsonl"
    writer = NodeTraceWriter(path, 1, "full")
    for lc in (1, 2, 3):
        writer.emit(_event(lc))
        writer.flush()
    writer.emit(_event(4))  # emitted, never flushed: lost with the process
    writer.abandon()
    with path.open("ab") as f:
        f.write(orjson.dumps(_event(5) | {"seq": 4})[:25])  # a write cut by the kill
    _, events = load_trace(path)
    assert [e["lc"] for e in events] == [1, 2, 3]
    assert _ending(path) == "truncated"
    assert last_lamport(path) == 3


def test_an_earlier_incarnation_is_never_overwritten(tmp_path: Path) -> None:
    NodeTraceWriter(tmp_path / "n1.0.trace.jsonl", 1, "full").close()
    with pytest.raises(FileExistsError):
        NodeTraceWriter(tmp_path / "n1.0.trace.jsonl", 1, "full")


def test_level_off_writes_nothing_and_unknown_levels_are_refused(tmp_path: Path) -> None:
    assert open_node_trace(tmp_path, 1, "off") is None
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="unknown trace level 'verbose'"):
        open_node_trace(tmp_path, 1, "verbose")
    with pytest.raises(ValueError, match="use open_node_trace"):
        NodeTraceWriter(tmp_path / "x", 1, "off")


def test_last_lamport_finds_the_last_event_of_a_long_file(tmp_path: Path) -> None:
    path = tmp_path / "n1.0.trace.jsonl"
    writer = NodeTraceWriter(path, 1, "full")
    big = "x" * 70_000  # longer than one read from the end
    for lc in range(1, 40):
        writer.emit(_event(lc, "propose", **{"in": {"data": big if lc % 7 == 0 else "y"}}))
    writer.close()  # the closing record is not an event: skipped
    assert last_lamport(path) == 39


# -- incarnations and Lamport clocks ---------------------------------------------------


def test_incarnations_number_the_files_and_resume_the_clock(full_run: Path) -> None:
    restarted = [n for n in (1, 2, 3) if len(node_trace_files(full_run, n)) > 1]
    assert restarted, "the faulty run restarts some node"
    for node in restarted:
        files = node_trace_files(full_run, node)
        assert [i for i, _ in files] == list(range(len(files)))
        assert next_incarnation(full_run, node) == len(files)
        for (_, earlier), (_, later) in pairwise(files):
            _, events = load_trace(later)
            assert events[0]["act"] == "restart"
            assert events[0]["lc"] == last_lamport(earlier) + 1
        assert resume_lamport(full_run, node) == last_lamport(files[-1][1])
    assert next_incarnation(full_run, 9) == 0 and resume_lamport(full_run, 9) == 0


def test_a_node_started_in_a_later_incarnation_restarts_above_the_resumed_clock(
    tmp_path: Path,
) -> None:
    writer = NodeTraceWriter(tmp_path / "n1.1.trace.jsonl", 1, "full", incarnation=1, first_lc=41)
    traced = TracedNode(1, writer)
    assert traced.lc == 41 and traced.self_contained
    durable = DurableState.bootstrap(Membership(voters=(1, 2, 3)))
    core = RaftCore(1, RaftConfig(), 7, durable, 0)
    traced.start(core, 1_000, 7, durable)
    writer.close()
    _, events = load_trace(tmp_path / "n1.1.trace.jsonl")
    assert events[0]["act"] == "restart" and events[0]["lc"] == 42
    assert events[0]["in"]["durable"]["snap"] == 1
    assert events[0]["in"]["state"]["snapshot"]["index"] == 1


def test_a_first_incarnation_boots(tmp_path: Path) -> None:
    writer = open_node_trace(tmp_path, 2, "state")
    assert writer is not None and writer.path.name == "n2.0.trace.jsonl"
    traced = TracedNode(2, writer)
    durable = DurableState.bootstrap(Membership(voters=(1, 2, 3)))
    traced.start(RaftCore(2, RaftConfig(), 7, durable, 0), 1_000, 7, durable)
    writer.close()
    _, events = load_trace(writer.path)
    assert events[0]["act"] == "boot" and events[0]["lc"] == 1
    assert open_node_trace(tmp_path, 2, "state") is not None  # the next: n2.1
    assert next_incarnation(tmp_path, 2) == 2


# -- levels ------------------------------------------------------------------------------


def _all_events(directory: Path) -> list[Event]:
    events: list[Event] = []
    for node in (1, 2, 3):
        for _, path in node_trace_files(directory, node):
            events.extend(load_trace(path)[1])
    return events


def _size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.glob("n*.trace.jsonl"))


def test_a_full_node_trace_carries_what_replay_needs(full_run: Path) -> None:
    events = _all_events(full_run)
    recvs = [e for e in events if e["act"] == "recv"]
    assert recvs and all("msg" in e["in"] for e in recvs)
    restarts = [e for e in events if e["act"] == "restart"]
    assert restarts and all("state" in e["in"] for e in restarts)
    assert any("rand" in e for e in events)


def test_level_state_is_smaller_and_leaves_out_only_replay_payloads(
    full_run: Path, state_run: Path
) -> None:
    full, state = _all_events(full_run), _all_events(state_run)
    assert len(full) == len(state)
    assert _size(state_run) < 0.8 * _size(full_run)
    for a, b in zip(full, state, strict=True):
        assert (a["act"], a["lc"], a["n"], a.get("st"), a.get("dg")) == (
            b["act"],
            b["lc"],
            b["n"],
            b.get("st"),
            b.get("dg"),
        )
        assert "rand" not in b
        if b["act"] in ("recv", "restart", "propose", "compact"):
            assert not {"msg", "state", "data"} & set(b["in"])
        if b["act"] == "send" and b["msg"]["type"] == "append_req":
            assert all(isinstance(entry[2], int) for entry in b["msg"]["entries"])
            assert len(b["msg"]["entries"]) == len(a["msg"]["entries"])


def test_a_state_level_merge_passes_the_checkers_but_does_not_replay(
    state_run: Path, tmp_path: Path
) -> None:
    from consensus.replayer import ReplayError
    from raftlab.experiment import check_trace

    header, events = merge_traces([state_run], history=state_run / "history.jsonl")
    assert header["level"] == "state"
    merged = write_merged(tmp_path / "merged.jsonl", header, events)
    outcome = check_trace(merged)
    assert outcome.verdict == "PASS", [v.message for v in outcome.report.violations]
    assert outcome.lin_verdict == "linearizable"
    with pytest.raises(ReplayError, match="level 'state'"):
        replay_file(merged)


# -- the environment's trace ----------------------------------------------------------


def test_the_environment_trace_records_faults_with_their_node_and_time(tmp_path: Path) -> None:
    clock = iter(range(1_000, 100_000, 1_000))
    env = EnvTraceWriter(tmp_path / ENV_TRACE, {"nodes": [1, 2, 3]}, clock=lambda: next(clock))
    env.crash(1)
    pause = env.pause(2)
    env.resume(2, pause)
    env.partition([[3], [1, 2]])
    env.one_way([1], [2])
    env.heal()
    env.close()
    header, events = load_trace(tmp_path / ENV_TRACE)
    assert header["env"] is True and header["nodes"] == [1, 2, 3]
    assert [(e["n"], e["act"]) for e in events] == [
        ("env", "crash"),
        ("env", "pause"),
        ("env", "resume"),
        ("net", "partition"),
        ("net", "partition"),
        ("net", "heal"),
    ]
    assert events[0]["node"] == 1 and events[0]["reason"] == "crash" and events[0]["t"] == 1_000
    assert events[2]["cause"] == pause
    assert events[3]["groups"] == [[3], [1, 2]] and events[3]["kind"] == "split"
    assert (events[4]["from"], events[4]["to"]) == ([1], [2])
    assert [e["lc"] for e in events] == [1, 2, 3, 1, 2, 3]  # per actor
    assert _ending(tmp_path / ENV_TRACE) == "complete"
