"""Scripted membership changes happen, in order, through the real protocol."""

from __future__ import annotations

import json
import re
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


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ('[{"at": 1, "do": "promote", "node": 9}]', "step 1 (at 1 s) names node 9, which never"),
        (
            '[{"at": 1, "do": "add_learner", "node": 4}, {"at": 0.5, "do": "promote", "node": 4}]',
            "step 2 (at 0.5 s) names node 4",
        ),
        ('[{"at": 1, "do": "change", "items": [["remove", 7]]}]', "step 1 (at 1 s) names node 7"),
        ('[{"at": 1, "do": "transfer", "node": 5}]', "names node 5"),
        ('[{"at": 2, "do": "stop", "node": 0}]', "names node 0"),
        (
            '[{"at": 1, "do": "leave_joint"}, {"at": 12.5, "do": "promote", "node": 2}]',
            "step 2 (promote at 12.5 s) comes after the end of the run (10 s)",
        ),
        ('[{"at": -1, "do": "leave_joint"}]', "step 1: 'at' must be a finite time >= 0"),
    ],
)
def test_scripts_naming_unknown_nodes_or_late_steps_are_rejected(
    tmp_path: Path, script: str, problem: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(script)
    with pytest.raises(ScriptError, match=re.escape(problem)):
        load_script(path, nodes=3, duration_s=10.0)


def test_nodes_a_script_adds_may_be_named_afterwards(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(SCRIPT))
    actor = load_script(path, nodes=3, duration_s=11.0)
    assert len(actor.steps) == len(SCRIPT) + 2  # add_learner also starts the node


def test_the_cli_names_the_bad_step_and_exits_2(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from raftlab.cli import app

    path = tmp_path / "bad.json"
    path.write_text('[{"at": 1, "do": "promote", "node": 9}]')
    out = tmp_path / "t.jsonl"
    for command, where in (
        ("sim", ["--out", str(out)]),
        ("run", ["--out-dir", str(tmp_path / "r")]),
    ):
        result = CliRunner().invoke(
            app,
            [
                command,
                *(["--sim"] if command == "run" else []),
                "--nodes",
                "3",
                "--duration",
                "2",
                "--membership",
                str(path),
                *where,
            ],
        )
        assert result.exit_code == 2, result.output
        assert "step 1 (at 1 s) names node 9" in result.output
        assert "Traceback" not in result.output
    assert not out.exists()
