"""The trace builder makes traces the real tools accept, with the structure
``consensus.traced`` gives real ones; otherwise the checker tests would
prove nothing."""

from __future__ import annotations

from pathlib import Path

from tests.checkers import scenarios as s
from tests.checkers.builder import TraceBuilder, digest
from traces.projection import Projection
from traces.reader import load_trace
from traces.schema import INPUT_ACTIONS, STATE_FIELDS


def sample() -> TraceBuilder:
    b = s.committed_after_election(new_leader_has_it=True).trace
    b.restart(2, cause=b.crash(2))
    b.emit("client", "invoke", client=1, f="get", key="k", value=None)
    return b


def test_a_built_trace_reads_back_unchanged(tmp_path: Path) -> None:
    b = sample()
    header, events = load_trace(b.write(tmp_path / "t.jsonl"))
    assert header == b.header and header["raft"]
    assert events == b.events


def test_steps_are_an_input_followed_by_its_effects() -> None:
    b = sample()
    step = None
    for event in b.events:
        if event["act"] in INPUT_ACTIONS:
            step = event
            assert "dg" in event and event["n"].startswith("n")
        elif "cause" in event and event["n"] == (step or {}).get("n"):
            assert event["cause"] == step["seq"]
            assert (event["t"], event["term"]) == (step["t"], step["term"])
        else:
            assert event["n"] in ("env", "client"), event


def test_lamport_clocks_grow_per_actor_and_past_every_send() -> None:
    b = sample()
    last: dict[str, int] = {}
    sends = {}
    for event in b.events:
        assert event["lc"] > last.get(event["n"], 0)
        last[event["n"]] = event["lc"]
        if event["act"] == "send":
            sends[event["mid"]] = event
            assert event["mid"] == f"{event['n'][1:]}:{event['lc']}"
        if event["act"] == "recv":
            sent = sends[event["in"]["mid"]]
            assert event["cause"] == sent["seq"]
            assert event["lc"] > sent["lc"]
            assert event["in"]["type"] == sent["msg"]["type"]


def test_state_deltas_fold_to_the_builders_state_and_digest() -> None:
    b = sample()
    projection = Projection()
    for event in b.events:
        projection.apply(event)
        if "st" in event and event["act"] not in ("boot", "restart"):
            assert event["st"], "an empty delta is left out"
        if "dg" in event:
            state = projection.state(event["n"])
            assert sorted(state) == sorted(STATE_FIELDS)
            assert event["dg"] == digest(state)
            assert event["term"] == state["term"]
    for node in (1, 2, 3):
        assert projection.state(f"n{node}") == b.state(node)


def test_effects_imply_the_state_they_describe() -> None:
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 7))
    assert b.state(1) | {"conf": None} == {
        "term": 1,
        "role": "leader",
        "vote": 1,
        "lead": 1,
        "commit": 1,
        "applied": 1,
        "last": 2,
        "last_term": 1,
        "snap": 1,
        "conf": None,
    }
    ack = b.replicate(1, 2, (2, 1, 7))
    b.leader_commit(1, ack, 2, support=[1, 2])
    assert b.state(1)["commit"] == 2 and b.state(1)["applied"] == 1
    b.applied(1, 2)
    assert b.state(1)["applied"] == 2
    assert b.state(2)["role"] == "follower" and b.state(2)["last"] == 2
