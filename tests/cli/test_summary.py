"""The sim summary stays readable on long runs, and the report groups
repeated violations and shows the nodes' state after the witnessing step."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from checkers import Violation
from raftlab.experiment import check_trace
from raftlab.report import ReportInputs, render_report
from raftlab.summary import RunInfo, change_kinds, elide, summary_lines, term_ranges
from sim import SimConfig, SimStats
from tests.checkers import scenarios as s
from tests.traces.simulated import write_trace
from traces.replay import ReplayReport


def test_terms_led_by_the_same_node_in_a_row_become_ranges() -> None:
    leaders = {1: [1], 2: [3], 3: [3], 4: [3], 6: [2], 7: [2], 8: [2, 4]}
    assert term_ranges(leaders) == ["1:n1", "2-4:n3", "6-7:n2", "8:n2/n4"]


def test_long_lists_are_elided_in_the_middle() -> None:
    items = [str(i) for i in range(40)]
    text = elide(items, ends=3)
    assert text == "0, 1, 2, … 34 more …, 37, 38, 39"
    assert elide(items[:7], ends=3) == ", ".join(items[:7])


def test_membership_changes_are_counted_by_kind() -> None:
    changes = [
        "add_learner 6",
        "add_voter 6, remove 1 (joint_explicit)",
        "leave joint",
        "add_learner 7",
    ]
    assert change_kinds(changes) == Counter(
        {"add_learner": 2, "add_voter": 1, "remove": 1, "leave_joint": 1}
    )


def test_a_long_run_summary_stays_short_and_says_how_to_reproduce(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_bytes(b"x" * 2048)
    stats = SimStats(
        sim_seconds=600.0,
        steps=1_234_567,
        leaders={t: [1 + t % 5] for t in range(1, 141)},
        membership=[f"add_learner {n}" for n in range(6, 46)],
    )
    info = RunInfo("raftlab sim --seed 9", trace, wall_s=12.5, size=2048)
    rows = dict(summary_lines(stats, info))
    assert rows["leaders per term"].startswith("140 of 140 terms had a leader: 1:n2, 2:n3")
    assert "… 128 more …" in rows["leaders per term"]
    assert len(rows["leaders per term"]) < 200
    assert rows["membership changes"] == "40 committed (add_learner 40)"
    assert rows["simulated"] == (
        "600.0 s, 1,234,567 node steps in 12.5 s of wall time, 98,765 steps/s"
    )
    assert rows["trace"] == f"{trace} (2.0 KiB)"
    assert rows["reproduce"] == "raftlab sim --seed 9"


def test_the_report_groups_repeats_and_shows_the_state_after_the_witness(tmp_path: Path) -> None:
    scenario = s.two_leaders(2)
    path = write_trace(tmp_path / "trace.jsonl", scenario.trace.header, scenario.trace.events)
    outcome = check_trace(path)
    # Two leaders in one term also means a node voted twice (vote-once).
    [violation] = [v for v in outcome.report.violations if v.checker == "election-safety"]
    other = Violation(violation.invariant, violation.checker, (1, 2), "another", ())
    outcome.report.violations += [violation, violation, other]
    info = RunInfo("raftlab run --seed 1", path, 0.1)
    inputs = ReportInputs(
        path, SimConfig(), "none", SimStats(), info, outcome, ReplayReport(), {}, tmp_path
    )
    report = render_report(inputs)
    assert report.startswith("# raftlab run report\n\nReproduce with:\n\n```sh\nraftlab run")
    assert "### `election-safety`: 4 violation(s)" in report
    seqs = ", ".join(map(str, violation.witnesses))
    assert f"3 more like it: events {seqs} (2 times); events 1, 2." in report
    last = max(violation.witnesses)
    assert f"state after the step of event {last}:" in report
    block = report.split(f"state after the step of event {last}:", 1)[1].split("```", 1)[0]
    assert "role=leader" in block and "term=2" in block
