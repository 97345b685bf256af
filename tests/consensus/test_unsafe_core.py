"""Three unsafe modes seen at a single core: each one's switch changes
exactly the decision it names, and the same input without it is handled as
a correct core does (the simulations in tests/sim/test_unsafe_modes.py show
the checkers catching all six)."""

from __future__ import annotations

from consensus import (
    Accepted,
    Campaign,
    ChangeItem,
    ChangeOp,
    ConfChange,
    DurableState,
    Effect,
    HardState,
    Membership,
    Persist,
    Persisted,
    ProposeConfChange,
    RaftConfig,
    RaftCore,
    Receive,
    Refused,
    Role,
    Send,
    VoteRequest,
    VoteResponse,
)

MEMBERS = Membership((1, 2, 3), learners=(4,))


def core(node: int, *modes: str, term: int = 0) -> RaftCore:
    config = RaftConfig(pre_vote=False, unsafe=modes)
    durable = DurableState.bootstrap(MEMBERS)
    durable = DurableState(HardState(term, 0, 1), durable.snapshot)
    return RaftCore(node, config, seed=1, durable=durable)


#: Past a restarted node's grace period, in which it votes for no one.
LATER = 20


def vote_request(dst: int) -> Receive:
    return Receive(VoteRequest(1, 1, dst, 1, 0, pre=False, transfer=False))


def answer(c: RaftCore, inp: Receive) -> tuple[list[Effect], list[Effect]]:
    """The step's effects, and what it sends once its writes are durable."""
    effects = c.step(LATER, inp)
    writes = [e.id for e in effects if isinstance(e, Persist)]
    later = c.step(LATER, Persisted(writes[-1])) if writes else []
    return effects, later


def granted(effects: list[Effect]) -> bool:
    return any(
        isinstance(e, Send) and isinstance(e.msg, VoteResponse) and e.msg.granted for e in effects
    )


def test_volatile_vote_sends_the_vote_at_once_and_writes_no_vote() -> None:
    now, later = answer(core(2, term=1), vote_request(2))
    (write,) = [e for e in now if isinstance(e, Persist)]
    assert write.hard_state.vote == 1
    assert not granted(now) and granted(later)  # held until the vote is durable
    now, later = answer(core(2, "volatile-vote", term=1), vote_request(2))
    assert not any(isinstance(e, Persist) for e in now) and granted(now)


def test_learner_early_vote_lets_a_learner_grant_its_vote() -> None:
    assert not any(map(granted, answer(core(4), vote_request(4))))
    assert any(map(granted, answer(core(4, "learner-early-vote"), vote_request(4))))


def leader(*modes: str) -> RaftCore:
    """Node 1 wins term 1 with node 2's vote; its no-op is not committed."""
    c = core(1, *modes)
    (write,) = [e for e in c.step(0, Campaign()) if isinstance(e, Persist)]
    c.step(0, Persisted(write.id))
    c.step(0, Receive(VoteResponse(1, 2, 1, True)))
    assert c.role is Role.LEADER
    return c


def test_config_before_noop_accepts_a_change_before_the_first_commit() -> None:
    add = ProposeConfChange(ConfChange((ChangeItem(ChangeOp.ADD_VOTER, 4),)))
    refused = leader().step(0, add)
    assert any(isinstance(e, Refused) and "own term" in e.reason for e in refused)
    accepted = leader("config-before-noop").step(0, add)
    assert any(isinstance(e, Accepted) for e in accepted)
