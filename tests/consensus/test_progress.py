"""Per-follower flow control (consensus/progress.py): probe, replicate and
snapshot states and the bounded in-flight window."""

from __future__ import annotations

from consensus.progress import Inflights, Progress, ProgressState


def test_inflights_window() -> None:
    window = Inflights(3)
    for last in (5, 8, 9):
        assert not window.full()
        window.add(last)
    assert window.full() and len(window) == 3
    window.free_to(7)  # an ack of 7 covers the append ending at 5
    assert list(window.indexes) == [8, 9]
    window.free_first_one()
    assert list(window.indexes) == [9]
    window.reset()
    assert len(window) == 0
    window.free_first_one()  # empty: nothing to do
    assert len(window) == 0


def test_probe_sends_one_append_then_pauses() -> None:
    pr = Progress(next_index=11, max_inflight=4, now=0)
    assert pr.state is ProgressState.PROBE and not pr.is_paused()
    pr.sent(last_index=12, count=2)
    assert pr.is_paused()
    assert pr.next == 11  # probing does not move next optimistically


def test_probe_rejection_uses_the_hint_and_unpauses() -> None:
    pr = Progress(next_index=11, max_inflight=4, now=0)
    pr.sent(10, 0)
    assert pr.maybe_decrease(rejected=10, match_hint=4)
    assert pr.next == 5 and not pr.is_paused()


def test_probe_rejection_never_goes_below_match() -> None:
    pr = Progress(next_index=11, max_inflight=4, now=0)
    pr.match = 6
    assert pr.maybe_decrease(rejected=10, match_hint=2)
    assert pr.next == 7


def test_stale_rejections_are_ignored() -> None:
    pr = Progress(next_index=11, max_inflight=4, now=0)
    assert not pr.maybe_decrease(rejected=7, match_hint=0)  # we did not send prev 7
    assert pr.next == 11
    pr.match, pr.next = 5, 9
    pr.become_replicate()
    assert not pr.maybe_decrease(rejected=5, match_hint=0)  # at or below match


def test_replicate_streams_up_to_the_window() -> None:
    pr = Progress(next_index=1, max_inflight=2, now=0)
    pr.maybe_update(3)
    pr.become_replicate()
    assert pr.next == 4
    pr.sent(last_index=5, count=2)
    assert pr.next == 6 and not pr.is_paused()
    pr.sent(last_index=7, count=2)
    assert pr.is_paused()
    pr.sent(last_index=7, count=0)  # an empty append takes no slot
    assert len(pr.inflights) == 2
    assert pr.maybe_update(5)
    pr.inflights.free_to(5)
    assert not pr.is_paused()


def test_replicate_rejection_falls_back_to_match() -> None:
    pr = Progress(next_index=1, max_inflight=4, now=0)
    pr.maybe_update(3)
    pr.become_replicate()
    pr.sent(9, 6)
    assert pr.maybe_decrease(rejected=6, match_hint=5)
    assert pr.next == 4


def test_maybe_update_ignores_stale_acks() -> None:
    pr = Progress(next_index=1, max_inflight=4, now=0)
    assert pr.maybe_update(4)
    assert not pr.maybe_update(4)
    assert not pr.maybe_update(2)
    assert (pr.match, pr.next) == (4, 5)


def test_snapshot_state_pauses_until_acknowledged() -> None:
    pr = Progress(next_index=3, max_inflight=4, now=0)
    pr.become_snapshot(20, now=7)
    assert pr.state is ProgressState.SNAPSHOT and pr.is_paused()
    assert pr.snapshot_sent_at == 7
    pr.become_probe()
    assert pr.state is ProgressState.PROBE and pr.next == 21 and pr.pending_snapshot == 0


def test_become_probe_from_replicate_restarts_at_match() -> None:
    pr = Progress(next_index=1, max_inflight=4, now=0)
    pr.maybe_update(3)
    pr.become_replicate()
    pr.sent(8, 5)
    pr.become_probe()
    assert pr.next == 4 and len(pr.inflights) == 0
