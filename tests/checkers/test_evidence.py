"""Checkers that rebuild the facts from events instead of the core's claims:
decisions backed by delivered messages, commits within the log, appends
that do not rewrite, the log model against the node's ``st``, and
snapshots against committed entries. Each on a hand-made or mutated trace
it must reject and on a near miss it must accept."""

from __future__ import annotations

import pytest

from checkers import default_registry, run_checkers
from tests.checkers import scenarios as s
from tests.checkers.builder import TraceBuilder, append, commit, effect, persist
from tests.traces.simulated import simulate

# -- decisions from delivered evidence ------------------------------------------------------


def unbacked_commit(delivered: bool) -> tuple[TraceBuilder, int]:
    """n1 leads term 1 and sends entry 2 to n2, which appends it and
    acknowledges. n1 commits entry 2 claiming the support of n1 and n2; in
    the bug n2's acknowledgement was never delivered (n1 commits on a
    tick), in the near miss it was."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    ack = b.replicate(1, 2, (2, 1, 0xA1))
    effects = [commit(2, support=[1, 2])]
    if delivered:
        return b, b.recv(1, ack.mids[-1], effects=effects).effect("commit")
    return b, b.step(1, "tick", effects=effects).effect("commit")


def test_a_commit_whose_support_was_never_delivered_is_rejected() -> None:
    b, seq = unbacked_commit(delivered=False)
    violation = s.only(s.run_all(b), "joint-quorum")
    assert violation.witnesses == (seq,)
    assert "backed by delivered acknowledgements from {1} (the node counted {1, 2})" in (
        violation.message
    )


def test_a_commit_backed_by_a_delivered_acknowledgement_is_accepted() -> None:
    b, _ = unbacked_commit(delivered=True)
    s.clean(s.run_all(b))


def test_an_election_won_with_a_vote_never_delivered_is_rejected() -> None:
    """n2 grants its vote but n1 declares itself leader before the grant
    arrives; in the near miss it waits for it (``elect``)."""
    b = TraceBuilder([1, 2, 3])
    ask = b.step(
        1,
        "tick",
        st={"term": 1, "vote": 1},
        effects=[
            s.become("candidate", transfer=False),
            s.send(s.message("vote_req", 1, 2, 1, last_index=1, last_term=0, pre=False)),
        ],
    )
    b.recv(2, ask.mids[0], st={"term": 1, "vote": 1}, effects=[s.vote_resp(2, 1, 1, True)])
    won = b.step(1, "tick", st={"lead": 1}, effects=[s.become("leader", votes=[1, 2])])
    violation = s.only(s.run_all(b), "joint-quorum")
    assert violation.witnesses == (won.effect("become_leader"),)
    assert "backed by delivered votes from {1} (the node counted {1, 2})" in violation.message
    near = TraceBuilder([1, 2, 3])
    near.elect(1, 1, [1, 2])
    s.clean(s.run_all(near))


def own_copy(durable: bool) -> tuple[TraceBuilder, int]:
    """Durably elected n1 appends entry 2 and asks for the write; n2 acks
    it. n1 commits counting itself: in the bug before its own write was
    acknowledged (only n2's copy is durable: 1 of 3), in the near miss
    after."""
    b = TraceBuilder([1, 2, 3])
    b.elect_durably(1, 1, [1, 2])
    step = b.propose(1, (2, 1, 0xA1))
    b._add_effect(step, 1, persist(2, [1, 1, 1], entries=[2, 2]))
    if durable:
        b.persisted(1, 2)
    answer = s.message("append_resp", 2, 1, 1, success=True, index=2, hint_index=0, hint_term=0)
    request = b.send_from(1, _append_req(b))
    sent = b.durably(2, {}, [append((2, 1, 0xA1))], [answer], mid=request, entries=(2, 2))
    return b, b.recv(1, sent.mids[0], effects=[commit(2, support=[1, 2])]).effect("commit")


def _append_req(b: TraceBuilder) -> dict[str, object]:
    return s.message(
        "append_req", 1, 2, 1, prev_index=1, prev_term=0, entries=[[2, 1, ""]], commit=1
    )


def test_a_leader_counting_its_own_copy_before_it_is_durable_is_rejected() -> None:
    b, seq = own_copy(durable=False)
    report = s.run_all(b)
    violation = s.only(report, "joint-quorum")
    assert violation.witnesses == (seq,)
    assert "(its own copy not durable)" in violation.message


def test_a_leader_counting_its_durable_copy_is_accepted() -> None:
    b, _ = own_copy(durable=True)
    s.clean(s.run_all(b))


# -- commit within the log ------------------------------------------------------------------


def test_a_commit_past_the_end_of_the_log_is_rejected() -> None:
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    ack = b.replicate(1, 2, (2, 1, 0xA1))
    step = b.recv(1, ack.mids[-1], st={"commit": 7}, effects=[commit(7, support=[1, 2])])
    violation = s.only(s.run_all(b), "commit-within-log", also=("joint-quorum",))
    assert violation.witnesses == (step.effect("commit"),)
    assert "n1 committed index 7 but its log ends at 2" in violation.message


def test_a_corrupted_commit_in_a_simulated_trace_is_caught() -> None:
    """One leader commit event of a real run moved past the end of that
    leader's log (and its ``st`` with it): caught by the checkers, not only
    by replay."""
    header, events = simulate("default", 1, 2.5, "random")
    clean = run_checkers(iter(events), default_registry(plugins=False).create(header))
    assert clean.ok
    lasts: dict[str, int] = {}
    target = None
    for event in events:
        st = event.get("st")
        if st and "last" in st:
            lasts[event["n"]] = st["last"]
        if event["act"] == "commit" and "support" in event and event["seq"] > 500:
            target = event
            break
    assert target is not None
    target["index"] = lasts[target["n"]] + 50
    report = run_checkers(iter(events), default_registry(plugins=False).create(header))
    found = {v.checker for v in report.violations}
    assert "commit-within-log" in found
    witness = next(v for v in report.violations if v.checker == "commit-within-log")
    assert witness.witnesses == (target["seq"],)


# -- the log model against the node's own state ------------------------------------------


@pytest.mark.parametrize("same", [False, True])
def test_an_append_over_an_entry_without_a_truncate(same: bool) -> None:
    """n2 holds entries 2 and 3 (term 1) and is sent entry 2 again. In the
    bug the append note gives entry 2 another payload with no truncate
    first; in the near miss it is the same entry, which a log keeps (with
    entry 3 after it)."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    b.propose(1, (3, 1, 0xA2))
    b.replicate(1, 2, (2, 1, 0xA1), (3, 1, 0xA2))
    crc = 0xA1 if same else 0xEE
    kept = {"last": 3, "last_term": 1} if same else {}
    step = b.step(2, "tick", st=kept, effects=[append((2, 1, crc))])
    report = s.run_all(b)
    if same:
        s.clean(report)
        return
    violation = s.only(report, "log-model-agreement", also=("log-matching",))
    assert violation.witnesses == (step.effect("append"),)
    assert "n2 appended entry 2 of term 1 (crc 000000ee) over its entry 2" in violation.message


def test_a_state_that_disagrees_with_the_events_is_rejected() -> None:
    """n2's step reports its log ends at 5 though no event appended to it."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    b.replicate(1, 2, (2, 1, 0xA1))
    step = b.step(2, "tick", st={"last": 5, "last_term": 1})
    violation = s.only(s.run_all(b), "log-model-agreement")
    assert violation.witnesses == (step.seq,)
    assert "n2 reports last 5 but its events give last 2" in violation.message
    near = TraceBuilder([1, 2, 3])
    near.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    near.replicate(1, 2, (2, 1, 0xA1))
    s.clean(s.run_all(near))


# -- snapshots --------------------------------------------------------------------------------


@pytest.mark.parametrize("last_term", [1, 2])
def test_a_snapshot_contradicting_a_committed_entry(last_term: int) -> None:
    """Entry 2 of term 1 is committed and applied by n1; n3 installs a
    snapshot up to 2 from n1 with ``last_term`` 2 (the bug) or 1."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    ack = b.replicate(1, 2, (2, 1, 0xA1))
    b.leader_commit(1, ack, 2, support=[1, 2])
    install = effect("snapshot_install", index=2, last_term=last_term, src=1)
    step = b.step(3, "tick", st={"term": 1}, effects=[install])
    report = s.run_all(b)
    if last_term == 1:
        s.clean(report)
        return
    violation = s.only(report, "snapshot-agreement")
    assert violation.witnesses == (step.effect("snapshot_install"),)
    assert "the entry committed at index 2 has term 1" in violation.message


@pytest.mark.parametrize("crc", [0xA1, 0xEE])
def test_entries_folded_into_a_snapshot_must_be_the_applied_ones(crc: int) -> None:
    """n1 applies entry 2 (crc a1). n3 holds an entry 2 of term 1 with crc
    ``crc`` and folds it into a snapshot at 2: with another payload than the
    one applied, the snapshot is not the committed prefix."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    ack = b.replicate(1, 2, (2, 1, 0xA1))
    b.leader_commit(1, ack, 2, support=[1, 2])
    b.step(3, "tick", st={"term": 1}, effects=[append((2, 1, crc))])
    take = effect("snapshot_take", index=2, last_term=1)
    step = b.step(3, "tick", st={"snap": 2}, effects=[take])
    report = s.run_all(b)
    if crc == 0xA1:
        s.clean(report)
        return
    # Log Matching sees the two entries 2 of term 1 as well.
    violation = s.only(report, "snapshot-agreement", also=("log-matching",))
    assert violation.witnesses == (step.effect("snapshot_take"),)
    assert "folded in entry 2 of term 1 (crc 000000ee) where n1 applied" in violation.message


# -- a leader commits only entries of its own term ----------------------------------------


def test_a_leader_committing_an_entry_of_an_earlier_term_is_rejected() -> None:
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    b.replicate(1, 2, (2, 1, 0xA1))
    b.elect(1, 2, [1, 2])
    b.propose(1, (3, 2, 0xB3))
    ack = b.replicate(1, 2, (3, 2, 0xB3))
    bad = b.recv(1, ack.mids[-1], effects=[commit(2, support=[1, 2])])
    violation = s.only(s.run_all(b), "own-term-commit")
    assert violation.witnesses == (bad.effect("commit"),)
    assert "n1, leader of term 2, committed index 2, an entry of term 1" in violation.message
    near = TraceBuilder([1, 2, 3])
    near.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    near.replicate(1, 2, (2, 1, 0xA1))
    near.elect(1, 2, [1, 2])
    near.propose(1, (3, 2, 0xB3))
    ack = near.replicate(1, 2, (3, 2, 0xB3))
    near.recv(1, ack.mids[-1], effects=[commit(3, support=[1, 2])])
    s.clean(s.run_all(near))


def test_a_follower_committing_what_no_leader_told_it_is_rejected() -> None:
    """n2 holds entry 2 but no message told it entry 2 was committed; in the
    near miss the leader's next append carries commit 2."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    ack = b.replicate(1, 2, (2, 1, 0xA1))
    b.leader_commit(1, ack, 2, support=[1, 2])
    near = TraceBuilder([1, 2, 3])
    near.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    near_ack = near.replicate(1, 2, (2, 1, 0xA1))
    near.leader_commit(1, near_ack, 2, support=[1, 2])
    near.replicate(1, 2)
    s.clean(s.run_all(near))
    bad = b.step(2, "tick", effects=[commit(2, leader=1)])
    violation = s.only(s.run_all(b), "commit-within-log")
    assert violation.witnesses[-1] == bad.effect("commit")
    assert "n2, a follower, committed index 2 but no message it was delivered said more" in (
        violation.message
    )
