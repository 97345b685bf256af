"""Deterministic replay: a recorded run replays exactly, and any tampering
with a node step is reported at the first event that differs."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import pytest

from consensus.replayer import CoreReplayer, ReplayError
from raftlab.experiment import replay_file, simulate
from sim import SimConfig, get_profile
from tests.traces.simulated import simulate as simulated
from tests.traces.simulated import write_trace
from traces.replay import ReplayReport, replay_trace

Event = dict[str, Any]


def trace() -> tuple[Event, list[Event]]:
    return simulated("default", 2, 1.0)


def a_busy_step(events: list[Event]) -> tuple[Event, list[Event]]:
    """An input event past the start of the run that changed the node's
    state and caused at least three effects, one of them a send; and its
    effects."""
    for event in events[500:]:
        if "dg" not in event or "st" not in event:
            continue
        effects = []
        for later in events[event["seq"] :]:
            if later.get("cause") != event["seq"] or later["n"] != event["n"]:
                break
            effects.append(later)
        if len(effects) >= 3 and any(e["act"] == "send" for e in effects):
            return event, effects
    raise AssertionError("no busy step in the trace")


def renumbered(events: list[Event]) -> list[Event]:
    """``events`` after lines were added or deleted, numbered again as a
    file must be (causes follow their events)."""
    new = {id(e): i for i, e in enumerate(events, start=1)}
    by_old = {e["seq"]: new[id(e)] for e in reversed(events)}
    out = []
    for event in events:
        event = dict(event, seq=new[id(event)])
        if "cause" in event:
            event["cause"] = by_old.get(event["cause"], event["cause"])
        out.append(event)
    return out


def replay(tmp_path: Path, header: Event, events: list[Event]) -> ReplayReport:
    return replay_file(write_trace(tmp_path / "trace.jsonl", header, events))


def diverged_at(report: ReplayReport, seq: int) -> str:
    assert report.divergence is not None, "the tampering went unnoticed"
    text = report.divergence.describe()
    assert report.divergence.seq == seq, text
    assert text.startswith(f"diverged at seq {seq}: expected ")
    return text


@pytest.mark.parametrize(("profile", "seed"), [("default", 4), ("chaos", 3)])
def test_a_recorded_run_replays_without_divergence(tmp_path: Path, profile: str, seed: int) -> None:
    path = tmp_path / "run.jsonl"
    config = SimConfig(nodes=5, seed=seed, duration_s=2.0, profile=get_profile(profile))
    stats = simulate(config, "random", path)
    report = replay_file(path)
    assert report.ok, report.divergence and report.divergence.describe()
    assert report.steps >= stats.steps > 0
    assert report.nodes >= {"n1", "n2", "n3", "n4", "n5"}
    assert report.events == len(path.read_bytes().splitlines()) - 2  # header, closing record


def test_membership_changes_and_a_leader_transfer_replay_too() -> None:
    header, events = simulated("chaos", 3, 2.5, "joint")
    actions = {e["act"] for e in events}
    assert {"enter_joint", "leave_joint", "voter_demote", "transfer_start"} <= actions
    report = replay_trace(events, CoreReplayer(header))
    assert report.ok, report.divergence and report.divergence.describe()


def test_a_changed_digest_diverges_at_its_step(tmp_path: Path) -> None:
    header, events = trace()
    step, _ = a_busy_step(events)
    step["dg"] = "deadbeef"
    text = diverged_at(replay(tmp_path, header, events), step["seq"])
    assert 'dg: expected "deadbeef", got "' in text


def test_a_changed_state_field_diverges_at_its_step(tmp_path: Path) -> None:
    header, events = trace()
    step, _ = a_busy_step(events)
    field = sorted(step["st"])[0]
    original = copy.deepcopy(step["st"])
    step["st"][field] = "tampered"
    text = diverged_at(replay(tmp_path, header, events), step["seq"])
    assert 'st: expected {"' in text and '"tampered"' in text
    assert f'"{field}":' in text.split("got", 1)[1]
    assert original[field] != "tampered"


@pytest.mark.parametrize("tamper", ["change a field", "delete a field"])
def test_a_changed_effect_diverges_at_that_effect(tmp_path: Path, tamper: str) -> None:
    header, events = trace()
    _, effects = a_busy_step(events)
    sent = next(e for e in effects if e["act"] == "send")
    if tamper == "change a field":
        sent["msg"]["term"] += 7
        field = "msg"
    else:
        del sent["mid"]
        field = "mid"
    text = diverged_at(replay(tmp_path, header, events), sent["seq"])
    assert f"\n  {field}: expected " in text


@pytest.mark.parametrize("which", ["second", "last"])
def test_a_deleted_effect_line_diverges_where_it_was(tmp_path: Path, which: str) -> None:
    header, events = trace()
    _, effects = a_busy_step(events)
    gone = effects[1] if which == "second" else effects[-1]
    events.remove(gone)
    text = diverged_at(replay(tmp_path, header, renumbered(events)), gone["seq"])
    assert f'"act":"{gone["act"]}"' in text.split("got", 1)[1]


@pytest.mark.parametrize("which", ["first", "last"])
def test_an_extra_effect_line_diverges_where_it_was_added(tmp_path: Path, which: str) -> None:
    header, events = trace()
    _, effects = a_busy_step(events)
    copied = effects[0] if which == "first" else effects[-1]
    events.insert(copied["seq"], copy.deepcopy(copied))  # right after the original
    text = diverged_at(replay(tmp_path, header, renumbered(events)), copied["seq"] + 1)
    if which == "last":
        assert text.endswith(", got nothing")


def test_a_message_that_was_never_sent_is_a_clear_error(tmp_path: Path) -> None:
    header, events = trace()
    recv = next(e for e in events[500:] if e["act"] == "recv")
    recv["in"]["mid"] = "9:424242"
    with pytest.raises(ReplayError) as caught:
        replay(tmp_path, header, events)
    assert str(caught.value) == f"seq {recv['seq']}: message 9:424242 was never sent"


def test_a_restart_from_a_different_disk_is_a_clear_error(tmp_path: Path) -> None:
    header, events = simulated("chaos", 3, 2.5)
    restart = next(e for e in events if e["act"] == "restart")
    restart["in"]["durable"]["commit"] += 1
    with pytest.raises(ReplayError) as caught:
        replay(tmp_path, header, events)
    message = str(caught.value)
    assert message.startswith(f"seq {restart['seq']}: node {restart['n'][1:]} restarts from ")
    assert "on record, but replay rebuilt" in message


@pytest.mark.parametrize("raft", [{"election_ticks": 0}, {"no_such_option": 1}, "fast"])
def test_a_bad_raft_config_in_the_header_is_a_clear_error(raft: object) -> None:
    header, _ = trace()
    with pytest.raises(ReplayError, match="trace header has a bad raft config: "):
        CoreReplayer({**header, "raft": raft})


def test_an_input_caused_by_the_previous_step_is_replayed_as_its_own_step(
    tmp_path: Path,
) -> None:
    """Inputs whose cause is the node's previous step (say, a storage
    acknowledgement that names the step that asked for the write) are steps
    of their own, not effects of that step."""
    header, events = trace()
    linked = 0
    for before, event in itertools.pairwise(events):
        if event["act"] == "persisted" and before["n"] == event["n"] and "cause" in before:
            head = events[before["cause"] - 1]
            if head["n"] == event["n"] and "dg" in head:
                event["cause"] = head["seq"]
                linked += 1
    assert linked > 10
    report = replay(tmp_path, header, events)
    assert report.ok, report.divergence and report.divergence.describe()


def _delete_restart(events: list[Event]) -> tuple[list[Event], str]:
    restart = next(e for e in events if e["act"] == "restart")
    later = next(e for e in events[restart["seq"] :] if e["n"] == restart["n"] and "dg" in e)
    events.remove(restart)
    return renumbered(events), f"seq {later['seq'] - 1}: {restart['n']} is not running"


def _restart_a_stranger(events: list[Event]) -> tuple[list[Event], str]:
    restart = next(e for e in events if e["act"] == "restart")
    restart["n"] = "n9"
    return events, f"seq {restart['seq']}: n9 restarts but never booted"


def _unreadable_seed(events: list[Event]) -> tuple[list[Event], str]:
    events[0]["in"]["seed"] = "seven"
    return events, "seq 1: cannot replay boot: invalid literal for int()"


def _step_on_a_node_never_booted(events: list[Event]) -> tuple[list[Event], str]:
    tick = next(e for e in events[100:] if e["act"] == "tick")
    tick["n"] = "n9"
    return events, f"seq {tick['seq']}: n9 is not running (no boot or restart since the trace"


@pytest.mark.parametrize(
    "tamper",
    [_delete_restart, _restart_a_stranger, _unreadable_seed, _step_on_a_node_never_booted],
)
def test_a_trace_replay_cannot_follow_is_a_clear_error(tmp_path: Path, tamper: Any) -> None:
    header, events = simulated("chaos", 3, 2.5)
    events, message = tamper(events)
    with pytest.raises(ReplayError) as caught:
        replay(tmp_path, header, events)
    assert str(caught.value).startswith(message)
