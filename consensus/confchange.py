"""Configuration changes: entering and leaving joint consensus.

A ``ConfChange`` is a batch of item changes (add a voter, add a learner,
remove a node) plus a transition that says how to get there:

- ``auto``: if at most one voter changes, apply the batch directly (a "simple"
  change; two majorities of configurations differing by one voter always
  overlap); otherwise go through a joint configuration that is left
  automatically once it is applied.
- ``joint``: always go through joint consensus, leave automatically.
- ``joint_explicit``: go through joint consensus and stay there until someone
  proposes ``ConfChange.leave()``.

The functions here are pure: ``apply_change(membership, change)`` either
returns the next membership or raises ``ConfChangeError``. The leader calls it
to validate a proposal, and every node calls it again when the entry is
applied: changes take effect on apply (etcd-io/raft's choice), so a node's
configuration is always a function of its applied log prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from consensus.errors import ConfChangeError
from consensus.membership import Membership


class ChangeOp(StrEnum):
    ADD_VOTER = "add_voter"  # also promotes a learner
    ADD_LEARNER = "add_learner"  # also demotes a voter
    REMOVE = "remove"


class Transition(StrEnum):
    AUTO = "auto"
    JOINT = "joint"
    JOINT_EXPLICIT = "joint_explicit"


@dataclass(slots=True, frozen=True)
class ChangeItem:
    op: ChangeOp
    node: int


@dataclass(slots=True, frozen=True)
class ConfChange:
    """A batch of changes; an empty batch means "leave the joint configuration"."""

    items: tuple[ChangeItem, ...] = ()
    transition: Transition = Transition.AUTO

    @staticmethod
    def leave() -> ConfChange:
        return ConfChange(())

    @property
    def is_leave(self) -> bool:
        return not self.items

    def describe(self) -> str:
        if self.is_leave:
            return "leave joint"
        body = ", ".join(f"{item.op.value} {item.node}" for item in self.items)
        return body if self.transition is Transition.AUTO else f"{body} ({self.transition.value})"

    def to_json(self) -> dict[str, object]:
        return {
            "items": [[item.op.value, item.node] for item in self.items],
            "transition": self.transition.value,
        }

    @staticmethod
    def from_json(obj: dict[str, object]) -> ConfChange:
        raw_items = obj.get("items", [])
        if not isinstance(raw_items, list):
            raise ConfChangeError("conf change 'items' must be a list")
        items: list[ChangeItem] = []
        for raw in raw_items:
            if not (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[1], int)):
                raise ConfChangeError(f"conf change item must be [op, node], got {raw!r}")
            try:
                op = ChangeOp(raw[0])
            except ValueError:
                raise ConfChangeError(f"unknown conf change op {raw[0]!r}") from None
            items.append(ChangeItem(op, raw[1]))
        try:
            transition = Transition(str(obj.get("transition", "auto")))
        except ValueError:
            raise ConfChangeError(f"unknown transition {obj.get('transition')!r}") from None
        return ConfChange(tuple(items), transition)


def voter_delta(before: Membership, after: Membership) -> int:
    """How many nodes gained or lost a vote between two (non-joint) configurations."""
    return len(set(before.voters) ^ set(after.voters))


def apply_change(current: Membership, change: ConfChange, skip_joint: bool = False) -> Membership:
    """The membership that results from applying ``change`` to ``current``.

    ``skip_joint`` is the unsafe mode no-joint (consensus/unsafe.py): an
    ``auto`` change is applied directly however many voters it changes.
    """
    if change.is_leave:
        return leave_joint(current)
    if current.joint:
        raise ConfChangeError("a new change cannot start while in a joint configuration")
    if change.transition is Transition.AUTO:
        direct = _apply_items(current, change.items)
        if skip_joint or voter_delta(current, direct) <= 1:
            _check(direct)
            return direct
    return enter_joint(current, change.items, change.transition is not Transition.JOINT_EXPLICIT)


def enter_joint(current: Membership, items: tuple[ChangeItem, ...], auto_leave: bool) -> Membership:
    if current.joint:
        raise ConfChangeError("already in a joint configuration")
    staged = Membership(
        voters=current.voters,
        outgoing=current.voters,
        learners=current.learners,
        auto_leave=auto_leave,
    )
    result = _apply_items(staged, items)
    _check(result)
    return result


def leave_joint(current: Membership) -> Membership:
    if not current.joint:
        raise ConfChangeError("not in a joint configuration, nothing to leave")
    learners = tuple(sorted(set(current.learners) | set(current.learners_next)))
    return Membership(voters=current.voters, learners=learners)


def _apply_items(base: Membership, items: tuple[ChangeItem, ...]) -> Membership:
    """Apply item changes to the incoming half of ``base``.

    A voter of the outgoing half that is demoted still has a vote there until
    the joint configuration is left, so it waits in ``learners_next``.
    """
    voters = set(base.voters)
    learners = set(base.learners)
    learners_next = set(base.learners_next)
    outgoing = set(base.outgoing)
    for item in items:
        node = item.node
        if node <= 0:
            raise ConfChangeError(f"node ids are positive integers, got {node}")
        if item.op is ChangeOp.ADD_VOTER:
            learners.discard(node)
            learners_next.discard(node)
            voters.add(node)
        elif item.op is ChangeOp.ADD_LEARNER:
            voters.discard(node)
            if node in outgoing:
                learners_next.add(node)
            else:
                learners.add(node)
        else:
            voters.discard(node)
            learners.discard(node)
            learners_next.discard(node)
    return Membership(
        voters=tuple(sorted(voters)),
        outgoing=base.outgoing,
        learners=tuple(sorted(learners)),
        learners_next=tuple(sorted(learners_next)),
        auto_leave=base.auto_leave,
    )


def _check(result: Membership) -> None:
    if not result.voters:
        raise ConfChangeError("the change would remove every voter")
    result.validate()
