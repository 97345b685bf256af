"""Which checkers exist, and how a new one plugs in.

The built-in checkers are listed here. Other packages add theirs without
touching raftlab by declaring an entry point in the ``raftlab.checkers``
group whose object is a ``CheckerInfo``::

    [project.entry-points."raftlab.checkers"]
    my-invariant = "mypkg.checks:INFO"

A ``Registry`` is an ordinary object (no global state): build the default
one with ``default_registry()`` or an empty one and ``register`` your own.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any

from checkers.base import CheckerInfo, TraceChecker
from checkers.invariants.durability import DurableBeforeClaimed, DurableBeforeSend, VoteOnce
from checkers.invariants.liveness import Liveness, TermInflation
from checkers.invariants.logs import CommitWithinLog, LogModelAgreement, OwnTermCommit
from checkers.invariants.membership import (
    ConfAfterOwnCommit,
    ConfTransitions,
    JointQuorum,
    LearnersNeverVote,
    NoCampaignWithUnappliedChanges,
    SingleChangePending,
)
from checkers.invariants.safety import (
    ElectionSafety,
    LeaderAppendOnly,
    LeaderCompleteness,
    LogMatching,
    MonotonicProgress,
    StateMachineSafety,
)
from checkers.invariants.snapshots import SnapshotAgreement

ENTRY_POINT_GROUP = "raftlab.checkers"

BUILTIN: tuple[CheckerInfo, ...] = tuple(
    CheckerInfo(cls.name, cls.invariant, (cls.__doc__ or "").split("\n\n")[0].strip(), cls)
    for cls in (
        ElectionSafety,
        LeaderAppendOnly,
        LogMatching,
        LeaderCompleteness,
        StateMachineSafety,
        MonotonicProgress,
        SingleChangePending,
        ConfAfterOwnCommit,
        JointQuorum,
        LearnersNeverVote,
        NoCampaignWithUnappliedChanges,
        ConfTransitions,
        CommitWithinLog,
        OwnTermCommit,
        LogModelAgreement,
        DurableBeforeClaimed,
        VoteOnce,
        DurableBeforeSend,
        SnapshotAgreement,
        Liveness,
        TermInflation,
    )
)


class RegistryError(ValueError):
    """An unknown checker name or a broken plug-in."""


class Registry:
    def __init__(self, infos: Iterable[CheckerInfo] = ()) -> None:
        self._infos: dict[str, CheckerInfo] = {}
        for info in infos:
            self.register(info)

    def register(self, info: CheckerInfo) -> None:
        if info.name in self._infos:
            raise RegistryError(f"checker {info.name!r} is registered twice")
        self._infos[info.name] = info

    def infos(self) -> list[CheckerInfo]:
        return list(self._infos.values())

    def names(self) -> list[str]:
        return list(self._infos)

    def create(
        self, header: dict[str, Any], names: Iterable[str] | None = None
    ) -> list[TraceChecker]:
        wanted = list(names) if names is not None else self.names()
        unknown = [n for n in wanted if n not in self._infos]
        if unknown:
            raise RegistryError(
                f"unknown checker(s) {', '.join(unknown)}; known: {', '.join(self.names())}"
            )
        return [self._infos[n].factory(header) for n in wanted]


def default_registry(plugins: bool = True) -> Registry:
    """The built-in checkers, plus any installed through entry points."""
    registry = Registry(BUILTIN)
    if plugins:
        for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
            try:
                info = point.load()
            except Exception as err:  # a broken plug-in must not hide the others
                raise RegistryError(
                    f"checker plug-in {point.name!r} failed to load: {err}"
                ) from err
            if not isinstance(info, CheckerInfo):
                raise RegistryError(f"checker plug-in {point.name!r} is not a CheckerInfo")
            registry.register(info)
    return registry
