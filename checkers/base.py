"""What every trace checker is and what it reports.

A checker is fed the events of one trace in order and says, at the end, which
invariants were violated. Like Porcupine's models, checkers are small and
know one property each; the runner (runner.py) does the reading, the
dispatching and the shared bookkeeping (model.py), so a new checker is a
class with a name, the actions it wants and two methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from checkers.model import ClusterModel

Event = dict[str, Any]

#: The two kinds of findings.
SAFETY = "safety"
LIVENESS = "liveness"


@dataclass(slots=True, frozen=True)
class Violation:
    """One broken invariant, explained.

    ``witnesses`` are the sequence numbers of the events that together show
    the violation; ``message`` says in prose what happened and why it is
    wrong; ``states`` gives the relevant nodes' state at the last witness.
    ``kind`` is ``safety`` (something that must never happen did: the run
    is wrong) or ``liveness`` (something that should have happened within a
    bound did not, in a window without faults: a warning, see
    ``CheckReport.failed``).
    """

    invariant: str
    checker: str
    witnesses: tuple[int, ...]
    message: str
    states: tuple[str, ...] = ()
    kind: str = SAFETY

    def describe(self, witnesses: str = "") -> str:
        """The finding in words; ``witnesses`` names what the witnesses are
        (default ``events 12, 15``; a check of ITF states says ``states[3]``)."""
        seqs = ", ".join(map(str, self.witnesses))
        verdict = "violated" if self.kind == SAFETY else "not met (liveness warning)"
        text = f"{self.invariant} {verdict} ({witnesses or 'events ' + seqs}):\n  {self.message}"
        for state in self.states:
            text += f"\n    {state}"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "invariant": self.invariant,
            "checker": self.checker,
            "witnesses": list(self.witnesses),
            "message": self.message,
            "states": list(self.states),
            "kind": self.kind,
        }


class TraceChecker(Protocol):
    #: Registry name, e.g. ``election-safety``.
    name: str
    #: The invariant's name as people say it, e.g. ``Election Safety``.
    invariant: str
    #: Actions this checker wants to see (the runner dispatches only those).
    #: ``send:<type>`` and ``recv:<type>`` ask for the sends or deliveries of
    #: one message type only (``send:vote_resp``), which keeps checkers that
    #: care about a few messages off the hot path.
    actions: frozenset[str]

    def feed(self, event: Event, model: ClusterModel) -> None:
        """See one event, after the shared model has taken it into account."""

    def finish(self) -> list[Violation]:
        """Violations found, in the order they happened."""
        ...


class StepChecker(TraceChecker, Protocol):
    """A checker that also wants to see each node step once it is over (the
    model then holds the node's log after every effect of the step, and
    ``model.state`` the ``st`` the step reported): the runner calls
    ``end_step`` for every checker that has it."""

    def end_step(self, event: Event, model: ClusterModel) -> None:
        """See the input event of a finished step."""


@dataclass(slots=True, frozen=True)
class CheckerInfo:
    name: str
    invariant: str
    summary: str
    factory: Callable[[Event], TraceChecker]
    """Makes a fresh checker for a trace, given the trace's header."""


@dataclass(slots=True)
class Findings:
    """A helper for checkers: collects violations, at most ``limit`` per
    checker so that one root cause does not drown the report."""

    checker: str
    invariant: str
    limit: int = 20
    violations: list[Violation] = field(default_factory=list)
    suppressed: int = 0
    kind: str = SAFETY

    def add(self, witnesses: tuple[int, ...], message: str, states: tuple[str, ...] = ()) -> None:
        if len(self.violations) >= self.limit:
            self.suppressed += 1
            return
        self.violations.append(
            Violation(self.invariant, self.checker, witnesses, message, states, self.kind)
        )


class InvariantChecker:
    """Plumbing shared by the built-in checkers: a ``Findings`` to report
    into and the ``finish`` that returns it. Subclasses set ``name``,
    ``invariant`` and ``actions`` and write ``feed``."""

    name: str = ""
    invariant: str = ""
    actions: frozenset[str] = frozenset()
    kind: str = SAFETY

    def __init__(self, header: Event | None = None) -> None:
        self.found = Findings(self.name, self.invariant, kind=self.kind)

    def feed(self, event: Event, model: ClusterModel) -> None:
        raise NotImplementedError

    def finish(self) -> list[Violation]:
        return self.found.violations


class NeedsDurability(InvariantChecker):
    """For checkers of durability: findings that count only if the trace
    shows durability at all (a ``persist`` somewhere, possibly after the
    finding, as ``ClusterModel.durability_traced`` tells at the end). A
    hand-made trace may leave writes out entirely; it would otherwise be
    called wrong at every message."""

    def __init__(self, header: Event | None = None) -> None:
        super().__init__(header)
        self.held: list[tuple[tuple[int, ...], str, tuple[str, ...]]] = []
        self.model: ClusterModel | None = None

    def hold(
        self, model: ClusterModel, witnesses: tuple[int, ...], message: str, states: tuple[str, ...]
    ) -> None:
        self.model = model
        self.held.append((witnesses, message, states))

    def finish(self) -> list[Violation]:
        if self.model is not None and self.model.durability_traced:
            for witnesses, message, states in self.held:
                self.found.add(witnesses, message, states)
        self.held = []
        return self.found.violations
