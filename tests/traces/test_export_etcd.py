"""The etcd-raft NDJSON export: lines in the shape etcd-raft's tracing writes
(state_trace.go), each carrying what the raftlab event it came from says;
every event either becomes one line or is counted as skipped."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.traces.simulated import simulate, write_trace
from traces.export import export_trace
from traces.export.etcd import etcd_message
from traces.schema import INPUT_ACTIONS

#: The event names etcd-raft's tracing writes (its stateMachineEventType).
ETCD_EVENTS = {
    "InitState",
    "BecomeCandidate",
    "BecomeFollower",
    "BecomeLeader",
    "Commit",
    "Replicate",
    "ChangeConf",
    "ApplyConfChange",
    "Ready",
    "SendAppendEntriesRequest",
    "ReceiveAppendEntriesRequest",
    "SendAppendEntriesResponse",
    "ReceiveAppendEntriesResponse",
    "SendRequestVoteRequest",
    "ReceiveRequestVoteRequest",
    "SendRequestVoteResponse",
    "ReceiveRequestVoteResponse",
    "SendSnapshot",
    "ReceiveSnapshot",
}
ROLES = {"StateFollower", "StatePreCandidate", "StateCandidate", "StateLeader"}
MSG_FIELDS = ["type", "term", "from", "to", "entries", "logTerm", "index", "commit", "vote"]
MSG_FIELDS += ["reject", "rejectHint"]

RUNS = [("default", 1, 1.2, "joint"), ("crashes", 3, 1.5, "random"), ("chaos", 5, 1.5, "joint")]


def exported(tmp_path: Path, run: tuple[str, int, float, str]) -> tuple[list[Any], Any, list[Any]]:
    header, events = simulate(*run)
    trace = write_trace(tmp_path / "trace.jsonl", header, events)
    out = tmp_path / "trace.ndjson"
    result = export_trace(trace, "etcd-ndjson", out)
    out.write_bytes(result.data)
    lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    return events, result.summary, lines


@pytest.mark.parametrize("run", RUNS, ids=lambda r: f"{r[0]}-{r[3]}")
def test_lines_have_etcd_raft_s_shape(tmp_path: Path, run: Any) -> None:
    events, summary, lines = exported(tmp_path, run)
    assert len(lines) == summary["lines"] > 0
    for line in lines:
        assert line["tag"] == "trace" and isinstance(line["ts"], float)
        event = line["event"]
        assert event["name"] in ETCD_EVENTS
        assert event["nid"].isdigit() and event["role"] in ROLES
        state = event["state"]
        assert isinstance(state["term"], int) and isinstance(state["commit"], int)
        assert state["vote"].isdigit() and isinstance(event["log"], int)
        voters, outgoing = event["conf"]
        assert all(n.isdigit() for n in voters + outgoing)
        if "msg" in event:
            assert list(event["msg"]) == MSG_FIELDS
            assert event["msg"]["type"] in {"MsgApp", "MsgHeartbeat", "MsgSnap", "MsgAppResp"} | {
                "MsgHeartbeatResp",
                "MsgVote",
                "MsgVoteResp",
            }
    assert Counter(line["event"]["name"] for line in lines) == summary["written"]
    assert sum(summary["written"].values()) + sum(summary["skipped"].values()) == len(events)


@pytest.mark.parametrize("run", RUNS, ids=lambda r: f"{r[0]}-{r[3]}")
def test_each_line_says_what_its_event_says(tmp_path: Path, run: Any) -> None:
    events, _, lines = exported(tmp_path, run)
    by_seq = {e["seq"]: e for e in events}
    sends = {e["mid"]: e["msg"] for e in events if e["act"] == "send"}
    last_term: dict[str, int] = {}  # each node's term after its latest event so far
    line_of = {line["seq"]: line["event"] for line in lines}
    for event in events:
        line = line_of.get(event["seq"])
        actor = event["n"]
        if line is not None:
            assert line["nid"] == actor[1:]
            if event["act"] == "recv":  # etcd traces a message as the node starts on it
                assert line["state"]["term"] == last_term[actor]
                assert line["msg"] == etcd_message(sends[event["in"]["mid"]])
            else:
                assert line["state"]["term"] == event["term"]
            check_line(event, line, by_seq)
        if "term" in event:
            last_term[actor] = event["term"]
    for event in events:
        msg = event.get("msg") or {}
        if event["act"] == "send" and (msg.get("pre") or msg["type"] == "timeout_now"):
            assert event["seq"] not in line_of, "etcd-raft traces no PreVote or TimeoutNow"


def check_line(event: dict[str, Any], line: dict[str, Any], by_seq: dict[int, Any]) -> None:
    act, name = event["act"], line["name"]
    if act == "send":
        msg, out = event["msg"], line["msg"]
        assert name.startswith("Send") and (out["from"], out["to"]) == (
            str(msg["src"]),
            str(msg["dst"]),
        )
        assert out["term"] == msg["term"]
        if msg["type"] == "append_req":
            assert (out["index"], out["logTerm"]) == (msg["prev_index"], msg["prev_term"])
            assert (out["entries"], out["commit"]) == (len(msg["entries"]), msg["commit"])
        if msg["type"] == "vote_req":
            assert (out["index"], out["logTerm"]) == (msg["last_index"], msg["last_term"])
        if msg["type"] == "vote_resp":
            assert out["reject"] is not msg["granted"]
        if msg["type"] == "append_resp":
            assert out["reject"] is not msg["success"] and out["index"] == msg["index"]
    elif act == "become_leader":
        assert name == "BecomeLeader" and line["role"] == "StateLeader"
    elif act == "become_candidate":
        assert name == "BecomeCandidate"
    elif act == "commit":
        assert name == "Commit"
    elif act == "conf_apply":
        assert name == "ApplyConfChange"
        assert line["prop"]["cc"]["newconf"] == [str(n) for n in event["conf"]["voters"]]
    elif act == "accepted":
        cause = by_seq[event["cause"]]
        if cause["act"] == "propose":
            assert name == "Replicate"
        else:
            assert name == "ChangeConf"
            ops = {"add_voter": "AddNewServer", "add_learner": "AddLearner"}
            ops["remove"] = "RemoveServer"
            wanted = [
                {"nid": str(node), "action": ops[op]} for op, node in cause["in"]["change"]["items"]
            ]
            assert line["prop"]["cc"]["changes"] == wanted
    elif act in ("boot", "restart"):
        assert name == "InitState"
    else:
        assert act in INPUT_ACTIONS or act == "become_follower", act


def test_the_joint_plan_s_changes_are_traced(tmp_path: Path) -> None:
    _, summary, lines = exported(tmp_path, RUNS[0])
    changes = [
        line["event"]["prop"]["cc"]["changes"]
        for line in lines
        if line["event"]["name"] == "ChangeConf"
    ]
    assert changes[0] == [{"nid": "6", "action": "AddLearner"}]
    assert [{"nid": "6", "action": "AddNewServer"}, {"nid": "1", "action": "RemoveServer"}] in (
        changes
    )
    joint = [line for line in lines if line["event"]["conf"][1]]
    assert joint, "a joint configuration shows as conf's second list"
    assert summary["skipped"]["send vote_req (pre)"] > 0
