"""Liveness and disruption checks over fault-free windows: reported as
warnings, apart from safety violations, failing a run only on request.

The builder's clock moves 1 ms per event and its header has the default
election timeout (10 ticks of 10 ms), so the bounds are 600 ms for a leader
and a commit and 300 ms for a transfer."""

from __future__ import annotations

import pytest

from checkers import CheckReport, Violation
from tests.checkers import scenarios as s
from tests.checkers.builder import TraceBuilder, effect


def ticks(b: TraceBuilder, count: int) -> None:
    for i in range(count):
        b.step(1 + i % 3, "tick")


def warned(report: CheckReport, checker: str) -> Violation:
    """The one liveness warning of ``report``, from ``checker``; no safety
    violation, and the verdict fails only with ``strict_liveness``."""
    assert report.ok and not report.failed(), report.violations
    assert [w.checker for w in report.warnings] == [checker], report.warnings
    assert report.failed(strict_liveness=True)
    warning = report.warnings[0]
    assert warning.kind == "liveness"
    assert "not met (liveness warning)" in warning.describe()
    return warning


def quiet(report: CheckReport) -> None:
    s.clean(report)
    assert not report.warnings, "\n".join(w.describe() for w in report.warnings)


@pytest.mark.parametrize("fault", [False, True])
def test_no_leader_for_many_election_timeouts_without_faults(fault: bool) -> None:
    """Nobody campaigns for 700 ms. With a partition from the start (healed
    only near the end) that is no finding."""
    b = TraceBuilder([1, 2, 3])
    if fault:
        b.emit("net", "partition", kind="split", groups=[[1], [2, 3]], heal_after_us=650_000)
    ticks(b, 650)
    if fault:
        b.emit("net", "heal")
    ticks(b, 50)
    report = s.run_all(b)
    if fault:
        quiet(report)
        return
    warning = warned(report, "liveness")
    assert "no leader for 6" in warning.message and "with every node up and no fault" in (
        warning.message
    )


@pytest.mark.parametrize("commits", [False, True])
def test_an_accepted_proposal_must_commit_without_faults(commits: bool) -> None:
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2])
    accepted = b.propose(1, (2, 1, 0xA1)).effect("accepted")
    if commits:
        ack = b.replicate(1, 2, (2, 1, 0xA1))
        b.leader_commit(1, ack, 2, support=[1, 2])
    ticks(b, 700)
    report = s.run_all(b)
    if commits:
        quiet(report)
        return
    warning = warned(report, "liveness")
    assert warning.witnesses[0] == accepted
    assert "n1 accepted a proposal at index 2" in warning.message


@pytest.mark.parametrize("crash", [False, True])
def test_a_transfer_that_times_out_without_faults(crash: bool) -> None:
    """n1 starts a transfer to n2, which never completes: with every node up
    a warning; with n3 crashed meanwhile, the window was not fault-free."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2])
    start = b.step(1, "transfer", inp={"target": 2}, effects=[effect("transfer_start", target=2)])
    if crash:
        b.crash(3)
    ticks(b, 100)
    abort = effect("transfer_abort", target=2, reason="timed out")
    end = b.step(1, "tick", effects=[abort])
    report = s.run_all(b)
    if crash:
        quiet(report)
        return
    warning = warned(report, "liveness")
    assert warning.witnesses == (start.effect("transfer_start"), end.effect("transfer_abort"))
    assert "n1's leadership transfer to n2" in warning.message and "timed out" in warning.message


@pytest.mark.parametrize("campaign", [False, True])
def test_a_term_that_rises_without_an_election(campaign: bool) -> None:
    """n2's term jumps to 5 on a tick; in the near miss it campaigns for 5."""
    b = TraceBuilder([1, 2, 3])
    effects = [s.become("candidate", transfer=False)] if campaign else []
    step = b.step(2, "tick", st={"term": 5, "vote": 2 if campaign else 0}, effects=effects)
    report = s.run_all(b)
    if campaign:
        s.clean(report)
        assert [w.checker for w in report.warnings] in ([], ["liveness"])
        return
    warning = next(w for w in report.warnings if w.checker == "term-inflation")
    assert report.ok
    assert warning.witnesses == (step.seq,)
    assert "n2's term rose to 5 in a step (tick)" in warning.message


def test_a_transfer_ended_by_the_targets_campaign_is_no_warning() -> None:
    """bench/soak.py, chaos seed 181 on 3 nodes: the target's TimeoutNow
    campaign makes the old leader step down ("leadership lost") before the
    target has won. That is the transfer working, not failing."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2])
    b.step(1, "transfer", inp={"target": 3}, effects=[effect("transfer_start", target=3)])
    ticks(b, 20)
    lost = effect("transfer_abort", target=3, reason="leadership lost")
    b.step(1, "tick", st={"role": "follower"}, effects=[s.become("follower"), lost])
    quiet(s.run_all(b))


#: A real cluster's trace is stamped with wall-clock microseconds.
WALL_CLOCK_US = 1_796_136_390_267_000


def _on_the_wall_clock(b: TraceBuilder) -> TraceBuilder:
    for event in b.events:
        event["t"] += WALL_CLOCK_US
    return b


@pytest.mark.parametrize("elected", [True, False])
def test_windows_open_at_the_first_boot_not_at_time_zero(elected: bool) -> None:
    """A leader elected soon after the boots is no finding, however late on
    the clock the boots are; a cluster with no leader for 700 ms after them
    still is one, measured from the boots."""
    b = TraceBuilder([1, 2, 3])
    ticks(b, 20)
    if elected:
        b.elect(1, 1, [1, 2])
    ticks(b, 700 if not elected else 20)
    report = s.run_all(_on_the_wall_clock(b))
    if elected:
        quiet(report)
        return
    warning = warned(report, "liveness")
    first_boot_ms = b.events[0]["t"] // 1000
    assert "no leader for 6" in warning.message
    assert f"since t={first_boot_ms} ms" in warning.message
