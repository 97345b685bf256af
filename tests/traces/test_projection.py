"""A node's state is the fold of its steps' ``st`` deltas; a boot or a
restart starts the fold again."""

from __future__ import annotations

from typing import Any

from tests.traces.simulated import simulate
from traces.projection import Projection
from traces.schema import INPUT_ACTIONS, STATE_FIELDS

FULL = {
    "term": 1,
    "role": "follower",
    "vote": 2,
    "lead": 0,
    "commit": 5,
    "applied": 5,
    "last": 6,
    "last_term": 1,
    "snap": 1,
    "conf": {"voters": [1, 2, 3]},
}


def ev(act: str, n: str = "n1", **fields: Any) -> dict[str, Any]:
    return {"seq": 0, "t": 0, "n": n, "lc": 0, "act": act, **fields}


def test_deltas_fold_over_the_boot_state() -> None:
    p = Projection()
    p.apply(ev("boot", st=FULL))
    p.apply(ev("tick", st={"role": "candidate", "term": 2, "vote": 1}))
    p.apply(ev("recv", st={"role": "leader", "lead": 1}))
    p.apply(ev("tick"))  # a step that changed nothing visible has no st
    assert p.state("n1") == FULL | {"term": 2, "role": "leader", "vote": 1, "lead": 1}


def test_events_without_a_delta_change_nothing() -> None:
    p = Projection()
    p.apply(ev("boot", st=FULL))
    p.apply(ev("send", msg={"type": "heartbeat"}))
    p.apply(ev("crash", n="env", node=1))
    p.apply(ev("invoke", n="client"))
    assert p.state("n1") == FULL
    assert set(p.nodes) == {"n1"}


def test_nodes_fold_separately() -> None:
    p = Projection()
    p.apply(ev("boot", st=FULL))
    p.apply(ev("boot", n="n2", st=FULL))
    p.apply(ev("tick", n="n2", st={"commit": 9}))
    assert p.state("n1")["commit"] == 5
    assert p.state("n2")["commit"] == 9
    assert p.state("n3") == {}


def test_a_restart_resets_the_fold() -> None:
    p = Projection()
    p.apply(ev("boot", st=FULL | {"extra": "only-before"}))
    p.apply(ev("tick", st={"role": "leader", "applied": 6}))
    restarted = {k: v for k, v in FULL.items() if k != "lead"}
    p.apply(ev("restart", st=restarted | {"applied": 1}))
    assert p.state("n1") == restarted | {"applied": 1}


def test_a_second_boot_resets_the_fold_too() -> None:
    p = Projection()
    p.apply(ev("boot", st=FULL | {"extra": 1}))
    p.apply(ev("boot", st={"term": 0}))
    assert p.state("n1") == {"term": 0}


def test_a_simulated_trace_folds_to_complete_states() -> None:
    """Every node's state is complete after its first step, and each input
    event's term is the folded term (crashes and restarts included)."""
    _, events = simulate("chaos", 3, 2.5)
    p = Projection()
    restarts = 0
    for event in events:
        p.apply(event)
        if event["act"] in INPUT_ACTIONS:
            state = p.state(event["n"])
            assert set(state) == set(STATE_FIELDS), event
            assert state["term"] == event["term"], event
            restarts += event["act"] == "restart"
    assert restarts > 0
