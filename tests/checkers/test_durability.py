"""The durability checkers (vote-once, durable-before-send,
durable-before-claimed), each on a hand-made trace with ``persist`` and
``persisted`` events that it must reject and on a near miss it must accept."""

from __future__ import annotations

import pytest

from tests.checkers import scenarios as s
from tests.checkers.builder import TraceBuilder, append, become, message, send, truncate


def _candidate(b: TraceBuilder, node: int, term: int, voter: int) -> str:
    """``node`` campaigns for ``term`` (durably) and asks ``voter``; returns
    the request's message id."""
    request = b.vote_request(node, voter, term)
    st = {"term": term, "vote": node, "lead": 0}
    return b.durably(node, st, [become("candidate", transfer=False)], [request]).mids[0]


def vote_twice(durable_first: bool) -> tuple[TraceBuilder, dict[str, int]]:
    """n1 asks n2 for its vote in term 1. In the bug, n2 sends its grant in
    the step that asks for the write, crashes before the write completes,
    restarts with term 0 and no vote (what its disk really holds) and grants
    its vote in term 1 again, to n3. In the near miss n2 sends its grant only
    once the write is acknowledged, restarts with term 1 and its vote for
    n1, and refuses n3."""
    b = TraceBuilder([1, 2, 3])
    ask = _candidate(b, 1, 1, 2)
    st = {"term": 1, "vote": 1, "lead": 0}
    changed = [become("follower", previous="follower", lead=0)]
    grant = message("vote_resp", 2, 1, 1, granted=True, pre=False)
    seqs: dict[str, int] = {}
    if durable_first:
        seqs["grant"] = b.durably(2, st, changed, [grant], mid=ask).effects[0][0]
        crash = b.crash(2)
        seqs["restart"] = b.restart(2, cause=crash)
    else:
        step = b.durably(2, st, [*changed, s.send(grant)], mid=ask, acknowledge=False)
        seqs["grant"] = step.effect("send")
        crash = b.crash(2)
        seqs["restart"] = b.restart(2, cause=crash, term=0, vote=0)
    again = _candidate(b, 3, 1, 2)
    answer = message("vote_resp", 2, 3, 1, granted=not durable_first, pre=False)
    st2 = {"vote": 3} if not durable_first else {}
    if not durable_first:
        st2.update(term=1)
        step = b.durably(
            2, st2, [become("follower", previous="follower", lead=0)], [answer], mid=again
        )
    else:
        step = b.recv(2, again, effects=[s.send(answer)])
    seqs["second"] = step.effects[-1][0]
    return b, seqs


def test_a_vote_sent_before_its_write_crashed_and_given_again_is_rejected() -> None:
    b, seqs = vote_twice(durable_first=False)
    report = s.run_all(b)
    by = {}
    for v in report.violations:
        by.setdefault(v.checker, []).append(v)
    assert sorted(by) == ["durable-before-send", "vote-once"], report.violations
    [early] = by["durable-before-send"]
    assert early.witnesses == (seqs["grant"],)
    assert "n2 sent vote_resp to n1 in term 1 while its term 1 was not durable" in early.message
    forgot, twice = by["vote-once"]
    assert forgot.witnesses == (seqs["grant"], seqs["restart"])
    assert "restarted with durable term 0 and vote none" in forgot.message
    assert twice.witnesses == (seqs["grant"], seqs["second"])
    assert (
        "n2 voted for n1 in term 1" in twice.message and "for n3 in the same term" in twice.message
    )


def test_a_vote_released_after_its_write_survives_the_crash() -> None:
    b, seqs = vote_twice(durable_first=True)
    assert b.event(seqs["grant"])["act"] == "send"
    assert b.event(seqs["restart"])["in"]["durable"]["vote"] == 1
    s.clean(s.run_all(b))


def test_a_vote_reply_released_before_its_write_fails_even_without_a_crash() -> None:
    """The write is acknowledged later: no crash, yet the reply went first."""
    b = TraceBuilder([1, 2, 3])
    ask = _candidate(b, 1, 1, 2)
    grant = message("vote_resp", 2, 1, 1, granted=True, pre=False)
    st = {"term": 1, "vote": 1, "lead": 0}
    step = b.durably(2, st, [s.send(grant)], mid=ask, acknowledge=False)
    b.persisted(2, 1)
    violation = s.only(s.run_all(b), "durable-before-send")
    assert violation.witnesses == (step.effect("send"),)


def restart_claims(entry_written: bool, said_by_crash: bool = False) -> tuple[TraceBuilder, int]:
    """n1, durably leader of term 1, appends entry 2 and asks for the write;
    it crashes and restarts claiming entry 2 (last 2). In the bug the write
    never completed; in the near miss it did (``persisted`` before the
    crash, or the crash event says the write had reached the disk)."""
    b = TraceBuilder([1, 2, 3])
    b.elect_durably(1, 1, [1, 2])
    step = b.propose(1, (2, 1, 0xA2))
    pid = 2
    b._add_effect(step, 1, s.effect("persist", id=pid, hs=[1, 1, 1], entries=[2, 2]))
    if entry_written and not said_by_crash:
        b.persisted(1, pid)
    crash = b.crash(1)
    if said_by_crash:
        b.event(crash)["written"] = pid
    return b, b.restart(1, cause=crash)


def test_a_restart_claiming_an_entry_whose_write_never_completed_is_rejected() -> None:
    b, restart = restart_claims(entry_written=False)
    violation = s.only(s.run_all(b), "durable-before-claimed")
    assert violation.witnesses == (restart - 1, restart)
    assert "n1 restarted claiming durable term 1, vote 1, commit 1, snap 1, last 2" in (
        violation.message
    )
    assert "snapshot 1, last 1" in violation.message


@pytest.mark.parametrize("said_by_crash", [False, True])
def test_a_restart_claiming_a_completed_write_is_accepted(said_by_crash: bool) -> None:
    b, _ = restart_claims(entry_written=True, said_by_crash=said_by_crash)
    s.clean(s.run_all(b))


def ack_after_overwrite(written: bool) -> tuple[TraceBuilder, int]:
    """n2 takes entry 2 of term 1 from n1 and holds its acknowledgement for
    the write; n3, leader of term 2, then overwrites entry 2 in n2's memory
    (that write still in flight). In the legal run the first write completes
    and releases the term-1 acknowledgement: it speaks for the term-1 log,
    which is on the disk. In the bug the acknowledgement leaves before any
    write completed."""
    b = TraceBuilder([1, 2, 3])
    b.elect_durably(1, 1, [1, 2])
    b.propose(1, (2, 1, 0xA2))
    old = message("append_req", 1, 2, 1, prev_index=1, prev_term=1, entries=[[2, 1, ""]], commit=1)
    b.durably(
        2, {}, [append((2, 1, 0xA2))], mid=b.send_from(1, old), entries=(2, 2), acknowledge=False
    )
    b.elect_durably(3, 2, [3, 1])
    b.propose(3, (2, 2, 0xB2))
    new = message("append_req", 3, 2, 2, prev_index=1, prev_term=1, entries=[[2, 2, ""]], commit=1)
    changed = [become("follower", previous="follower", lead=3), truncate(1), append((2, 2, 0xB2))]
    b.durably(
        2,
        {"term": 2, "vote": 0, "lead": 3},
        changed,
        mid=b.send_from(3, new),
        entries=(2, 2),
        acknowledge=False,
    )
    ack = message("append_resp", 2, 1, 1, success=True, index=2, hint_index=0, hint_term=0)
    if written:
        step = b.persisted(2, 2, effects=[send(ack)])  # write 1 was n2's vote
    else:
        step = b.step(2, "tick", effects=[send(ack)])
    return b, step.effect("send")


def test_an_acknowledgement_released_after_a_newer_leader_overwrote_the_entry_is_accepted() -> None:
    b, _ = ack_after_overwrite(written=True)
    s.clean(s.run_all(b))


def test_an_acknowledgement_of_an_overwritten_entry_never_written_is_rejected() -> None:
    b, sent = ack_after_overwrite(written=False)
    violation = s.only(s.run_all(b), "durable-before-send")
    assert violation.witnesses == (sent,)
    assert "its log up to 2 was not durable" in violation.message
