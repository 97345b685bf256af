"""Scripted membership changes happen, in order, through the real protocol."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checkers import default_registry, run_checkers
from sim import ScriptError, SimConfig, Simulation, load_script
from traces.recorder import MemoryRecorder, make_header

SCRIPT = [
    {"at": 1.0, "do": "add_learner", "node": 4},
    {"at": 2.5, "do": "promote", "node": 4},
    {"at": 4.0, "do": "add_learner", "node": 5},
    {
        "at": 5.5,
        "do": "change",
        "items": [["add_voter", 5], ["remove", 1]],
        "transition": "joint_explicit",
    },
    {"at": 7.0, "do": "leave_joint"},
    {"at": 8.0, "do": "transfer", "node": 3},
    {"at": 9.0, "do": "demote", "node": 2},
]


def run_script(tmp_path: Path) -> MemoryRecorder:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(SCRIPT))
    config = SimConfig(nodes=3, seed=5, duration_s=11.0)
    recorder = MemoryRecorder(make_header("raftlab-sim", **config.header_fields()))
    Simulation(config, recorder, load_script(path)).run()
    return recorder


def test_a_script_drives_every_kind_of_change(tmp_path: Path) -> None:
    recorder = run_script(tmp_path)
    events = recorder.events
    leader_changes = []
    for e in events:
        if e["act"] == "conf_apply" and (e["change"] not in leader_changes):
            leader_changes.append(e["change"])
    assert leader_changes == [
        "add_learner 4",
        "add_voter 4",
        "add_learner 5",
        "add_voter 5, remove 1 (joint_explicit)",
        "leave joint",
        "add_learner 2",
    ]
    joints = [e for e in events if e["act"] == "enter_joint"]
    assert joints and all(e["auto_leave"] is False for e in joints)
    assert any(e["act"] == "transfer_start" and e["target"] == 3 for e in events)
    assert any(e["act"] == "become_leader" and e["n"] == "n3" for e in events)
    final = [e["conf"] for e in events if e["act"] == "conf_apply"][-1]
    assert final == {"voters": [3, 4, 5], "learners": [2]}
    report = run_checkers(events, default_registry().create(recorder.header))
    assert report.ok, "\n".join(v.describe() for v in report.violations)


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ("{}", "a JSON list of steps"),
        ('[{"do": "promote", "node": 4}]', "numeric 'at'"),
        ('[{"at": 1, "do": "promote"}]', "needs an integer 'node'"),
        ('[{"at": 1, "do": "explode", "node": 1}]', "unknown action 'explode'"),
        ('[{"at": 1, "do": "change", "items": [["grow", 4]]}]', "unknown conf change op"),
        ("not json", "cannot read membership script"),
    ],
)
def test_bad_scripts_are_rejected_with_the_step_and_the_problem(
    tmp_path: Path, script: str, problem: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(script)
    with pytest.raises(ScriptError, match=problem) as info:
        load_script(path)
    assert str(path) in str(info.value)
