"""Merging per-node traces (traces/merge.py, ``raftlab trace merge``).

The per-node files come from seeded faulty simulations split the way real
nodes write them (tests/traces/pernode.py): every checker must pass on the
merged trace, the merged trace and every node's own file must replay
exactly, the order must not depend on the order of the inputs, a killed
node's cut trace must merge, and inconsistent inputs must be refused with
the file and line.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from raftlab.cli import app
from raftlab.experiment import check_trace, replay_file
from tests.traces.pernode import SplitRecorder, split_run
from tests.traces.simulated import simulate, write_trace
from traces.merge import merge_traces, write_merged
from traces.nodetrace import ENV_TRACE, NodeTraceWriter, node_trace_files
from traces.reader import TraceError, load_trace
from traces.schema import INPUT_ACTIONS

Event = dict[str, object]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SplitRecorder]:
    directory = tmp_path_factory.mktemp("run")
    return directory, split_run(directory, seed=3)


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SplitRecorder]:
    """A run with membership changes: nodes join, nodes are removed."""
    directory = tmp_path_factory.mktemp("members")
    return directory, split_run(directory, seed=5, membership=True)


def _inputs(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.trace.jsonl"))


def _merge_and_write(directory: Path, out: Path) -> tuple[Event, list[Event], Path]:
    header, events = merge_traces(_inputs(directory), history=directory / "history.jsonl")
    return header, events, write_merged(out, header, events)


def _assert_passes(path: Path) -> None:
    outcome = check_trace(path)
    assert outcome.verdict == "PASS", [v.message for v in outcome.report.violations]
    assert outcome.lin_verdict == "linearizable"


# -- legal runs ------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["run", "members"])
def test_every_checker_passes_and_the_merged_trace_replays(
    which: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    directory, _ = request.getfixturevalue(which)
    _, _, merged = _merge_and_write(directory, tmp_path / "merged.jsonl")
    _assert_passes(merged)
    report = replay_file(merged)
    assert report.verdict == "DETERMINISTIC", report.explain()


@pytest.mark.parametrize("which", ["run", "members"])
def test_each_node_trace_replays_alone(which: str, request: pytest.FixtureRequest) -> None:
    directory, _ = request.getfixturevalue(which)
    files = sorted(directory.glob("n*.trace.jsonl"))
    assert len(files) > 3  # restarts or joiners: more than one file per founder
    for path in files:
        report = replay_file(path)
        assert report.verdict == "DETERMINISTIC", (path, report.explain())
        assert report.nodes == {path.name.split(".")[0]}


def test_the_merge_holds_every_node_event_and_client_event_of_the_run(
    run: tuple[Path, SplitRecorder],
) -> None:
    directory, recorder = run
    _, events = merge_traces(_inputs(directory), history=directory / "history.jsonl")
    nodes = [e for e in recorder.events if str(e["n"]).startswith("n") and e["n"] != "net"]
    merged_nodes = [e for e in events if e["n"] not in ("env", "net", "client")]
    assert Counter((e["n"], e["lc"], e["act"]) for e in nodes) == Counter(
        (e["n"], e["lc"], e["act"]) for e in merged_nodes
    )
    clients = [e for e in recorder.events if e["n"] == "client"]
    assert [(e["act"], e["client"], e["t"]) for e in clients] == [
        (e["act"], e["client"], e["t"]) for e in events if e["n"] == "client"
    ]
    crashes = [e for e in recorder.events if e["act"] == "crash"]
    assert len(crashes) == sum(1 for e in events if e["act"] == "crash") > 0


def test_causality_holds_in_the_merged_order(run: tuple[Path, SplitRecorder]) -> None:
    directory, _ = run
    _, events = merge_traces(_inputs(directory), history=directory / "history.jsonl")
    by_seq = {e["seq"]: e for e in events}
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    sends = {e["mid"]: e for e in events if e["act"] == "send"}
    last_lc: dict[object, int] = {}
    for event in events:
        actor = event["n"]
        assert event["lc"] > last_lc.get(actor, 0)  # each actor's clock grows
        last_lc[actor] = event["lc"]
        if event["act"] == "recv":
            send = sends[event["in"]["mid"]]
            assert event["cause"] == send["seq"] < event["seq"]
            assert "msg" not in event["in"]  # the send holds it
        elif event["act"] == "restart":
            crash = by_seq[event["cause"]]
            assert crash["act"] == "crash" and crash["node"] == int(str(actor)[1:])
        elif event["act"] == "complete":
            invoke = by_seq[event["cause"]]
            assert invoke["act"] == "invoke" and invoke["client"] == event["client"]
        elif "cause" in event and actor not in ("env", "net", "client"):
            assert by_seq[event["cause"]]["n"] == actor  # an effect of its own input


def test_the_order_does_not_depend_on_the_order_of_the_inputs(
    run: tuple[Path, SplitRecorder],
) -> None:
    directory, _ = run
    files = _inputs(directory)
    expected = merge_traces(files, history=directory / "history.jsonl")
    rng = random.Random(11)
    for _ in range(3):
        shuffled = files[:]
        rng.shuffle(shuffled)
        assert merge_traces(shuffled, history=directory / "history.jsonl") == expected
    assert merge_traces([directory], history=directory / "history.jsonl") == expected


def test_messages_received_twice_get_an_inferred_duplicate(
    run: tuple[Path, SplitRecorder],
) -> None:
    directory, _ = run
    _, events = merge_traces(_inputs(directory))
    received = Counter(e["in"]["mid"] for e in events if e["act"] == "recv")
    twice = {mid: n - 1 for mid, n in received.items() if n > 1}
    assert twice, "the faulty profile duplicates messages"
    duplicates = Counter(e["mid"] for e in events if e["act"] == "duplicate")
    assert duplicates == twice
    assert all(e["inferred"] for e in events if e["act"] == "duplicate")


def test_without_the_environment_trace_the_crashes_are_inferred(
    run: tuple[Path, SplitRecorder], tmp_path: Path
) -> None:
    directory, _ = run
    nodes_only = [p for p in _inputs(directory) if p.name != ENV_TRACE]
    header, events = merge_traces(nodes_only)
    crashes = [e for e in events if e["act"] == "crash"]
    restarts = [e for e in events if e["act"] == "restart"]
    assert len(crashes) == len(restarts) > 0
    assert all(c["inferred"] and c["reason"] == "crash" for c in crashes)
    assert {r["cause"] for r in restarts} == {c["seq"] for c in crashes}
    merged = write_merged(tmp_path / "merged.jsonl", header, events)
    assert replay_file(merged).verdict == "DETERMINISTIC"


# -- a killed node ---------------------------------------------------------------------------


def _killed_file(directory: Path) -> Path:
    """A node file that its (simulated) kill left without a closing record."""
    for path in sorted(directory.glob("n*.trace.jsonl")):
        if b'"end":' not in path.read_bytes().rstrip().rsplit(b"\n", 1)[-1]:
            return path
    raise AssertionError("the faulty run kills some node")


def test_a_killed_trace_cut_short_merges_and_says_so(
    run: tuple[Path, SplitRecorder], tmp_path: Path
) -> None:
    source, _ = run
    directory = tmp_path / "cut"
    shutil.copytree(source, directory)
    victim = _killed_file(directory)
    _, events = load_trace(victim)
    last_input = max(e["seq"] for e in events if e["act"] in INPUT_ACTIONS)
    lost = [e for e in events if e["seq"] >= last_input]
    assert any(e["act"] == "send" for e in lost), "the cut loses messages someone received"
    # The kill tore the write of the node's last step: its first line is cut
    # short, the rest never reached the file (header line 1, event seq N on N+1).
    lines = victim.read_bytes().splitlines(keepends=True)
    victim.write_bytes(b"".join(lines[:last_input]) + lines[last_input][:40])
    header, merged_events, merged = _merge_and_write(directory, tmp_path / "merged.jsonl")
    entry = next(i for i in header["inputs"] if i["file"] == str(victim))
    assert entry["ending"] == f"killed: no closing record, last whole event seq {last_input - 1}"
    sends = {e["mid"] for e in merged_events if e["act"] == "send"}
    orphans = [e for e in merged_events if e["act"] == "recv" and e["in"]["mid"] not in sends]
    assert {e["in"]["mid"] for e in orphans} <= {e.get("mid") for e in lost}
    assert orphans and all("msg" in e["in"] and "cause" not in e for e in orphans)
    if lost[0]["act"] == "persisted":
        # The disk kept writes whose acknowledgement the kill lost: the
        # restart shows it, and the crash says so for the checkers.
        node = int(victim.name[1 : victim.name.index(".")])
        crash = next(e for e in merged_events if e["act"] == "crash" and e["node"] == node)
        assert crash["written"] == lost[0]["in"]["id"] and crash["written_inferred"]
    _assert_passes(merged)
    assert replay_file(merged).verdict == "DETERMINISTIC"
    assert replay_file(victim).verdict == "DETERMINISTIC"


# -- bad input ------------------------------------------------------------------------------


def _node_file(path: Path, node: int, events: list[Event]) -> Path:
    writer = NodeTraceWriter(path, node, "full", {"raft": {}})
    for event in events:
        writer.emit(dict(event))
    writer.close()
    return path


def _step(node: int, lc: int, act: str, **fields: object) -> Event:
    return {"seq": 0, "t": lc, "n": f"n{node}", "lc": lc, "term": 1, "act": act, **fields}


def _two_nodes(tmp_path: Path, recv_lc: int) -> list[Path]:
    """n1 sends message 1:5; n2 receives it at Lamport clock ``recv_lc``."""
    n1 = _node_file(
        tmp_path / "n1.0.trace.jsonl",
        1,
        [
            _step(1, 4, "tick", tk=1),
            {**_step(1, 5, "send", mid="1:5", msg={"type": "heartbeat"}), "cause": 1},
        ],
    )
    n2 = _node_file(
        tmp_path / "n2.0.trace.jsonl",
        2,
        [
            _step(2, 1, "tick", tk=1),
            _step(2, recv_lc, "recv", tk=1, **{"in": {"mid": "1:5", "type": "heartbeat"}}),
        ],
    )
    return [n1, n2]


def test_a_recv_whose_clock_is_not_above_its_send_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TraceError) as caught:
        merge_traces(_two_nodes(tmp_path, recv_lc=3))
    error = caught.value
    assert error.where == str(tmp_path / "n2.0.trace.jsonl") and error.line == 3
    assert "Lamport clock 3, not above its send's 5" in str(error)
    assert "n1.0.trace.jsonl:3" in str(error)


def test_a_recv_after_its_send_merges_in_causal_order(tmp_path: Path) -> None:
    # n2's recv is earlier by wall time (t) than n1's send; causality wins.
    _, events = merge_traces(_two_nodes(tmp_path, recv_lc=6))
    order = [(e["n"], e["act"]) for e in events]
    assert order.index(("n1", "send")) < order.index(("n2", "recv"))


def test_the_cli_merges_and_refuses_bad_input_with_one_line(
    run: tuple[Path, SplitRecorder], tmp_path: Path
) -> None:
    directory, _ = run
    out = tmp_path / "merged.jsonl"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "trace",
            "merge",
            str(directory),
            "-o",
            str(out),
            "--history",
            str(directory / "history.jsonl"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["events"] == len(load_trace(out)[1]) and doc["level"] == "full"
    assert runner.invoke(app, ["check", str(out)]).exit_code == 0
    assert runner.invoke(app, ["replay", str(out)]).exit_code == 0
    bad = runner.invoke(
        app, ["trace", "merge", *map(str, _two_nodes(tmp_path, 3)), "-o", str(tmp_path / "x")]
    )
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: ") and "Traceback" not in bad.output
    assert len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_inputs_that_are_not_node_traces_are_refused(tmp_path: Path) -> None:
    header, events = simulate("default", 1, 0.5)
    whole = write_trace(tmp_path / "sim.jsonl", header, events)
    with pytest.raises(TraceError, match="not a per-node or environment trace"):
        merge_traces([whole])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TraceError, match="no node traces"):
        merge_traces([empty])


def test_a_modified_node_trace_is_refused(run: tuple[Path, SplitRecorder], tmp_path: Path) -> None:
    source, _ = run
    complete = next(
        p for p in sorted(source.glob("n*.trace.jsonl")) if b'"end":"complete"' in p.read_bytes()
    )
    lines = complete.read_bytes().splitlines(keepends=True)
    event = orjson.loads(lines[2])
    lines[2] = orjson.dumps({**event, "t": event["t"] + 1}) + b"\n"
    copy = tmp_path / complete.name
    copy.write_bytes(b"".join(lines))
    with pytest.raises(TraceError, match="modified after writing"):
        merge_traces([copy])


def test_a_clock_that_does_not_grow_and_a_repeated_incarnation_are_refused(
    tmp_path: Path,
) -> None:
    path = _node_file(
        tmp_path / "n1.0.trace.jsonl", 1, [_step(1, 4, "tick", tk=1), _step(1, 4, "tick", tk=2)]
    )
    with pytest.raises(TraceError, match="Lamport clock 4 does not grow") as caught:
        merge_traces([path])
    assert caught.value.line == 3
    other = tmp_path / "again"
    other.mkdir()
    again = _node_file(other / "n1.0.trace.jsonl", 1, [_step(1, 9, "tick", tk=1)])
    good = _node_file(tmp_path / "n1.0b.jsonl", 1, [_step(1, 1, "tick", tk=1)])
    with pytest.raises(TraceError, match="incarnation 0 is also"):
        merge_traces([good, again])


def test_a_restart_whose_clock_does_not_resume_is_refused(tmp_path: Path) -> None:
    first = _node_file(tmp_path / "n1.0.trace.jsonl", 1, [_step(1, 7, "tick", tk=1)])
    writer = NodeTraceWriter(tmp_path / "n1.1.trace.jsonl", 1, "full", {"raft": {}}, incarnation=1)
    writer.emit(_step(1, 3, "tick", tk=1))
    writer.close()
    with pytest.raises(TraceError, match="not above the last of the node's previous incarnation"):
        merge_traces([first, writer.path])


def test_a_bad_history_line_is_named(run: tuple[Path, SplitRecorder], tmp_path: Path) -> None:
    directory, _ = run
    history = tmp_path / "h.jsonl"
    history.write_bytes(b'{"history": 1}\n{"client": 1, "type": "invoke", "f": "get"}\n')
    with pytest.raises(TraceError, match="merging needs an integer 'time'") as caught:
        merge_traces(_inputs(directory), history=history)
    assert caught.value.where == str(history) and caught.value.line == 2


def test_node_files_are_listed_per_incarnation(run: tuple[Path, SplitRecorder]) -> None:
    directory, _ = run
    header, _ = merge_traces(_inputs(directory))
    listed = [(i["node"], i["incarnation"]) for i in header["inputs"] if i["kind"] == "node"]
    expected = [(n, inc) for n in (1, 2, 3) for inc, _ in node_trace_files(directory, n)]
    assert listed == expected
    assert header["impl"] == "raftlab-merge" and header["nodes"] == [1, 2, 3]
    assert "raft" in header and "tick_us" in header


def test_a_process_killed_before_its_first_event_and_repeated_inputs_merge(
    run: tuple[Path, SplitRecorder], tmp_path: Path
) -> None:
    source, _ = run
    directory = tmp_path / "more"
    shutil.copytree(source, directory)
    incarnation = len(node_trace_files(directory, 1))
    empty = directory / f"n1.{incarnation}.trace.jsonl"
    fields = {"raft": load_trace(directory / "n1.0.trace.jsonl")[0]["raft"]}
    NodeTraceWriter(empty, 1, "full", fields, incarnation=incarnation).abandon()
    expected = merge_traces(_inputs(source))[1]
    header, events = merge_traces([directory, *_inputs(directory)])  # each file once
    entry = next(i for i in header["inputs"] if i["file"] == str(empty))
    assert entry["events"] == 0 and entry["ending"].startswith("killed")
    inferred = [e for e in events if e["act"] == "crash" and e.get("inferred")]
    assert [c["node"] for c in inferred] == [1]  # between the last full file and the empty one
    assert len(events) == len(expected) + 1


def test_node_files_without_run_fields_still_replay_and_merge(tmp_path: Path) -> None:
    recorder = split_run(tmp_path, seed=3, bare=True)
    for path in sorted(tmp_path.glob("n*.trace.jsonl")):
        assert "raft" not in load_trace(path)[0]
        assert replay_file(path).verdict == "DETERMINISTIC"  # the starts carry in.raft
    header, _, merged = _merge_and_write(tmp_path, tmp_path / "merged.jsonl")
    assert header["raft"] == recorder.header["raft"]
    _assert_passes(merged)
    assert replay_file(merged).verdict == "DETERMINISTIC"


def test_merged_times_count_from_the_first_event(run: tuple[Path, SplitRecorder]) -> None:
    directory, recorder = run
    header, events = merge_traces(_inputs(directory))
    first = min(e["t"] for e in recorder.events)
    assert header["t0_unix_us"] == first and min(e["t"] for e in events) == 0
    assert header["clock"] == "microseconds since t0_unix_us"
