"""The spec checker as one of ``raftlab check``'s checkers: spec/RaftReconfig.tla's
properties on every state of the trace, through its mapping (``check.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from checkers.base import CheckerInfo, Event, Violation
from checkers.spec.check import SpecCheck, default_mapping_path, load_mapping
from traces.export.steps import StepFold
from traces.schema import INPUT_ACTIONS

if TYPE_CHECKING:
    from checkers.model import ClusterModel


class SpecInvariants:
    """Every state invariant and step property RaftReconfig.mapping.toml
    lists, on every node step and crash (docs/spec-checking.md)."""

    name = "spec-invariants"
    invariant = "RaftReconfig.tla invariants"
    # send: what a recv received, and the votes sent; append, truncate,
    # snapshot_install: the log's entries; apply: what the state machine took;
    # lease_read: reads under a lease; persist: what reaches the disk
    actions = frozenset(
        {
            *INPUT_ACTIONS,
            "crash",
            "send",
            "append",
            "truncate",
            "snapshot_install",
            "apply",
            "lease_read",
            "persist",
        }
    )

    def __init__(self, header: Event | None = None) -> None:
        self.check = SpecCheck(load_mapping(default_mapping_path()), self.name)
        self.fold = StepFold()

    def feed(self, event: Event, model: ClusterModel) -> None:
        step = self.fold.feed(event)
        if step is not None:
            self.check.feed(step)

    @property
    def suppressed(self) -> int:
        return self.check.suppressed

    def finish(self) -> list[Violation]:
        last = self.fold.flush()
        if last is not None:
            self.check.feed(last)
        return list(self.check.violations)


INFO = CheckerInfo(
    SpecInvariants.name,
    SpecInvariants.invariant,
    (SpecInvariants.__doc__ or "").split("\n\n")[0].strip(),
    SpecInvariants,
)
