"""Elections: randomized timeouts, voting rules, PreVote, CheckQuorum, leader
stickiness and the new leader's no-op.

Paper section 5.2 (elections, randomized timeouts), 5.4.1 (the election
restriction), 8 (the no-op at the start of a term); thesis 9.6 (PreVote) and
6.2 / 4.2.3 (CheckQuorum and ignoring disruptive vote requests).
"""

from __future__ import annotations

from consensus import (
    AppendRequest,
    AppendResponse,
    DurableState,
    Effect,
    Entry,
    HardState,
    Heartbeat,
    Input,
    Membership,
    Persist,
    Persisted,
    RaftConfig,
    RaftCore,
    Receive,
    Role,
    Send,
    Snapshot,
    Tick,
    VoteRequest,
    VoteResponse,
)
from tests.harness import Harness

E = 10  # election_ticks of the default harness config


def timeouts(core: RaftCore, rounds: int) -> list[int]:
    """The randomized timeouts a lone follower draws as it keeps timing out
    (pre-vote in a cluster nobody answers)."""
    seen = []
    now = core.now
    for _ in range(rounds):
        seen.append(core.randomized_timeout)
        now = core.next_deadline()
        core.step(now, Tick())
    return seen


def lone_core(node: int = 1, seed: int = 1) -> RaftCore:
    return RaftCore(
        node, RaftConfig(election_ticks=E), seed, DurableState.bootstrap(Membership((1, 2, 3)))
    )


# -- randomized timeouts -----------------------------------------------------


def test_timeouts_are_drawn_from_e_to_2e() -> None:
    drawn = timeouts(lone_core(), 200)
    assert all(E <= t < 2 * E for t in drawn)
    assert len(set(drawn)) >= E // 2  # really randomized


def test_timeouts_depend_on_seed_and_node_only() -> None:
    assert timeouts(lone_core(1, seed=5), 30) == timeouts(lone_core(1, seed=5), 30)
    assert timeouts(lone_core(1, seed=5), 30) != timeouts(lone_core(2, seed=5), 30)
    assert timeouts(lone_core(1, seed=5), 30) != timeouts(lone_core(1, seed=6), 30)


def test_each_draw_is_reported_in_draws() -> None:
    core = lone_core()
    before = core.randomized_timeout
    core.step(core.next_deadline(), Tick())
    assert core.draws == [core.randomized_timeout - E]
    assert before >= E


def test_follower_times_out_exactly_at_its_deadline() -> None:
    core = lone_core()
    deadline = core.next_deadline()
    core.step(deadline - 1, Tick())
    assert core.role is Role.FOLLOWER
    core.step(deadline, Tick())
    assert core.role is Role.PRE_CANDIDATE


# -- winning ------------------------------------------------------------------


def test_first_timeout_elects_a_leader_that_appends_a_noop() -> None:
    h = Harness()
    first = min(h.cores, key=lambda n: h.cores[n].next_deadline())
    h.run_until(lambda: bool(h.leaders()))
    assert h.leaders() == [first]
    leader = h.cores[first]
    assert leader.term == 1
    # Index 1 is the bootstrap snapshot (the initial membership).
    noop = leader.log.entry(2)
    assert (noop.term, noop.data, noop.conf) == (1, "", None)
    h.stabilize()
    assert all(c.log.committed == 2 for c in h.cores.values())  # the no-op commits


def test_noop_commits_entries_of_earlier_terms() -> None:
    """Section 8 / Figure 8: a new leader commits an old-term entry only by
    committing an entry of its own term (the no-op) after it."""
    h = Harness()
    h.elect(1)
    h.propose(1, "x")  # index 3, term 1
    h.deliver_where(lambda m: m.src == 1)  # replicated everywhere...
    h.mailbox.clear()  # ...but the acks are lost: nobody knows it is committed
    h.isolate(1)
    for n in (2, 3):
        h.tick(n, E)  # the followers' leader lease runs out
    h.elect(2)
    commits = [n.detail["index"] for n in h.notes_of("commit", 2)]
    assert commits[-1] == 4  # committed together with the term-2 no-op...
    assert 3 not in commits  # ...never by counting replicas of a term-1 entry
    assert h.data_applied(2) == h.data_applied(3) == ["x"]


def test_a_single_node_elects_itself() -> None:
    h = Harness(voters=(1,))
    h.campaign(1)
    assert h.cores[1].role is Role.LEADER
    assert h.cores[1].log.committed == 2


def test_split_votes_resolve_by_randomized_timeouts() -> None:
    h = Harness(voters=(1, 2, 3, 4), config=RaftConfig(election_ticks=E, pre_vote=False))
    h.cut(1, 4)
    h.cut(2, 3)
    h.campaign(1)
    h.campaign(2)  # 3 votes for 1, 4 for 2: two votes each, nobody wins term 1
    h.stabilize()
    h.heal()
    assert h.leaders() == []
    assert {n: h.cores[n].vote for n in h.cores} == {1: 1, 2: 2, 3: 1, 4: 2}
    h.run_until(lambda: len(h.leaders()) == 1)
    assert len({h.cores[n].term for n in h.cores}) == 1


# -- voting rules --------------------------------------------------------------


def vote_request(
    term: int, src: int, last_index: int, last_term: int, pre: bool = False
) -> Receive:
    return Receive(VoteRequest(term, src, 1, last_index, last_term, pre=pre))


def drive(core: RaftCore, inp: Input) -> list[Effect]:
    """Step ``core`` at its current time and acknowledge its writes at once."""
    effects = core.step(core.now, inp)
    ids = [e.id for e in effects if isinstance(e, Persist)]
    return effects + (core.step(core.now, Persisted(ids[-1])) if ids else [])


def granted(effects: list[Effect]) -> list[bool]:
    return [
        e.msg.granted for e in effects if isinstance(e, Send) and isinstance(e.msg, VoteResponse)
    ]


def follower_with_log(*terms: int, term: int) -> RaftCore:
    entries = tuple(Entry(i, t) for i, t in enumerate(terms, 1))
    durable = DurableState(HardState(term=term), Snapshot(0, 0, Membership((1, 2, 3))), entries)
    return RaftCore(1, RaftConfig(check_quorum=False), 1, durable)


def test_one_vote_per_term() -> None:
    core = follower_with_log(term=1)
    effects = core.step(0, vote_request(2, 2, 0, 0))
    assert core.vote == 2 and core.term == 2
    assert granted(effects) == []  # held until the vote is persisted
    persist = [e for e in effects if isinstance(e, Persist)]
    assert persist[0].hard_state == HardState(2, 2, 0)
    assert granted(core.step(0, Persisted(persist[0].id))) == [True]
    assert granted(drive(core, vote_request(2, 3, 5, 1))) == [False]
    assert granted(drive(core, vote_request(2, 2, 0, 0))) == [True]  # same candidate again


def test_election_restriction_refuses_stale_logs() -> None:
    """Section 5.4.1: vote only for a log at least as up-to-date as ours."""
    core = follower_with_log(1, 1, 2, term=2)
    assert granted(drive(core, vote_request(3, 2, 5, 1))) == [False]  # older last term
    assert granted(drive(core, vote_request(4, 2, 2, 2))) == [False]  # same term, shorter
    assert core.vote == 0
    assert granted(drive(core, vote_request(5, 3, 1, 3))) == [True]  # newer term, shorter
    assert core.vote == 3


def test_learners_never_vote_nor_campaign() -> None:
    h = Harness(voters=(1, 2), learners=(3,))
    for _ in range(10 * E):
        h.tick(3)
    assert h.cores[3].role is Role.FOLLOWER and h.cores[3].term == 0
    learner = h.cores[3]
    h.step(3, Receive(VoteRequest(5, 1, 3, 9, 9)))
    assert [m.granted for m in h.sent(3) if isinstance(m, VoteResponse)] == [False]
    assert learner.vote == 0


def test_candidate_steps_down_for_a_leader_of_its_term() -> None:
    h = Harness(config=RaftConfig(pre_vote=False))
    h.elect(1)
    h.campaign(2)  # term 2, nobody answers yet
    h.mailbox.clear()
    h.cores[1].term = 2  # a leader of term 2 (as if elected concurrently)
    h.step(2, Receive(Heartbeat(2, 1, 2, 0, 1)))
    assert h.cores[2].role is Role.FOLLOWER and h.cores[2].lead == 1


def test_higher_term_makes_a_leader_step_down() -> None:
    h = Harness(config=RaftConfig(check_quorum=False))
    h.elect(1)
    h.step(1, Receive(AppendResponse(7, 2, 1, False, 0)))
    assert h.cores[1].role is Role.FOLLOWER and h.cores[1].term == 7


def test_stale_leader_learns_the_new_term_from_a_rejection() -> None:
    """Under PreVote a deposed leader may never see a vote request of the
    new term; followers answer its appends with their term instead."""
    h = Harness(config=RaftConfig(check_quorum=False))  # 1 never steps down by itself
    h.elect(1)
    h.isolate(1)
    h.elect(2)
    h.heal()
    h.tick(1)  # a heartbeat of the old term
    h.stabilize()
    assert h.leaders() == [2]
    assert h.cores[1].term == h.cores[2].term == 2


# -- PreVote -------------------------------------------------------------------


def test_prevote_keeps_a_partitioned_node_from_inflating_its_term() -> None:
    h = Harness()
    h.elect(1)
    h.isolate(3)
    for _ in range(10 * E):
        h.tick(3)
    assert h.cores[3].term == 1  # pre-candidates do not bump the term
    assert h.cores[3].role is Role.PRE_CANDIDATE


def test_without_prevote_a_rejoining_node_disrupts_the_cluster() -> None:
    """Why PreVote exists (thesis 9.6): the isolated node's inflated term
    deposes the healthy leader when it comes back."""
    h = Harness(config=RaftConfig(pre_vote=False, check_quorum=False))
    h.elect(1)
    h.isolate(3)
    for _ in range(5 * E):
        h.tick(3)
    assert h.cores[3].term > 3
    h.heal()
    h.run_until(lambda: h.cores[1].term > 1)  # 3's next vote request deposes 1


def test_prevote_rejoin_does_not_disrupt() -> None:
    h = Harness()
    h.elect(1)
    h.propose(1, "x")
    h.stabilize()
    h.isolate(3)
    for _ in range(5 * E):
        h.tick(3)
    h.heal()
    h.tick(1)
    h.stabilize()
    assert h.leaders() == [1] and h.cores[1].term == 1
    assert h.cores[3].role is Role.FOLLOWER and h.cores[3].lead == 1


def test_prevote_is_granted_without_adopting_the_term() -> None:
    core = follower_with_log(term=3)
    effects = core.step(0, vote_request(4, 2, 0, 0, pre=True))
    assert granted(effects) == [True]
    assert (core.term, core.vote) == (3, 0)


def test_prevote_rejection_from_a_higher_term_makes_the_precandidate_follow() -> None:
    core = lone_core()
    core.step(core.next_deadline(), Tick())
    assert core.role is Role.PRE_CANDIDATE
    core.step(core.now, Receive(VoteResponse(5, 2, 1, False, pre=True)))
    assert core.role is Role.FOLLOWER and core.term == 5


# -- CheckQuorum and leader stickiness -------------------------------------------


def test_checkquorum_leader_steps_down_without_a_quorum() -> None:
    h = Harness()
    h.elect(1)
    h.isolate(1)
    start = h.now[1]
    while h.cores[1].role is Role.LEADER:
        h.tick(1)
        assert h.now[1] - start <= 2 * E, "leader kept leading without a quorum"
    assert h.cores[1].lead == 0
    assert [n.detail["reason"] for n in h.notes_of("step_down", 1)] == [
        "check quorum: no quorum heard from"
    ]


def test_checkquorum_leader_with_a_quorum_stays() -> None:
    h = Harness()
    h.elect(1)
    h.isolate(3)
    for _ in range(5 * E):
        h.tick_all()
        h.stabilize()
    assert h.leaders() == [1] and h.cores[1].term == 1


def test_without_checkquorum_an_isolated_leader_keeps_leading() -> None:
    h = Harness(config=RaftConfig(check_quorum=False))
    h.elect(1)
    h.isolate(1)
    for _ in range(5 * E):
        h.tick(1)
    assert h.cores[1].role is Role.LEADER


def test_followers_ignore_vote_requests_while_they_hear_from_a_leader() -> None:
    h = Harness(config=RaftConfig(pre_vote=False))
    h.elect(1)
    effects = h.step(2, Receive(VoteRequest(5, 3, 2, 100, 100)))
    assert h.cores[2].term == 1 and h.cores[2].vote == 1
    assert granted(effects) == []
    assert [n.detail["reason"] for n in h.notes_of("vote_ignored", 2)] == ["leader lease"]
    h.tick(2, E)  # lease over: now the request is considered
    h.step(2, Receive(VoteRequest(5, 3, 2, 100, 100)))
    assert h.cores[2].term == 5 and h.cores[2].vote == 3


def test_leader_ignores_prevotes_from_a_rejoining_node() -> None:
    """Bug found by this suite: the leader granted the rejoining node's
    pre-vote (it only checked the follower-side lease), which then won with
    the leader's real vote and deposed a healthy leader."""
    h = Harness()
    h.elect(1)
    h.propose(1, "a")
    h.stabilize()
    h.isolate(3)
    while h.cores[3].role is not Role.PRE_CANDIDATE:
        h.tick(3)
    h.heal()
    h.mailbox.clear()
    while not any(m.src == 3 for m in h.mailbox):
        h.tick(3)  # 3 pre-campaigns before any heartbeat reaches it
    h.deliver_where(lambda m: m.src == 3)
    h.stabilize()
    assert h.leaders() == [1] and h.cores[1].term == 1
    assert h.notes_of("vote_ignored", 1)


def test_leader_stickiness_holds_under_a_partial_partition() -> None:
    """3 cannot hear the leader but can reach 2, which still can: 3's
    elections must not succeed while 2 hears from the leader."""
    h = Harness()
    h.elect(1)
    h.cut(1, 3)
    for _ in range(6 * E):
        h.tick_all()
        h.stabilize()
    assert h.leaders() == [1] and h.cores[1].term == 1


def test_lease_leader_is_sticky_without_prevote_too() -> None:
    h = Harness(config=RaftConfig(pre_vote=False))
    h.elect(1)
    h.step(1, Receive(VoteRequest(9, 3, 1, 100, 100)))
    assert h.leaders() == [1] and h.cores[1].term == 1


def test_leader_sends_heartbeats_every_heartbeat_interval() -> None:
    h = Harness(config=RaftConfig(election_ticks=E, heartbeat_ticks=3))
    h.elect(1)
    sent = []
    for _ in range(9):
        effects = h.tick(1)
        sent.append(sum(1 for e in effects if isinstance(e, Send) and isinstance(e.msg, Heartbeat)))
    assert sent == [0, 0, 2, 0, 0, 2, 0, 0, 2]
    assert h.cores[1].next_deadline() <= h.now[1] + 3


def test_new_leader_first_message_carries_the_noop() -> None:
    h = Harness()
    h.campaign(1)
    h.stabilize()
    appends = [m for m in h.sent(1) if isinstance(m, AppendRequest)]
    assert appends and appends[0].entries == (Entry(2, 1),)


def test_a_restarted_node_ignores_vote_requests_for_an_election_timeout() -> None:
    """It may have acknowledged a leader's heartbeat just before crashing
    (see test_reads for the lease this protects)."""
    durable = DurableState(HardState(3, 1, 1), Snapshot(1, 0, Membership((1, 2, 3))))
    core = RaftCore(2, RaftConfig(election_ticks=E), 1, durable, now=100)
    assert granted(drive(core, Receive(VoteRequest(4, 3, 2, 9, 9)))) == []
    assert core.term == 3
    assert granted(drive(core, Receive(VoteRequest(4, 3, 2, 9, 9, transfer=True)))) == [True]
    core = RaftCore(2, RaftConfig(election_ticks=E), 1, durable, now=100)
    core.step(100 + E, Tick())
    assert granted(drive(core, Receive(VoteRequest(4, 3, 2, 9, 9)))) == [True]
    fresh = RaftCore(2, RaftConfig(), 1, DurableState.bootstrap(Membership((1, 2, 3))))
    assert granted(drive(fresh, Receive(VoteRequest(1, 3, 2, 9, 9)))) == [
        True
    ]  # nothing to protect
