"""Hand-made traces, one story per checker, each with a near miss.

Every function tells a short story in its docstring and returns the trace
with the seq numbers of the events that witness the violation. A flag turns
the story into its near miss (a trace that looks alike but is correct);
the near miss's ``witnesses`` are the events a careless checker would flag.
"""

from __future__ import annotations

from dataclasses import dataclass

from checkers import CheckReport, Violation, default_registry, run_checkers
from tests.checkers.builder import (
    Step,
    TraceBuilder,
    append,
    apply,
    become,
    commit,
    conf,
    conf_apply,
    effect,
    message,
    send,
    truncate,
    vote_resp,
)
from traces.reader import check_event


@dataclass(slots=True)
class Scenario:
    trace: TraceBuilder
    witnesses: tuple[int, ...]


def run_all(trace: TraceBuilder) -> CheckReport:
    """Every built-in checker over ``trace``, after checking that each of
    its events is one the reader accepts."""
    for expected, event in enumerate(trace.events, start=1):
        problem = check_event(event, expected)
        assert not problem, f"builder made a bad event {event}: {problem}"
    checkers = default_registry(plugins=False).create(trace.header)
    return run_checkers(iter(trace.events), checkers)


def only(report: CheckReport, checker: str, also: tuple[str, ...] = ()) -> Violation:
    """The one violation in ``report`` from ``checker``; the only others
    must come from ``also``, one each (checkers that see the same fault
    from another side)."""
    found = "\n".join(v.describe() for v in report.violations)
    assert sorted(v.checker for v in report.violations) == sorted([checker, *also]), found
    return next(v for v in report.violations if v.checker == checker)


def clean(report: CheckReport) -> None:
    assert report.ok, "\n".join(v.describe() for v in report.violations)


def rejected(
    scenario: Scenario, checker: str, invariant: str, *words: str, also: tuple[str, ...] = ()
) -> None:
    """``scenario`` is rejected by ``checker`` (and by ``also``, if given,
    and no other), at its witnesses, with a message that contains every one
    of ``words``."""
    violation = only(run_all(scenario.trace), checker, also)
    assert violation.invariant == invariant
    assert violation.witnesses == scenario.witnesses
    for word in words:
        assert word in violation.message, f"{word!r} not in {violation.message!r}"
    assert violation.states, "a violation shows the nodes' state"
    described = violation.describe()
    assert described.startswith(f"{invariant} violated (events ")
    assert all(str(seq) in described for seq in violation.witnesses)


# -- Election Safety ----------------------------------------------------------------


def two_leaders(second_term: int = 2) -> Scenario:
    """n1 wins term 2 with n2's vote; then n3 wins ``second_term``, also with
    n2's vote. In term 2 that means n2 voted twice (a lost vote record);
    in term 3 it is an ordinary new election."""
    b = TraceBuilder([1, 2, 3])
    first = b.elect(1, 2, [1, 2])
    second = b.elect(3, second_term, [2, 3])
    return Scenario(b, (first.effect("become_leader"), second.effect("become_leader")))


# -- Leader Append-Only ---------------------------------------------------------------


def leader_rewrites(how: str) -> Scenario:
    """n1, leader of term 2, appends entries 2 and 3; then, still leader, it
    deletes entry 3 (``truncate``), overwrites it (``overwrite``) or replaces
    its log with a snapshot (``snapshot``)."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 2, [1, 2], entry=(2, 2, 0))
    b.propose(1, (3, 2, 0x33))
    if how == "truncate":
        bad = b.step(1, "tick", effects=[truncate(2)]).effect("truncate")
    elif how == "overwrite":
        bad = b.step(1, "tick", effects=[append((3, 2, 0x44))]).effect("append")
    else:
        install = effect("snapshot_install", index=5, last_term=2, src=2)
        bad = b.step(1, "tick", effects=[install]).effect("snapshot_install")
    return Scenario(b, (bad,))


def follower_truncates() -> Scenario:
    """Near miss of ``leader_rewrites``: n1, leader of term 2, gets entries
    2 and 3 onto n2 only (nothing is committed), then is cut off. n3 wins
    term 3 with n4 and n5, and its first entry replaces n2's uncommitted
    entries 2 and 3: n2, a follower, truncates them (the witness)."""
    b = TraceBuilder([1, 2, 3, 4, 5])
    b.elect(1, 2, [1, 2, 3], entry=(2, 2, 0))
    b.propose(1, (3, 2, 0x33))
    b.replicate(1, 2, (2, 2, 0), (3, 2, 0x33))
    b.elect(3, 3, [3, 4, 5], entry=(2, 3, 0))
    step = b.replicate(3, 2, (2, 3, 0))
    return Scenario(b, (step.effect("truncate"),))


# -- Log Matching -------------------------------------------------------------------------


def mismatched_prefix(follower_checks: bool = False) -> Scenario:
    """n1 leads term 1 and appends entry 2 (term 1); n3 leads term 2 and
    appends its own entry 2 (term 2), then entry 3 (term 2). n3 sends entry 3
    to n1 with prev (2, term 2); n1 appends it without checking that its
    entry 2 has term 2. Now n1 and n3 hold entry 3 of term 2 over different
    entries 2. A follower that checks (the near miss) truncates its entry 2
    and takes n3's entries 2 and 3."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    b.elect(3, 2, [2, 3], entry=(2, 2, 0xB2))
    first = b.propose(3, (3, 2, 0xC3)).effect("append")
    if follower_checks:
        second = b.replicate(3, 1, (2, 2, 0xB2), (3, 2, 0xC3)).effect("append")
    else:
        request = message(
            "append_req", 3, 1, 2, prev_index=2, prev_term=2, entries=[[3, 2, ""]], commit=1
        )
        mid = b.send_from(3, request)
        step = b.recv(
            1,
            mid,
            st={"term": 2, "lead": 3},
            effects=[become("follower", previous="leader", lead=3), append((3, 2, 0xC3))],
        )
        second = step.effect("append")
    return Scenario(b, (first, second))


# -- Leader Completeness ----------------------------------------------------------------


def _commit_entry_2(b: TraceBuilder) -> int:
    """n1 wins term 1 and commits entry 2 with n2; returns the commit's seq."""
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    ack = b.replicate(1, 2, (2, 1, 0xA1))
    return b.leader_commit(1, ack, 2, support=[1, 2]).effect("commit")


def elected_without_committed(winner: int = 3) -> Scenario:
    """n1 commits entry 2 (term 1) on n1 and n2. Then ``winner`` wins term 2
    with the votes of n2 and n3. n3 never got entry 2 (n2 should have refused
    it its vote); n2 has it (the near miss)."""
    b = TraceBuilder([1, 2, 3])
    _commit_entry_2(b)
    won = b.elect(winner, 2, [2, 3])
    return Scenario(b, (won.effect("become_leader"),))


def committed_after_election(new_leader_has_it: bool = False) -> Scenario:
    """n1, leader of term 1, gets entry 2 onto n2 (and onto n3 in the near
    miss). n3 wins term 2 with n2's vote. Then n1, which has not heard of
    term 2, receives n2's acknowledgement and commits entry 2: a committed
    entry that the leader of term 2 does not hold."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    ack = b.replicate(1, 2, (2, 1, 0xA1))
    if new_leader_has_it:
        b.replicate(1, 3, (2, 1, 0xA1))
    won = b.elect(3, 2, [2, 3])
    late = b.leader_commit(1, ack, 2, support=[1, 2])
    return Scenario(b, (won.effect("become_leader"), late.effect("commit")))


# -- State Machine Safety ------------------------------------------------------------------


def different_applies(crc: int = 0xBAD) -> Scenario:
    """n1 commits entry 2 (crc a1) on n1 and n2 and applies it. n2 learns the
    commit and hands its state machine an entry 2 with crc ``crc`` (a bug in
    its apply path: its log holds the right entry). With ``crc=0xA1`` it is
    the near miss."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    ack = b.replicate(1, 2, (2, 1, 0xA1))
    first = b.leader_commit(1, ack, 2, support=[1, 2]).effect("apply")
    b.applied(1, 2)
    mid = b.send_from(1, message("heartbeat", 1, 2, 1, commit=2, round=1))
    step = b.recv(2, mid, effects=[commit(2, leader=1), apply((2, 1, crc))])
    return Scenario(b, (first, step.effect("apply")))


# -- Monotonic commit and apply ------------------------------------------------------------


def _two_entries_on_n2() -> tuple[TraceBuilder, str]:
    """n1 commits entries 2 and 3 with n2, which learns the commit; also
    returns a heartbeat n1 sent before the commit (carrying commit 1)."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    b.propose(1, (3, 1, 0xA2))
    stale = b.send_from(1, message("heartbeat", 1, 2, 1, commit=1, round=1))
    ack = b.replicate(1, 2, (2, 1, 0xA1), (3, 1, 0xA2))
    b.leader_commit(1, ack, 3, support=[1, 2])
    b.replicate(1, 2)  # n2 learns commit 3
    return b, stale


def commit_goes_back(restart_first: bool = False) -> Scenario:
    """n2 has commit index 3 when n1's stale heartbeat (sent before the
    commit, carrying commit 1) arrives, and n2 takes its commit index as is.
    In the near miss n2 crashes and restarts instead, from a disk whose hard
    state says commit 1 (the witness): a new run of a node may start lower;
    the stale heartbeat then changes nothing."""
    b, stale = _two_entries_on_n2()
    if restart_first:
        restart = b.restart(2, cause=b.crash(2), commit=1)
        b.recv(2, stale)
        return Scenario(b, (restart,))
    step = b.recv(2, stale, st={"commit": 1})
    return Scenario(b, (step.seq,))


def applied_beyond_commit() -> Scenario:
    """n2 learns commit 2 only, but its state machine reports entries up to 3
    applied."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    b.propose(1, (3, 1, 0xA2))
    ack = b.replicate(1, 2, (2, 1, 0xA1))
    b.leader_commit(1, ack, 2, support=[1, 2])
    b.replicate(1, 2, (3, 1, 0xA2))  # carries commit 2
    step = b.applied(2, 3)
    return Scenario(b, (step.seq,))


def apply_skips(first: int = 4) -> Scenario:
    """n2 commits up to 4 but hands its state machine entries from ``first``:
    from 4 it skips entries 2 and 3; from 2 (the near miss) it is in order."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    b.propose(1, (3, 1, 0xA2))
    b.propose(1, (4, 1, 0xA3))
    entries = [(2, 1, 0xA1), (3, 1, 0xA2), (4, 1, 0xA3)]
    ack = b.replicate(1, 2, *entries)
    b.leader_commit(1, ack, 4, support=[1, 2])
    mid = b.send_from(1, message("heartbeat", 1, 2, 1, commit=4, round=1))
    step = b.recv(2, mid, effects=[commit(4, leader=1), apply(*entries[first - 2 :])])
    return Scenario(b, (step.effect("apply"),))


def apply_after_snapshot() -> Scenario:
    """Near miss of ``apply_skips``: n3 lagged, installs a snapshot at index
    3 and then applies from 4 (its next entry after the snapshot)."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    b.propose(1, (3, 1, 0xA2))
    b.propose(1, (4, 1, 0xA3))
    entries = [(2, 1, 0xA1), (3, 1, 0xA2), (4, 1, 0xA3)]
    ack = b.replicate(1, 2, *entries)
    b.leader_commit(1, ack, 4, support=[1, 2])
    mid = b.send_from(1, message("snapshot", 1, 3, 1, index=3, snap_term=1))
    install = effect("snapshot_install", index=3, last_term=1, src=1)
    b.recv(
        3,
        mid,
        st={"term": 1, "lead": 1, "applied": 3},
        effects=[become("follower", previous="follower", lead=1), install],
    )
    step = b.replicate(1, 3, entries[2])
    return Scenario(b, (step.effect("apply"),))


# -- membership: shared beginnings ----------------------------------------------------------

#: n4 replaces n3 through a joint configuration, leaving it automatically.
REPLACE_3_BY_4 = conf([1, 2, 4], outgoing=[1, 2, 3], auto_leave=True)


def _leader_with_learner() -> TraceBuilder:
    """Voters n1-n3 and learner n4; n1 leads term 1 and has committed and
    applied its first entry (2) with n2."""
    b = TraceBuilder([1, 2, 3], learners=[4])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0))
    ack = b.replicate(1, 2, (2, 1, 0))
    b.leader_commit(1, ack, 2, support=[1, 2])
    b.applied(1, 2)
    return b


def _commit_change_3(b: TraceBuilder) -> None:
    """n1 proposes the change at index 3 (n4 replaces n3) and commits it with
    n2; it is handed to n1's state machine, not yet applied."""
    b.propose(1, (3, 1, 0xC1, 1))
    ack = b.replicate(1, 2, (3, 1, 0xC1, 1))
    b.leader_commit(1, ack, 3, support=[1, 2])


def _enter_joint(b: TraceBuilder, *extra: dict[str, object]) -> Step:
    """n1's state machine applies the change at 3: n1 enters the joint
    configuration (plus ``extra`` effects in the same step)."""
    return b.applied(
        1,
        3,
        effects=[
            conf_apply(3, REPLACE_3_BY_4, "add_voter 4, remove 3"),
            effect("enter_joint", auto_leave=True),
            effect("learner_promote", node=4),
            effect("node_remove", node=3),
            *extra,
        ],
    )


# -- At most one change pending ------------------------------------------------------------


def second_change(applied_first: bool = False) -> Scenario:
    """n1 commits the change at 3 (n4 replaces n3) but has not applied it
    when it appends another change at 4. In the near miss, the step that
    applies the change at 3 (entering the joint configuration) is the one
    that appends the change at 4 (the automatic leave): the first change
    is applied by the end of that step."""
    b = _leader_with_learner()
    _commit_change_3(b)
    if applied_first:
        step = _enter_joint(b, append((4, 1, 0xC2, 1)))
        return Scenario(b, (step.effect("append"),))
    step = b.propose(1, (4, 1, 0xC2, 1))
    return Scenario(b, (step.effect("append"),))


# -- Joint quorum ------------------------------------------------------------------------


def joint_commit(ackers: tuple[int, ...]) -> Scenario:
    """n1 is in the joint configuration {1,2,4} & {1,2,3} (n4 replacing n3)
    and commits entry 5 once the acknowledgements of ``ackers`` (followers
    it sent entries up to 5) are delivered. With (4,) its backing (1, 4) is
    a majority of the incoming voters only; with (4, 2) it is (1, 2, 4), a
    majority of both. The node claims the support its backing really is."""
    b = _leader_with_learner()
    _commit_change_3(b)
    _enter_joint(b, append((4, 1, 0xC2, 1)))
    b.propose(1, (5, 1, 0xD5))
    return Scenario(b, (_commit_on_acks(b, 5, ackers),))


def _commit_on_acks(b: TraceBuilder, index: int, ackers: tuple[int, ...]) -> int:
    """n1 replicates up to ``index`` to each of ``ackers`` and commits it when
    the last acknowledgement arrives; returns the commit's seq."""
    acks = []
    for follower in ackers:
        have = b.state(follower)["last"]
        acks.append(b.replicate(1, follower, *b.entries(1, have + 1, index)))
    for ack in acks[:-1]:
        b.recv(1, ack.mids[-1])
    support = [1, *sorted(ackers)]
    return b.recv(1, acks[-1].mids[-1], effects=[commit(index, support=support)]).effect("commit")


def learner_counted(ackers: tuple[int, ...] = (4,)) -> Scenario:
    """Voters {1,2,3}, learner 4: n1 commits entry 3 on the acknowledgement
    of n4 alone, which with n1 is no majority of the voters. With (4, 2) the
    learner acknowledged too, but the voters n1 and n2 alone are a majority."""
    b = _leader_with_learner()
    b.propose(1, (3, 1, 0xD3))
    return Scenario(b, (_commit_on_acks(b, 3, ackers),))


def demoting_voter_counted() -> Scenario:
    """n3 is being demoted: in the joint configuration {1,2} & {1,2,3} it is
    still an outgoing voter (a learner only once the joint configuration is
    left). n1 commits counting n1 and n3: a majority of the outgoing voters,
    not of the incoming ones. n3 counts legitimately in the outgoing half;
    only the incoming half falls short."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0))
    demote = conf([1, 2], outgoing=[1, 2, 3], learners_next=[3], auto_leave=True)
    for node in (1, 2, 3):
        b.step(node, "tick", st={"conf": demote})
    b.propose(1, (3, 1, 0xD3))
    ack = b.replicate(1, 3, (2, 1, 0), (3, 1, 0xD3))
    step = b.recv(1, ack.mids[-1], effects=[commit(3, support=[1, 3])])
    return Scenario(b, (step.effect("commit"),))


def joint_election(votes: tuple[int, ...]) -> Scenario:
    """Every node is in the joint configuration {1,2,4} & {1,2,3}; n4 wins
    term 2 with ``votes``. (2, 4) is no majority of {1,2,3}; (2, 3, 4) is a
    majority of both halves."""
    b = TraceBuilder([1, 2, 3, 4])
    joint = conf([1, 2, 4], outgoing=[1, 2, 3])
    for node in (1, 2, 3, 4):
        b.step(node, "tick", st={"conf": joint})
    won = b.elect(4, 2, list(votes))
    return Scenario(b, (won.effect("become_leader"),))


# -- Learners never vote ----------------------------------------------------------------------


def vote_from(voter: int, granted: bool = True, pre: bool = False) -> Scenario:
    """Voters {1,2,3}, learner 4 and n5 (booted late with an empty
    configuration, as a node about to be added is): n1 asks ``voter`` for
    its (pre-)vote in term 2, which grants it or refuses it."""
    b = TraceBuilder([1, 2, 3], learners=[4])
    b.boot(5, conf([]))
    request = message("vote_req", 1, voter, 2, last_index=1, last_term=0, pre=pre, transfer=False)
    st = {"role": "precandidate"} if pre else {"term": 2, "role": "candidate", "vote": 1}
    ask = b.step(1, "tick", st=st, effects=[become(st["role"]), send(request)])
    theirs: dict[str, object] = {} if pre else {"term": 2}
    if granted and not pre:
        theirs["vote"] = 1
    step = b.recv(voter, ask.mids[0], st=theirs, effects=[vote_resp(voter, 1, 2, granted, pre)])
    return Scenario(b, (step.effect("send"),))


def grant_released_after_removal(asked_as_voter: bool = True) -> Scenario:
    """n3 grants n1 its pre-vote for term 2, and the reply leaves only after
    n3 applies a change removing n3 (the reply waited for n3's disk, as
    replies do behind a write). In the legal run n3 was asked while still a
    voter; in the rejected one, only after its removal."""
    b = TraceBuilder([1, 2, 3])
    removal = conf_apply(1, conf([1, 2]), "remove 3")
    if not asked_as_voter:
        b.applied(3, 1, effects=[removal])
    request = message("vote_req", 1, 3, 2, last_index=1, last_term=0, pre=True, transfer=False)
    ask = b.step(
        1, "tick", st={"role": "precandidate"}, effects=[become("precandidate"), send(request)]
    )
    b.recv(3, ask.mids[0])
    if asked_as_voter:
        b.applied(3, 1, effects=[removal])
    step = b.persisted(3, 1, effects=[vote_resp(3, 1, 2, True, pre=True)])
    return Scenario(b, (step.effect("send"),))


# -- No campaign with unapplied changes ----------------------------------------------------


def campaign_with_unapplied_change(applied_first: bool = False) -> Scenario:
    """n2 learns that the change at 3 is committed (commit 3) and hands it
    to its state machine, but campaigns on its next tick before the state
    machine has applied it. In the near miss the change is applied first."""
    b = _leader_with_learner()
    _commit_change_3(b)
    b.replicate(1, 2)  # n2 learns commit 3
    if applied_first:
        b.applied(2, 3, effects=[conf_apply(3, REPLACE_3_BY_4, "add_voter 4, remove 3")])
    st = {"term": 2, "vote": 2, "lead": 0}
    step = b.step(2, "tick", st=st, effects=[become("candidate", transfer=False)])
    return Scenario(b, (step.effect("become_candidate"),))


__all__ = [
    "REPLACE_3_BY_4",
    "Scenario",
    "applied_beyond_commit",
    "apply_after_snapshot",
    "apply_skips",
    "campaign_with_unapplied_change",
    "clean",
    "commit_goes_back",
    "committed_after_election",
    "demoting_voter_counted",
    "different_applies",
    "elected_without_committed",
    "follower_truncates",
    "joint_commit",
    "joint_election",
    "leader_rewrites",
    "learner_counted",
    "mismatched_prefix",
    "only",
    "prefix_changed_under_the_first_holder",
    "rejected",
    "run_all",
    "second_change",
    "two_leaders",
    "vote_from",
]


def prefix_changed_under_the_first_holder() -> Scenario:
    """The node that first held an entry is the one whose log goes wrong.

    n3 leads term 2 and appends entries 2 and 3 (term 2), which n2 takes.
    n1, elected for term 3, overwrites n3's entry 2 with its own entry 2 of
    term 1. n2, elected for term 4, then sends n3 its entry 3 with prev
    (2, term 2), and n3 appends it without checking that its entry 2 has
    term 2: n2 and n3 now both hold entry 3 of term 2 over different
    entries 2, although n3 is the node that appended that entry first."""
    b = TraceBuilder([1, 2, 3, 4, 5])
    b.elect(1, 1, [1, 4, 5], entry=(2, 1, 0xA1))
    b.elect(3, 2, [3, 4, 5], entry=(2, 2, 0xB2))
    b.propose(3, (3, 2, 0xC3))
    first = b.replicate(3, 2, (2, 2, 0xB2), (3, 2, 0xC3)).effect("append")
    b.elect(1, 3, [1, 4, 5])
    b.replicate(1, 3, (2, 1, 0xA1))
    b.elect(2, 4, [2, 4, 5])
    request = message(
        "append_req", 2, 3, 4, prev_index=2, prev_term=2, entries=[[3, 2, ""]], commit=1
    )
    mid = b.send_from(2, request)
    step = b.recv(3, mid, st={"term": 4, "lead": 2}, effects=[append((3, 2, 0xC3))])
    return Scenario(b, (first, step.effect("append")))


# -- Figure 8(e) ------------------------------------------------------------------------------


def figure_8(late_election: bool = False) -> tuple[TraceBuilder, int, int]:
    """The Raft paper's Figure 8, on three nodes. n1 leads term 1 and
    appends entry 2, which reaches nobody. n3 campaigns for term 2 and wins
    with n2's vote (neither holds entry 2), appends its own entry 2 and
    crashes. n1 wins term 3 with n2's vote, appends entry 3 and replicates
    2 and 3 to n2, and commits both in term 3: entry 2 of term 1 is
    committed in term 3, so the leader of term 2 need not hold it.

    With ``late_election`` n3's win comes last in the trace: n2's grant for
    term 2 is delivered only after n1 has committed in term 3 (n3 is then a
    stale leader of an older term, cut off rather than crashed). Returns the trace, the seq of n3's
    ``become_leader`` and that of n1's commit."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2])
    b.propose(1, (2, 1, 0xA1))
    ask = b.step(
        3,
        "tick",
        st={"term": 2, "vote": 3, "lead": 0},
        effects=[
            become("candidate", transfer=False),
            send(
                message("vote_req", 3, 2, 2, last_index=1, last_term=0, pre=False, transfer=False)
            ),
        ],
    )
    grant = b.recv(
        2,
        ask.mids[0],
        st={"term": 2, "vote": 3, "lead": 0},
        effects=[become("follower", previous="follower", lead=0), vote_resp(2, 3, 2, True)],
    ).mids[-1]

    def n3_wins() -> int:
        won = b.recv(3, grant, st={"lead": 3}, effects=[become("leader", votes=[2, 3])])
        b.propose(3, (2, 2, 0xB2))
        return won.effect("become_leader")

    won = 0
    if not late_election:
        won = n3_wins()
        b.crash(3)
    ask = b.step(
        1,
        "tick",
        st={"term": 3, "vote": 1, "lead": 0},
        effects=[
            become("candidate", transfer=False),
            send(
                message("vote_req", 1, 2, 3, last_index=2, last_term=1, pre=False, transfer=False)
            ),
        ],
    )
    vote = b.recv(
        2,
        ask.mids[0],
        st={"term": 3, "vote": 1, "lead": 0},
        effects=[become("follower", previous="follower", lead=0), vote_resp(2, 1, 3, True)],
    ).mids[-1]
    b.recv(1, vote, st={"lead": 1}, effects=[become("leader", votes=[1, 2])])
    b.propose(1, (3, 3, 0xC3))
    ack = b.replicate(1, 2, (2, 1, 0xA1), (3, 3, 0xC3))
    committed = b.leader_commit(1, ack, 3, support=[1, 2]).effect("commit")
    if late_election:
        won = n3_wins()
    return b, won, committed
