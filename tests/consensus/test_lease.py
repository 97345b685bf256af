"""Lease reads stay linearizable: the rules of docs/reads.md, one test each,
and the schedules that once broke them (issue 6).

Every schedule that judges reads keeps the nodes' clocks in lockstep
(``tick_all``), which is what the lease assumes; ``Harness.stale_reads``
records any read answered below a write that some node had applied before
the read began.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consensus import (
    AppendResponse,
    CoreMisuse,
    HeartbeatResponse,
    Message,
    RaftConfig,
    ReadMode,
    ReadReady,
    ReadRefused,
    Receive,
    Role,
    TimeoutNow,
    VoteRequest,
    VoteResponse,
)
from tests.harness import Harness, change

E = 4
LEASE = RaftConfig(election_ticks=E, read_mode=ReadMode.LEASE)


def rounds(h: Harness, count: int) -> None:
    """``count`` lockstep ticks, delivering everything in between."""
    for _ in range(count):
        h.tick_all()
        h.stabilize()


def leased(voters: tuple[int, ...] = (1, 2, 3)) -> Harness:
    """Node 1 leads term 1 and holds a lease confirmed by every node."""
    h = Harness(voters, config=LEASE)
    h.elect(1)
    h.stabilize()
    rounds(h, 1)
    assert h.cores[1].lease_until > h.now[1]
    return h


def served(h: Harness, node: int, ctx: int) -> bool:
    return any(who == node and isinstance(e, ReadReady) and e.ctx == ctx for who, e in h.events)


def lease_reads(h: Harness) -> list[object]:
    return [n.detail["ctx"] for n in h.notes_of("lease_read", 1)]


# -- configuration ----------------------------------------------------------------------


def test_a_zero_lease_margin_needs_clocks_declared_in_lockstep() -> None:
    with pytest.raises(CoreMisuse, match=r"lease_margin_ticks = 0 .* lockstep_clocks"):
        RaftConfig(lease_margin_ticks=0).validate()
    with pytest.raises(CoreMisuse, match="lockstep_clocks"):
        RaftConfig.from_json({"lease_margin_ticks": 0, "read_mode": "lease"})
    RaftConfig(lease_margin_ticks=0, lockstep_clocks=True).validate()
    config = RaftConfig.from_json({"lease_margin_ticks": 0, "lockstep_clocks": True})
    assert RaftConfig.from_json(config.to_json()) == config


# -- L3: TimeoutNow forfeits the lease for the rest of the term ---------------------------


def transfer_then_target_wins() -> Harness:
    """Lease bug 1: a round acknowledged after the TimeoutNow, the target
    wins and commits, the transfer times out, then a read at the old leader
    (tests/scenarios/lease_transfer_abort.txt)."""
    h = leased()
    h.hold(1, 3)
    h.transfer(1, 3)
    rounds(h, 2)  # node 2 acknowledges two rounds sent after the TimeoutNow
    h.cut(1, 2)
    h.hold(3, 1)
    h.release(1, 3)
    h.stabilize()
    assert h.leaders() == [1, 3]
    h.propose(3, "x")
    h.stabilize()
    while h.cores[1].transfer_target:
        rounds(h, 1)
    h.read(1, 1)
    return h


def late_timeout_now() -> Harness:
    """Lease bug 1, second form: the TimeoutNow arrives after the abort
    (tests/scenarios/lease_late_timeout_now.txt)."""
    h = leased()
    h.hold(1, 3)
    h.transfer(1, 3)
    while h.cores[1].transfer_target:
        rounds(h, 1)
    rounds(h, 1)  # acknowledged by node 2 after the abort
    h.cut(1, 2)
    h.hold(3, 1)
    h.release(1, 3)
    h.stabilize()
    assert h.leaders() == [1, 3]
    h.propose(3, "x")
    h.stabilize()
    h.read(1, 1)
    return h


@pytest.mark.parametrize("schedule", [transfer_then_target_wins, late_timeout_now])
def test_no_lease_after_a_timeout_now(schedule: object) -> None:
    h = schedule()  # type: ignore[operator]
    assert h.stale_reads == []
    assert not served(h, 1, 1)
    assert h.cores[1].lease_until == 0 and h.cores[1].lease_forfeited


def test_rounds_after_a_timeout_now_start_no_lease() -> None:
    h = leased()
    h.cut(1, 3)
    h.transfer(1, 3)
    assert h.cores[1].lease_until == 0
    rounds(h, 2)
    assert h.cores[1].lease_until == 0
    while h.cores[1].transfer_target:
        rounds(h, 1)
    rounds(h, 1)
    assert h.cores[1].role is Role.LEADER and h.cores[1].lease_until == 0
    h.read(1, 1)
    h.stabilize()  # a ReadIndex round still works
    assert served(h, 1, 1) and lease_reads(h) == []


def test_the_lease_comes_back_in_a_later_term() -> None:
    h = leased()
    h.transfer(1, 3)
    h.stabilize()
    assert h.leaders() == [3]
    rounds(h, 1)
    assert h.cores[3].lease_until > h.now[3]  # 3 never sent a TimeoutNow
    h.transfer(3, 1)
    h.stabilize()
    assert h.leaders() == [1]
    rounds(h, 1)
    assert h.cores[1].lease_until > h.now[1] and not h.cores[1].lease_forfeited


# -- F2: the promise outlives any term the follower adopts ---------------------------------

NEWER = 5


def term_bearers() -> list[Message]:
    """Messages from node 3 that carry a newer term but name no leader."""
    return [
        VoteResponse(NEWER, 3, 2, False, pre=True),
        VoteResponse(NEWER, 3, 2, False),
        AppendResponse(NEWER, 3, 2, False, 0),
        HeartbeatResponse(NEWER, 3, 2, 1),
    ]


@pytest.mark.parametrize("msg", term_bearers(), ids=lambda m: f"{m.KIND}-{m.granted}"
                         if isinstance(m, VoteResponse) else m.KIND)  # fmt: skip
def test_adopting_a_newer_term_keeps_the_promise(msg: Message) -> None:
    h = leased()
    h.mailbox.clear()
    h.step(2, Receive(msg))
    f = h.cores[2]
    assert (f.term, f.lead, f.vote) == (NEWER, 0, 0)
    last = (f.log.last_index, f.log.last_term)
    h.step(2, Receive(VoteRequest(NEWER, 3, 2, *last)))  # same term as adopted
    h.step(2, Receive(VoteRequest(NEWER + 1, 3, 2, *last, pre=True)))
    h.step(2, Receive(VoteRequest(NEWER + 1, 3, 2, *last)))
    assert not [m for m in h.mailbox if isinstance(m, VoteResponse) and m.granted]
    assert f.vote == 0 and f.term == NEWER
    h.campaign(2)
    assert f.role is Role.FOLLOWER
    assert h.notes_of("campaign_refused", 2)[-1].detail["reason"] == "in a leader's lease"
    h.cut(1, 2)
    h.mailbox.clear()
    h.tick(2, E)  # the promise runs out an election timeout after node 1 was heard
    h.step(2, Receive(VoteRequest(NEWER + 2, 3, 2, *last)))
    assert [m.granted for m in h.mailbox if isinstance(m, VoteResponse)] == [True]


def test_a_transfer_candidate_is_granted_despite_the_promise() -> None:
    h = leased()
    h.mailbox.clear()
    last = (h.cores[2].log.last_index, h.cores[2].log.last_term)
    h.step(2, Receive(VoteRequest(2, 3, 2, *last, transfer=True)))
    assert [m.granted for m in h.mailbox if isinstance(m, VoteResponse)] == [True]


def test_delayed_rejected_prevote_cannot_elect_a_rival() -> None:
    """Lease bug 2 (tests/scenarios/lease_prevote_term.txt): node 2 adopts
    term 2 from node 4's late pre-vote rejection while it is in node 1's
    lease; node 5 then campaigns."""
    h = Harness((1, 2, 3, 4, 5), config=LEASE)
    for _ in range(2):  # 4 wins pre-votes, loses its votes: candidate of term 2
        h.campaign(4)
        h.deliver()
        h.deliver()
        h.mailbox.clear()
    h.hold(4, 2)
    h.campaign(2)
    h.deliver_where(lambda m: m.dst == 4)
    h.mailbox.clear()
    h.cut(1, 4)
    h.elect(1)
    h.cut(1, 5)
    rounds(h, 6)
    assert h.cores[1].lease_until > h.now[1]
    h.isolate(1)
    h.release(4, 2)
    h.stabilize()
    assert h.cores[2].term == 2 and h.cores[2].lead == 0
    h.campaign(5)
    h.stabilize()
    h.propose(5, "x")
    h.stabilize()
    h.read(1, 1)
    assert h.stale_reads == []
    assert h.leaders() == [1]  # nobody else could win while the lease held


# -- F3: a restart keeps the promise --------------------------------------------------------


def test_a_restarted_follower_helps_elect_no_one_for_an_election_timeout() -> None:
    h = leased()
    h.crash(2)
    f = h.cores[2]
    h.campaign(2)
    assert f.role is Role.FOLLOWER
    h.mailbox.clear()
    last = (f.log.last_index, f.log.last_term)
    h.step(2, Receive(VoteRequest(2, 3, 2, *last)))
    assert not [m for m in h.mailbox if isinstance(m, VoteResponse)]
    assert f.term == 1


# -- L1, L4 and the ways a leader's lease ends -------------------------------------------


def test_a_configuration_change_voids_the_lease_until_the_next_round() -> None:
    h = leased()
    h.propose_conf(1, change("add_voter 4"))
    h.stabilize()
    assert h.cores[1].membership.is_voter(4)
    assert h.cores[1].lease_until == 0
    rounds(h, 1)  # 1, 2 and 3 are a quorum of the four voters
    assert h.cores[1].lease_until > h.now[1]


def test_removing_a_follower_voids_the_lease_and_its_promise_no_longer_counts() -> None:
    h = leased()
    h.propose_conf(1, change("remove 3"))
    h.stabilize()
    assert not h.cores[1].membership.is_voter(3)
    assert h.cores[1].lease_until == 0
    h.cut(1, 2)
    rounds(h, 1)  # node 3 still answers heartbeats, but is no longer a voter
    assert h.cores[1].lease_until == 0
    h.heal()
    rounds(h, 1)
    assert h.cores[1].lease_until > h.now[1]


def test_a_leader_that_removes_itself_gives_up_its_lease() -> None:
    h = leased()
    h.propose_conf(1, change("remove 1"))
    h.stabilize()
    assert h.cores[1].role is not Role.LEADER and h.cores[1].lease_until == 0


def replies_with_newer_term() -> list[Message]:
    return [
        AppendResponse(NEWER, 2, 1, False, 0),
        HeartbeatResponse(NEWER, 2, 1, 1),
        VoteResponse(NEWER, 2, 1, False, pre=True),
        VoteRequest(NEWER, 2, 1, 9, 9, transfer=True),
        TimeoutNow(NEWER, 2, 1),
    ]


@pytest.mark.parametrize("msg", replies_with_newer_term(), ids=lambda m: m.KIND)
def test_a_newer_term_in_any_message_ends_the_leaders_lease(msg: Message) -> None:
    h = leased()
    h.step(1, Receive(msg))
    assert h.cores[1].role is not Role.LEADER and h.cores[1].lease_until == 0
    effects = h.read(1, 9)
    assert [type(e) for e in effects if isinstance(e, ReadReady | ReadRefused)] == [ReadRefused]


def test_a_disruptive_candidate_leaves_the_lease_alone() -> None:
    h = leased()
    until = h.cores[1].lease_until
    h.step(1, Receive(VoteRequest(NEWER, 2, 1, 9, 9)))
    assert h.cores[1].role is Role.LEADER and h.cores[1].lease_until == until


def test_check_quorum_step_down_ends_the_lease() -> None:
    h = leased()
    h.isolate(1)
    while h.cores[1].role is Role.LEADER:
        assert h.cores[1].lease_until <= h.now[1] + E
        h.tick_all()
    assert h.cores[1].lease_until == 0


# -- the classic race, randomized ------------------------------------------------------


@settings(max_examples=60)
@given(
    seed=st.integers(0, 2**31),
    size=st.sampled_from([3, 5]),
    lag=st.integers(0, E),
    margin=st.sampled_from([0, 1]),
)
def test_a_cut_off_leader_never_serves_a_stale_read(
    seed: int, size: int, lag: int, margin: int
) -> None:
    """The classic lease race, clocks in lockstep: the leader is cut off
    ``lag`` ticks after its last confirmed round; the others elect a leader
    and write as soon as they can, while the old one keeps reading. With
    lockstep clocks even a zero margin is safe (docs/reads.md)."""
    config = replace(LEASE, lease_margin_ticks=margin, lockstep_clocks=margin == 0)
    h = Harness(tuple(range(1, size + 1)), config=config, seed=seed)
    h.elect(1)
    rounds(h, 1)
    for _ in range(lag):
        h.tick_all()  # rounds go out but are never answered
    h.mailbox.clear()
    h.isolate(1)
    elected: set[int] = set()
    for tick in range(6 * E):
        h.tick_all()
        h.stabilize()
        for leader in h.leaders():
            if leader != 1:
                elected.add(leader)
                h.propose(leader, f"w{tick}")
                h.stabilize()
        h.read(1, tick)
    assert h.stale_reads == [], h.stale_reads[0].describe()
    assert elected, "the others never elected a leader"
