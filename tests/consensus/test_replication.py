"""Log replication: batching, the in-flight window, probe and replicate,
fast backtracking, and the paper's Figure 7 and Figure 8.

Paper section 5.3 (log replication, consistency check, Figure 7) and 5.4.2
(committing entries from previous terms, Figure 8).
"""

from __future__ import annotations

from consensus import (
    AppendRequest,
    AppendResponse,
    DurableState,
    Entry,
    HardState,
    Heartbeat,
    Membership,
    RaftConfig,
    RaftCore,
    Receive,
    Role,
    Snapshot,
)
from consensus.progress import ProgressState
from tests.harness import Harness


def appends_to(h: Harness, node: int) -> list[AppendRequest]:
    return [m for m in h.mailbox if isinstance(m, AppendRequest) and m.dst == node]


def lagging(config: RaftConfig, proposals: list[str]) -> Harness:
    """Leader 1, follower 3 cut off while ``proposals`` commit, then healed."""
    h = Harness(config=config)
    h.elect(1)
    h.cut(1, 3)
    for data in proposals:
        h.propose(1, data)
        h.stabilize()
    h.heal()
    return h


def sent_appends(h: Harness, src: int, dst: int, start: int) -> list[AppendRequest]:
    return [m for m in h.sent(src)[start:] if isinstance(m, AppendRequest) and m.dst == dst]


# -- batching -------------------------------------------------------------------


def test_batches_respect_max_entries() -> None:
    h = lagging(RaftConfig(max_entries_per_msg=3), [f"v{i}" for i in range(10)])
    start = len(h.sent(1))
    h.run_until(lambda: h.data_applied(3) == h.data_applied(1))
    batches = [len(m.entries) for m in sent_appends(h, 1, 3, start) if m.entries]
    assert batches and max(batches) == 3
    assert h.data_applied(3) == [f"v{i}" for i in range(10)]


def test_batches_respect_max_bytes_but_always_carry_one_entry() -> None:
    payloads = ["a" * 84] * 6 + ["huge" * 100] + ["b" * 84]  # 100 B each, one of 416 B
    h = lagging(RaftConfig(max_bytes_per_msg=250), payloads)
    start = len(h.sent(1))
    h.run_until(lambda: h.data_applied(3) == payloads)
    for m in sent_appends(h, 1, 3, start):
        size = sum(e.size for e in m.entries)
        assert size <= 250 or len(m.entries) == 1
    assert any(
        len(m.entries) == 1 and m.entries[0].size > 250 for m in sent_appends(h, 1, 3, start)
    )


# -- flow control -----------------------------------------------------------------


def test_probe_state_sends_one_append_at_a_time() -> None:
    h = Harness()
    h.campaign(1)
    while h.cores[1].role is not Role.LEADER:
        h.deliver_where(lambda m: not isinstance(m, AppendRequest))  # votes only
    h.mailbox.clear()  # the no-op appends are lost
    for i in range(5):
        h.propose(1, f"p{i}")
    assert appends_to(h, 2) == []  # probe: paused until the first append is answered
    assert h.cores[1].progress[2].state is ProgressState.PROBE


def test_probe_becomes_replicate_on_success() -> None:
    h = Harness()
    h.elect(1)
    assert {h.cores[1].progress[n].state for n in (2, 3)} == {ProgressState.REPLICATE}


def test_replicate_window_bounds_unacknowledged_appends() -> None:
    h = Harness(config=RaftConfig(max_inflight=2, max_entries_per_msg=1))
    h.elect(1)
    for i in range(6):
        h.propose(1, f"p{i}")
    assert len(appends_to(h, 2)) == 2 == len(appends_to(h, 3))
    assert len(h.cores[1].progress[2].inflights) == 2
    h.stabilize()  # each ack frees a slot and lets the next batch out
    assert h.data_applied(2) == [f"p{i}" for i in range(6)]


def test_a_full_window_of_lost_appends_recovers() -> None:
    """Bug found by this suite: when every append filling the window was
    lost, nothing ever freed a slot and the follower stalled for good.
    Heartbeat answers now free one slot (as etcd does)."""
    h = Harness(config=RaftConfig(max_inflight=2, max_entries_per_msg=1))
    h.elect(1)
    h.cut(1, 3)
    for x in "abcd":
        h.propose(1, x)
    h.stabilize()
    assert h.cores[1].progress[3].inflights.full()
    h.heal()
    h.run_until(lambda: h.data_applied(3) == list("abcd"), max_ticks=20)


def test_follower_commit_never_passes_what_the_message_vouches_for() -> None:
    """Entries past the append's last entry may be stale leftovers of an
    older term: the leader's commit index only covers what it sent."""
    log = [1, 1, 1, 1]  # 3 and 4 might not match the leader's
    durable = DurableState(
        HardState(1, 0, 1),
        Snapshot(0, 0, Membership((1, 2, 3))),
        tuple(Entry(i, t) for i, t in enumerate(log, 1)),
    )
    follower = RaftCore(2, RaftConfig(), 1, durable)
    follower.step(0, Receive(AppendRequest(2, 1, 2, 1, 1, (Entry(2, 1),), commit=9)))
    assert follower.log.committed == 2
    assert follower.log.last_index == 4  # an agreeing message truncates nothing


def test_heartbeat_commit_is_capped_at_the_followers_match() -> None:
    h = Harness()
    h.elect(1)
    h.cut(1, 3)
    h.propose(1, "a")
    h.stabilize()
    h.heal()
    h.tick(1)
    beats = {m.dst: m.commit for m in h.mailbox if isinstance(m, Heartbeat)}
    assert beats[2] == h.cores[1].log.committed
    assert beats[3] == h.cores[1].progress[3].match < h.cores[1].log.committed


def test_all_followers_learn_the_commit_index_without_waiting_for_a_heartbeat() -> None:
    """Bug found by this suite: a follower whose ack arrived after the
    quorum's (it was still probing when the no-op committed) was not told
    the new commit index until the next heartbeat."""
    h = Harness()
    h.campaign(1)
    h.stabilize()  # no ticks: no heartbeats
    leader = h.cores[1]
    assert leader.log.committed == leader.log.last_index == 2
    assert {c.log.committed for c in h.cores.values()} == {2}
    h.propose(1, "a")
    h.stabilize()
    assert h.data_applied(2) == h.data_applied(3) == ["a"]


# -- fast backtracking and Figure 7 ---------------------------------------------------

# Figure 7: the leader's log for term 8, and six possible follower logs.
FIG7_LEADER = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]
FIG7 = {
    "a": [1, 1, 1, 4, 4, 5, 5, 6, 6],
    "b": [1, 1, 1, 4],
    "c": [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    "d": [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    "e": [1, 1, 1, 4, 4, 4, 4],
    "f": [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
}


def cluster_with_logs(logs: dict[int, list[int]], term: int, commit: int, **config: int) -> Harness:
    """A harness whose nodes start from hand-built logs (indexes as in the
    paper: entry 1 follows an empty snapshot at 0). Paper-style: without
    CheckQuorum, which would make these just-"restarted" nodes ignore vote
    requests for an election timeout."""
    voters = tuple(sorted(logs))
    cfg = RaftConfig(**({"check_quorum": False} | config))  # type: ignore[arg-type]
    h = Harness(voters=voters, config=cfg)
    membership = Membership(voters)
    for node, terms in logs.items():
        # Payload "index:term": equal (index, term) means equal entries (Log Matching).
        entries = tuple(Entry(i, t, f"{i}:{t}") for i, t in enumerate(terms, 1))
        durable = DurableState(HardState(term, 0, commit), Snapshot(0, 0, membership), entries)
        h.storage[node].hard_state = durable.hard_state
        h.storage[node].snapshot = durable.snapshot
        h.storage[node].entries = list(entries)
        h.cores[node] = RaftCore(node, cfg, h.seed, durable, h.now[node])
    return h


def test_figure7_every_follower_log_is_brought_in_line() -> None:
    logs = {1: FIG7_LEADER} | {n: FIG7[k] for n, k in zip(range(2, 8), "abcdef", strict=True)}
    h = cluster_with_logs(logs, term=7, commit=3)
    h.elect(1)  # term 8: a, b, e and f vote for it; c and d have newer logs
    assert h.cores[1].term == 8
    h.stabilize()
    want = [*FIG7_LEADER, 8]  # plus the term-8 no-op
    for node in range(1, 8):
        assert h.log_terms(node) == want, f"follower {'-abcdef'[node - 1]}"
    truncated = {who: n.detail["after"] for who, n in h.notes if n.action == "truncate"}
    # c and d lose their extra tails, e its term-4 run from 6, f its terms 2-3.
    assert truncated == {4: 10, 5: 10, 6: 5, 7: 3}
    assert {c.log.committed for c in h.cores.values()} == {11}


def test_figure7_backtracking_skips_a_term_per_round_trip() -> None:
    """The conflict hint lets the leader skip a whole term of mismatching
    entries per rejection instead of one entry (paper 5.3, last paragraph)."""
    logs = {1: FIG7_LEADER} | {n: FIG7[k] for n, k in zip(range(2, 8), "abcdef", strict=True)}
    h = cluster_with_logs(logs, term=7, commit=3)
    h.elect(1)
    h.stabilize()
    rejections: dict[int, int] = {}
    for msg in h.sent():
        if isinstance(msg, AppendResponse) and not msg.success:
            rejections[msg.src] = rejections.get(msg.src, 0) + 1
    # Without hints f alone would need 8 round trips (index 10 down to 3).
    assert rejections == {2: 1, 3: 1, 6: 1, 7: 1}  # a, b, e, f: one each


def test_backtracking_over_a_long_divergent_tail_is_one_round_trip() -> None:
    logs = {1: [1] + [3] * 3, 2: [1] + [2] * 50, 3: [1] + [3] * 3}
    h = cluster_with_logs(logs, term=3, commit=1)
    h.elect(1)
    h.stabilize()
    rejections = [m for m in h.sent(2) if isinstance(m, AppendResponse) and not m.success]
    assert len(rejections) == 1
    assert h.log_terms(2) == [1, 3, 3, 3, 4]


# -- Figure 8 ------------------------------------------------------------------------


def figure8() -> Harness:
    """Figure 8 (c): S1 leads term 4 and has re-replicated its term-2 entry
    at index 2 to S3, so it sits on a majority (S1, S2, S3), and S1 knows it.
    S5 holds a term-3 entry at index 2. One entry per message, so index 2
    travels alone; S3 has not received S1's term-4 no-op yet."""
    logs = {1: [1, 2], 2: [1, 2], 3: [1], 4: [1], 5: [1, 3]}
    h = cluster_with_logs(logs, term=3, commit=1, pre_vote=False, check_quorum=False,
                          max_entries_per_msg=1)  # fmt: skip
    h.cut(1, 5)
    h.campaign(1)
    while h.cores[1].role is not Role.LEADER:
        h.deliver(1)
    assert h.cores[1].term == 4
    h.mailbox = [m for m in h.mailbox if isinstance(m, AppendRequest) and m.dst in (2, 3)]
    while h.cores[1].progress[3].match < 2:
        h.deliver(1)
    h.mailbox.clear()  # S3 never gets the no-op: S1 crashes now (d) or not (e)
    return h


def test_figure8_old_term_entry_on_a_majority_is_not_committed() -> None:
    h = figure8()
    assert [h.cores[n].log.term(2) for n in (1, 2, 3)] == [2, 2, 2]
    assert h.cores[1].progress[2].match == 3 and h.cores[1].progress[3].match == 2
    assert h.cores[1].log.committed == 1, "an older-term entry was committed by counting replicas"


def test_figure8_d_the_uncommitted_entry_may_then_be_overwritten() -> None:
    h = figure8()
    h.heal()
    h.isolate(1)  # S1 crashes
    h.campaign(5)  # term 4: S2-S4 already voted in it
    h.stabilize()
    h.campaign(5)  # term 5: S3 and S4 vote for S5's newer (2, 3)
    h.stabilize()
    assert h.cores[5].role is Role.LEADER and h.cores[5].term == 5
    for node in (2, 3, 4, 5):
        assert h.cores[node].log.term(2) == 3
    # Safety: nobody ever applied the overwritten entry.
    assert all("2:2" not in h.data_applied(n) for n in h.cores)


def test_figure8_e_committing_an_own_term_entry_makes_it_safe() -> None:
    """Once S1 replicates an entry of its own term to a majority, index 2
    commits with it and S5 can no longer be elected."""
    h = figure8()
    h.heal()
    h.isolate(5)
    h.tick(1)
    h.stabilize()
    assert h.cores[1].log.committed == 3
    assert h.data_applied(1) == ["1:1", "2:2"]
    h.heal()
    h.isolate(1)  # S1 crashes
    for _ in range(3):
        h.campaign(5)
        h.stabilize()
    assert h.cores[5].role is not Role.LEADER
    assert all(h.cores[n].log.term(2) == 2 for n in (1, 2, 3))
