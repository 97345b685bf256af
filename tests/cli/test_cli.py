"""The command line, end to end through ``typer.testing.CliRunner``: help,
exit codes (0 pass, 1 a failed check, 2 bad input) and what is printed."""

from __future__ import annotations

import copy
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner, Result

from checkers import default_registry
from raftlab.cli import app
from tests.checkers import scenarios as s
from tests.traces.simulated import simulate, write_trace

COMMANDS = ["run", "sim", "check", "replay"]


def invoke(*args: str | Path, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], input=stdin)


def save(trace: s.TraceBuilder, path: Path) -> Path:
    """A hand-made trace written as the recorder writes one (closing record included)."""
    return write_trace(path, trace.header, trace.events)


def words(text: str) -> str:
    """``text`` with runs of whitespace (and rich's box drawing) folded."""
    return " ".join(text.replace("│", " ").split())


def failed(result: Result, code: int, *phrases: str) -> str:
    """The error output of a command that exited with ``code``."""
    assert result.exit_code == code, result.output
    error = result.stderr
    assert error.startswith("error: "), result.output
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in error, error
    return error


@pytest.fixture(scope="module")
def good_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    header, events = simulate("default", 1, 2.0)
    return write_trace(tmp_path_factory.mktemp("good") / "run.jsonl", header, events)


# -- help ------------------------------------------------------------------------------


def test_the_top_level_help_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    text = words(result.output)
    for command in COMMANDS:
        assert f" {command} " in text
    assert "raftlab sim --seed 7 --out run.jsonl" in text


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_says_what_exit_codes_mean(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    text = words(result.output)
    assert "Exit codes: 0 " in text
    assert " 1 " in text.split("Exit codes:", 1)[1]
    if command != "replay":
        assert " 2 bad " in text.split("Exit codes:", 1)[1]


# -- bad arguments ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["sim", "run"])
@pytest.mark.parametrize(
    ("args", "phrases"),
    [
        (
            ["--faults", "hurricane"],
            ["unknown fault profile 'hurricane'", "known: chaos, crashes, default"],
        ),
        (["--nodes", "0"], ["--nodes must be between 1 and 64, got 0"]),
        (["--duration", "-1"], ["--duration must be a positive number of simulated seconds"]),
        (["--duration", "nan"], ["--duration must be a positive number", "got nan"]),
        (["--duration", "inf"], ["--duration must be a positive number", "got inf"]),
        (["--seed", str(2**64)], ["--seed must be between 0 and 9223372036854775807"]),
        (["--seed", "-1"], ["--seed must be between 0 and"]),
        (["--membership", "no-such-plan.json"], ["--membership: 'no-such-plan.json' is not"]),
    ],
)
def test_bad_simulation_arguments_exit_2_and_name_the_problem(
    tmp_path: Path, command: str, args: list[str], phrases: list[str]
) -> None:
    where = ["--out", tmp_path / "t.jsonl"] if command == "sim" else ["--out-dir", tmp_path / "r"]
    kind = ["--sim"] if command == "run" else []
    failed(invoke(command, *kind, *args, *where), 2, *phrases)
    assert list(tmp_path.iterdir()) == [], "nothing is written for bad arguments"


def test_an_output_path_of_the_wrong_kind_exits_2(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    failed(invoke("sim", "--out", tmp_path), 2, f"--out: {tmp_path} is a directory")
    failed(
        invoke("run", "--sim", "--out-dir", a_file), 2, f"--out-dir: {a_file} exists and is not a"
    )
    assert sorted(tmp_path.iterdir()) == [a_file]


def test_a_bad_membership_script_exits_2(tmp_path: Path) -> None:
    script = tmp_path / "plan.json"
    script.write_text('{"at": 1}')
    for command, where in (("sim", "--out"), ("run", "--out-dir")):
        kind = ["--sim"] if command == "run" else []
        result = invoke(command, *kind, "--membership", script, where, tmp_path / command)
        failed(result, 2, f"{script}: a membership script is a JSON list of steps")


@pytest.mark.parametrize("command", ["check", "replay"])
def test_a_missing_trace_exits_2_and_names_it(tmp_path: Path, command: str) -> None:
    path = tmp_path / "gone[1]" / "trace[a].jsonl"
    failed(invoke(command, path), 2, f"{path}: cannot open: No such file or directory")


@pytest.mark.parametrize("command", ["check", "replay"])
def test_a_malformed_trace_exits_2_and_names_the_line(tmp_path: Path, command: str) -> None:
    header, events = simulate("default", 1, 2.0)
    path = write_trace(tmp_path / "bad.jsonl", header, events)
    lines = path.read_bytes().splitlines()
    lines[4] = lines[4][:-5]  # the fourth event, cut short
    path.write_bytes(b"\n".join(lines) + b"\n")
    failed(invoke(command, path), 2, f"{path}:5: malformed JSON")


@pytest.mark.parametrize("command", ["check", "replay"])
def test_a_trace_of_another_version_exits_2(tmp_path: Path, command: str) -> None:
    trace = s.two_leaders().trace
    trace.header["version"] = 99
    path = trace.write(tmp_path / "v99.jsonl")
    failed(invoke(command, path), 2, f"{path}:1: unsupported trace version 99")


def test_check_names_an_event_it_cannot_read(tmp_path: Path) -> None:
    trace = s.two_leaders().trace
    won = s.two_leaders().witnesses[0]
    del trace.events[won - 1]["term"]
    path = trace.write(tmp_path / "t.jsonl")
    failed(
        invoke("check", path),
        2,
        f"{path}: event {won} (become_leader of n1) is malformed: no field 'term'",
    )


def test_check_rejects_unknown_checkers_listing_the_known_ones(tmp_path: Path) -> None:
    path = save(s.two_leaders().trace, tmp_path / "t.jsonl")
    failed(
        invoke("check", path, "--checker", "no-such"),
        2,
        "unknown checker(s) no-such; known: election-safety, leader-append-only",
    )


def test_check_without_a_trace_exits_2() -> None:
    failed(invoke("check"), 2, "which trace?")


def test_check_lists_the_checkers() -> None:
    result = invoke("check", "--list")
    assert result.exit_code == 0
    text = words(result.output)
    for name in s.default_registry(plugins=False).names():
        assert name in text
    assert "Election Safety: At most one leader can be elected in a given term" in text


# -- check ----------------------------------------------------------------------------------

VIOLATIONS = {
    "election-safety": lambda: s.two_leaders(2),
    "leader-append-only": lambda: s.leader_rewrites("truncate"),
    "log-matching": s.mismatched_prefix,
    "leader-completeness": s.elected_without_committed,
    "state-machine-safety": s.different_applies,
    "monotonic-commit-apply": s.commit_goes_back,
    "single-change-pending": s.second_change,
    "joint-quorum": lambda: s.joint_commit((4,)),
    "learners-never-vote": lambda: s.vote_from(4),
    "no-campaign-unapplied-conf": s.campaign_with_unapplied_change,
}


@pytest.mark.parametrize("checker", sorted(VIOLATIONS))
def test_check_exits_1_on_a_violation(tmp_path: Path, checker: str) -> None:
    scenario = VIOLATIONS[checker]()
    path = save(scenario.trace, tmp_path / "bad.jsonl")
    result = invoke("check", path)
    assert result.exit_code == 1, result.output
    seqs = ", ".join(map(str, scenario.witnesses))
    assert f" violated (events {seqs}):" in result.output
    assert f"{checker} 1 violation(s)" in words(result.output)
    assert result.output.rstrip().endswith("verdict: FAIL")


def test_check_exits_0_on_a_near_miss(tmp_path: Path) -> None:
    # the built-in checkers' near miss; the story is not a run of the spec
    # (its elections skip terms, its leaders append no no-op), so --no-spec
    path = save(s.two_leaders(second_term=3).trace, tmp_path / "ok.jsonl")
    result = invoke("check", path, "--no-spec")
    assert result.exit_code == 0, result.output
    assert "election-safety ok" in words(result.output)
    assert result.output.rstrip().endswith("verdict: PASS")
    spec = orjson.loads(invoke("check", path, "--json").stdout)["violations"]
    assert {v["invariant"] for v in spec} == {"Tick", "HandleVoteResponse"}


def test_check_runs_only_the_checkers_asked_for(tmp_path: Path) -> None:
    path = save(s.two_leaders(2).trace, tmp_path / "bad.jsonl")
    assert invoke("check", path, "-c", "log-matching", "-c", "joint-quorum").exit_code == 0
    assert invoke("check", path, "-c", "election-safety").exit_code == 1


def test_check_prints_json_on_request(tmp_path: Path) -> None:
    scenario = s.two_leaders(2)
    path = save(scenario.trace, tmp_path / "bad[1].jsonl")
    result = invoke("check", path, "--json")
    assert result.exit_code == 1
    doc = orjson.loads(result.stdout)
    assert doc["trace"] == str(path) and doc["ok"] is False
    assert doc["events"] == len(scenario.trace.events)
    # every registered checker, and the spec checker (raftlab check runs it unless --no-spec)
    assert doc["checkers"] == [*default_registry(plugins=False).names(), "spec-invariants"]
    found = sorted({v["checker"] for v in doc["violations"]})
    assert found == ["election-safety", "spec-invariants", "vote-once"]
    # the spec sees two leaders, a node's two votes in one term, and the second
    # vote is no step of the spec's vote_req action (trace validation); the
    # story's elections skip terms (Tick) and its leaders append no no-op
    # (HandleVoteResponse), which the spec's actions refuse too
    spec = {v["invariant"] for v in doc["violations"] if v["checker"] == "spec-invariants"}
    assert spec == {"ElectionSafety", "VoteOnce", "HandleVoteRequest", "Tick", "HandleVoteResponse"}
    [violation] = [v for v in doc["violations"] if v["checker"] == "election-safety"]
    assert violation["witnesses"] == list(scenario.witnesses)
    assert doc["linearizability"] is None
    assert doc["verdict"] == "FAIL" and doc["integrity"]["state"] == "complete"
    assert doc["files"] == {}


def test_check_passes_a_simulated_run(good_trace: Path) -> None:
    result = invoke("check", good_trace)
    assert result.exit_code == 0, result.output
    assert "client history" in result.output and ": linearizable" in result.output
    assert result.output.rstrip().endswith("verdict: PASS")


# -- replay ---------------------------------------------------------------------------------


def test_replay_exits_0_on_a_recorded_run(good_trace: Path) -> None:
    result = invoke("replay", good_trace)
    assert result.exit_code == 0, result.output
    assert "every effect and state digest matched" in result.output
    assert result.output.rstrip().endswith("verdict: DETERMINISTIC")


def test_replay_exits_1_when_an_intact_file_does_not_replay(tmp_path: Path) -> None:
    """A file whose integrity record matches it (as a recorder with a bug
    would write it) that replays differently: nondeterminism, not tampering."""
    header, events = simulate("default", 1, 2.0)
    step = next(e for e in events[300:] if "st" in e)
    step["dg"] = "00000000"
    path = write_trace(tmp_path / "nondeterministic.jsonl", header, events)
    result = invoke("replay", path)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"diverged at seq {step['seq']}: expected ")
    assert "the file matches its integrity record" in result.output
    assert "(nondeterminism)" in result.output
    assert result.output.rstrip().endswith("verdict: NOT DETERMINISTIC")


def test_replay_exits_2_when_a_message_was_never_sent(tmp_path: Path) -> None:
    header, events = simulate("default", 1, 2.0)
    recv = next(e for e in events[300:] if e["act"] == "recv")
    recv["in"]["mid"] = "7:7777"
    path = write_trace(tmp_path / "t.jsonl", header, copy.deepcopy(events))
    failed(invoke("replay", path), 2, f"seq {recv['seq']}: message 7:7777 was never sent")


# -- sim and run --------------------------------------------------------------------------------


def test_sim_writes_a_trace_that_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "sim.jsonl"
    result = invoke("sim", "--seed", 3, "--duration", 1, "--out", out, "--no-check")
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith(f"trace: {out}")
    header = orjson.loads(out.read_bytes().split(b"\n", 1)[0])
    assert header["seed"] == 3 and header["duration_s"] == 1.0
    assert not out.with_name("sim.jsonl.partial").exists()


def test_run_writes_trace_history_and_report_and_prints_the_report_last(tmp_path: Path) -> None:
    out_dir = tmp_path / "run[1]"
    result = invoke("run", "--sim", "--out-dir", out_dir, "--duration", 3)
    assert result.exit_code == 0, result.output
    for name in ("trace.jsonl", "history.jsonl", "report.md"):
        assert (out_dir / name).is_file(), name
    lines = result.output.rstrip().splitlines()
    assert lines[-1] == f"report: {out_dir / 'report.md'}"
    assert lines[-2] == f"trace: {out_dir / 'trace.jsonl'}"
    assert "verdict: PASS" in lines[-3]
    report = (out_dir / "report.md").read_text()
    assert "**Verdict: PASS**" in report and "## Deterministic replay" in report
    history = [orjson.loads(line) for line in (out_dir / "history.jsonl").read_bytes().split()]
    assert history and {r["type"] for r in history} >= {"invoke", "ok"}
