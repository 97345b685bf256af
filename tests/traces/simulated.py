"""Real traces from the simulator, for the tests of the trace layer, the
checkers and the command line.

Simulations are short (a few simulated seconds) and cached per process:
callers get fresh copies of the events, so they may tamper with them.
"""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from consensus import ChangeItem, ChangeOp, ConfChange, Transition
from sim import RandomActor, ScriptedActor, SimConfig, Simulation, get_profile
from sim.membership import (
    AdminAction,
    ChangeMembership,
    MembershipActor,
    StartNode,
    TransferLeadership,
)
from traces.recorder import MemoryRecorder, make_header, trace_bytes

Event = dict[str, Any]


def _change(*items: tuple[ChangeOp, int], transition: Transition = Transition.AUTO) -> AdminAction:
    return ChangeMembership(ConfChange(tuple(ChangeItem(op, n) for op, n in items), transition))


def joint_plan() -> ScriptedActor:
    """Every kind of change within 2.5 s of a 5-node cluster: a learner
    added, a replacement through an automatic joint configuration, a
    demotion, a replacement through a joint configuration left on request,
    and a leader transfer."""
    return ScriptedActor(
        [
            (0.3, StartNode(6)),
            (0.3, _change((ChangeOp.ADD_LEARNER, 6))),
            (0.8, _change((ChangeOp.ADD_VOTER, 6), (ChangeOp.REMOVE, 1))),
            (1.3, _change((ChangeOp.ADD_LEARNER, 2))),
            (
                1.6,
                _change(
                    (ChangeOp.ADD_VOTER, 2),
                    (ChangeOp.REMOVE, 3),
                    transition=Transition.JOINT_EXPLICIT,
                ),
            ),
            (2.0, ChangeMembership(ConfChange.leave())),
            (2.2, TransferLeadership(4)),
        ]
    )


@cache
def _simulate(profile: str, seed: int, duration_s: float, membership: str) -> tuple[bytes, bytes]:
    config = SimConfig(nodes=5, seed=seed, duration_s=duration_s, profile=get_profile(profile))
    actor: MembershipActor
    if membership == "joint":
        actor = joint_plan()
    else:
        actor = RandomActor(random.Random(seed * 31 + 17), first_new_id=6)
    header = make_header("raftlab-sim", **config.header_fields(), membership=membership)
    recorder = MemoryRecorder(header)
    Simulation(config, recorder, actor).run()
    return orjson.dumps(header), orjson.dumps(recorder.events)


def simulate(
    profile: str = "default", seed: int = 1, duration_s: float = 2.0, membership: str = "random"
) -> tuple[Event, list[Event]]:
    """The header and (a fresh copy of) the events of one simulated run.
    ``membership`` is ``random`` (the CLI's default actor) or ``joint``
    (``joint_plan``)."""
    header, events = _simulate(profile, seed, duration_s, membership)
    return orjson.loads(header), orjson.loads(events)


def write_trace(path: Path, header: Event, events: list[Event]) -> Path:
    """A trace file, as ``FileRecorder`` writes it: the closing record is
    computed over ``events`` as given, so a test that changed an event gets
    a file whose integrity data agrees with the change (what a recorder
    with a bug would write); tampering a written file is ``tamper``."""
    path.write_bytes(trace_bytes(header, events))
    return path
