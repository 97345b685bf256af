"""Who changes the cluster's membership: pluggable actors.

The simulator shows an actor a ``ClusterView`` (what an operator could see:
the leader, its applied configuration, how far each node has caught up) every
few hundred milliseconds and carries out the actions it returns. A scripted
actor replays a plan; the random actor exercises every kind of change (add a
learner, promote it, remove or demote a voter, replace a voter through joint
consensus, several changes at once, an explicit joint configuration left on
request, leader transfer). The Kubernetes controller's planner plugs in here
the same way.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import orjson

from consensus import ChangeItem, ChangeOp, ConfChange, ConfChangeError, Membership, Transition


@dataclass(slots=True, frozen=True)
class ClusterView:
    now_us: int
    leader: int
    """0 when no node currently claims leadership."""
    membership: Membership
    running: tuple[int, ...]
    match: tuple[tuple[int, int], ...]
    """(node, highest index the leader knows it holds), from the leader."""
    commit: int

    def caught_up(self, node: int, slack: int = 10) -> bool:
        return dict(self.match).get(node, 0) + slack >= self.commit


@dataclass(slots=True, frozen=True)
class StartNode:
    node: int


@dataclass(slots=True, frozen=True)
class StopNode:
    node: int


@dataclass(slots=True, frozen=True)
class ChangeMembership:
    change: ConfChange


@dataclass(slots=True, frozen=True)
class TransferLeadership:
    target: int


AdminAction = StartNode | StopNode | ChangeMembership | TransferLeadership


class MembershipActor(Protocol):
    def act(self, view: ClusterView) -> Sequence[AdminAction]:
        """What to do now (possibly nothing)."""
        ...

    def result(self, action: AdminAction, ok: bool, reason: str) -> None:
        """How a ChangeMembership or TransferLeadership went at the leader."""


class NoActor:
    def act(self, view: ClusterView) -> Sequence[AdminAction]:
        return ()

    def result(self, action: AdminAction, ok: bool, reason: str) -> None:
        return None


def _change(
    *items: tuple[ChangeOp, int], transition: Transition = Transition.AUTO
) -> ChangeMembership:
    return ChangeMembership(ConfChange(tuple(ChangeItem(op, n) for op, n in items), transition))


class RandomActor:
    """Random but sane membership changes: voters stay within bounds."""

    def __init__(
        self,
        rng: random.Random,
        first_new_id: int,
        every_s: float = 3.0,
        min_voters: int = 3,
        max_voters: int = 7,
        max_nodes: int = 9,
    ) -> None:
        self.rng = rng
        self.next_id = first_new_id
        self.every_us = int(every_s * 1_000_000)
        self.min_voters = min_voters
        self.max_voters = max_voters
        self.max_nodes = max_nodes
        self.next_at = self.every_us
        self.starting: set[int] = set()
        self.removed: set[int] = set()

    def act(self, view: ClusterView) -> Sequence[AdminAction]:
        conf = view.membership
        actions: list[AdminAction] = []
        members = set(conf.members())
        self.starting -= members
        for node in view.running:
            if node not in members and node not in self.starting:
                actions.append(StopNode(node))  # removed and applied: shut it down
        if not view.leader:
            return actions
        if conf.joint and not conf.auto_leave:
            actions.append(ChangeMembership(ConfChange.leave()))
            return actions
        if view.now_us < self.next_at or conf.joint:
            return actions
        self.next_at = view.now_us + int(self.rng.expovariate(1.0) * self.every_us) + 200_000
        plan = self._plan(view)
        if plan:
            actions.extend(plan)
        return actions

    def _plan(self, view: ClusterView) -> list[AdminAction]:
        conf, rng = view.membership, self.rng
        voters = list(conf.voters)
        learners = list(conf.learners)
        ready = [n for n in learners if view.caught_up(n)]
        options: list[str] = ["transfer"]
        if len(conf.members()) + len(self.starting) < self.max_nodes:
            options += ["add_learner", "add_learner", "add_two_learners"]
        if ready and len(voters) < self.max_voters:
            options += ["promote", "promote"]
        if len(ready) >= 2 and len(voters) + 2 <= self.max_voters:
            options.append("promote_two")
        if len(voters) > self.min_voters:
            options += ["remove_voter", "demote_voter"]
        if ready and len(voters) >= self.min_voters:
            options += ["replace", "replace_explicit"]
        if learners:
            options.append("remove_learner")
        choice = rng.choice(options)
        if choice == "add_learner":
            return self._add_learners(1)
        if choice == "add_two_learners":
            return self._add_learners(2)
        if choice == "promote":
            return [_change((ChangeOp.ADD_VOTER, rng.choice(ready)))]
        if choice == "promote_two":
            a, b = rng.sample(ready, 2)
            return [_change((ChangeOp.ADD_VOTER, a), (ChangeOp.ADD_VOTER, b))]
        if choice == "remove_voter":
            return [_change((ChangeOp.REMOVE, rng.choice(voters)))]
        if choice == "demote_voter":
            return [_change((ChangeOp.ADD_LEARNER, rng.choice(voters)))]
        if choice in ("replace", "replace_explicit"):
            transition = (
                Transition.JOINT_EXPLICIT if choice == "replace_explicit" else Transition.AUTO
            )
            new, old = rng.choice(ready), rng.choice(voters)
            return [
                _change((ChangeOp.ADD_VOTER, new), (ChangeOp.REMOVE, old), transition=transition)
            ]
        if choice == "remove_learner":
            return [_change((ChangeOp.REMOVE, rng.choice(learners)))]
        others = [v for v in voters if v != view.leader]
        return [TransferLeadership(rng.choice(others))] if others else []

    def _add_learners(self, count: int) -> list[AdminAction]:
        new = list(range(self.next_id, self.next_id + count))
        self.next_id += count
        self.starting.update(new)
        items = tuple((ChangeOp.ADD_LEARNER, n) for n in new)
        return [*(StartNode(n) for n in new), _change(*items)]

    def result(self, action: AdminAction, ok: bool, reason: str) -> None:
        if not ok and isinstance(action, ChangeMembership):
            self.next_at = 0  # try something again soon


class ScriptedActor:
    """Carries out a fixed plan: each step at or after its time, retrying
    refused changes until the leader accepts them."""

    def __init__(self, steps: Sequence[tuple[float, AdminAction]]) -> None:
        self.steps = sorted(steps, key=lambda s: s[0])
        self.position = 0
        self.waiting = False

    def act(self, view: ClusterView) -> Sequence[AdminAction]:
        if self.waiting or self.position >= len(self.steps):
            return ()
        at, action = self.steps[self.position]
        if view.now_us < at * 1_000_000:
            return ()
        if isinstance(action, StartNode | StopNode):
            self.position += 1
            return (action, *self.act(view))
        if not view.leader:
            return ()
        self.waiting = True
        return (action,)

    def result(self, action: AdminAction, ok: bool, reason: str) -> None:
        self.waiting = False
        if ok:
            self.position += 1


class ScriptError(ValueError):
    """A membership script that cannot be understood."""


def load_script(
    path: str | Path, nodes: int | None = None, duration_s: float | None = None
) -> ScriptedActor:
    """Read a JSON membership script.

    A list of steps such as ``{"at": 2.0, "do": "add_learner", "node": 6}``;
    ``do`` is one of add_learner (also starts the node), promote, demote,
    remove, transfer, stop, leave_joint, or change (with ``items`` like
    ``[["add_voter", 6], ["remove", 1]]`` and an optional ``transition``).

    Given the run's initial ``nodes`` (ids 1..nodes) and ``duration_s``, a
    step that names a node no earlier step (in time) brought in, or that
    falls after the end of the run, is an error naming the step: such a step
    would otherwise be retried, refused, until the run ends.
    """
    try:
        raw = orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as err:
        raise ScriptError(f"{path}: cannot read membership script: {err}") from None
    return parse_script(raw, str(path), nodes, duration_s)


def parse_script(
    raw: object, path: str, nodes: int | None = None, duration_s: float | None = None
) -> ScriptedActor:
    """A membership script already read from JSON (``load_script``'s steps,
    also embedded in schedule files, sim/schedule.py); ``path`` names it in
    errors."""
    if not isinstance(raw, list):
        raise ScriptError(f"{path}: a membership script is a JSON list of steps")
    steps: list[tuple[float, AdminAction]] = []
    #: (at, step number, nodes it brings in, nodes it names)
    numbered: list[tuple[float, int, set[int], set[int]]] = []
    for number, step in enumerate(raw, start=1):
        where = f"{path}: step {number}"
        if not isinstance(step, dict) or not isinstance(step.get("at"), int | float):
            raise ScriptError(f"{where}: each step needs a numeric 'at' (seconds)")
        at, do, node = float(step["at"]), step.get("do"), step.get("node")
        if not 0 <= at < float("inf"):
            raise ScriptError(f"{where}: 'at' must be a finite time >= 0, got {step['at']}")
        if duration_s is not None and at > duration_s:
            raise ScriptError(
                f"{where} ({do} at {at:g} s) comes after the end of the run ({duration_s:g} s)"
            )
        needs_node = do in ("add_learner", "promote", "demote", "remove", "transfer", "stop")
        if needs_node and not isinstance(node, int):
            raise ScriptError(f"{where}: '{do}' needs an integer 'node'")
        n = int(node) if needs_node else 0
        if do == "add_learner":
            steps.append((at, StartNode(n)))
            steps.append((at, _change((ChangeOp.ADD_LEARNER, n))))
        elif do == "promote":
            steps.append((at, _change((ChangeOp.ADD_VOTER, n))))
        elif do == "demote":
            steps.append((at, _change((ChangeOp.ADD_LEARNER, n))))
        elif do == "remove":
            steps.append((at, _change((ChangeOp.REMOVE, n))))
        elif do == "transfer":
            steps.append((at, TransferLeadership(n)))
        elif do == "stop":
            steps.append((at, StopNode(n)))
        elif do == "leave_joint":
            steps.append((at, ChangeMembership(ConfChange.leave())))
        elif do == "change":
            try:
                change = ConfChange.from_json(
                    {"items": step.get("items", []), "transition": step.get("transition", "auto")}
                )
            except ConfChangeError as err:
                raise ScriptError(f"{where}: {err}") from None
            steps.extend((at, StartNode(i.node)) for i in change.items if step.get("start"))
            steps.append((at, ChangeMembership(change)))
        else:
            raise ScriptError(f"{where}: unknown action {do!r}")
        numbered.append((at, number, *_nodes_of(do, n if needs_node else None, steps[-1][1])))
    if nodes is not None:
        _check_nodes_exist(path, numbered, nodes)
    return ScriptedActor(steps)


def _nodes_of(do: object, node: int | None, last: AdminAction) -> tuple[set[int], set[int]]:
    """The nodes a step brings in (adds) and the nodes it names otherwise."""
    if do == "add_learner":
        return {node}, set()
    if isinstance(last, ChangeMembership) and do == "change":
        items = last.change.items
        return (
            {i.node for i in items if i.op is not ChangeOp.REMOVE},
            {i.node for i in items if i.op is ChangeOp.REMOVE},
        )
    return set(), ({node} if node is not None else set())


def _check_nodes_exist(
    path: str | Path, numbered: list[tuple[float, int, set[int], set[int]]], nodes: int
) -> None:
    """Every node a step names must be an initial node or brought in (added
    as a learner or voter) by a step no later in time."""
    known = set(range(1, nodes + 1))
    for at, number, adds, names in sorted(numbered, key=lambda s: (s[0], s[1])):
        known |= adds
        for n in sorted(names - known):
            raise ScriptError(
                f"{path}: step {number} (at {at:g} s) names node {n}, which never exists by "
                f"then (the run starts with nodes 1-{nodes}; a step must add a node before "
                "others name it)"
            )
