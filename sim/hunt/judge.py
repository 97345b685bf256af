"""Run one schedule and judge it: every trace checker, then linearizability.

The verdict names the *property* that failed (a checker's invariant, or
``linearizability`` for the client history), because the shrinker keeps a
smaller schedule only if it still fails that same property: a shrink that
swaps one bug for another would explain neither. The run is recorded in
memory; the hunt writes a trace file only for the counterexample it reports.
Liveness warnings are not failures here, as in ``raftlab check``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from checkers import collect_client_events, default_registry, run_checkers
from checkers.base import Violation
from sim.cluster import SimStats
from sim.schedule import Schedule, run_schedule
from traces.recorder import MemoryRecorder

#: The property of a run whose simulation itself raised (a core assertion,
#: a simulator defect): a failure too, named by the exception's type.
CRASH_PREFIX = "simulation raised "
LINEARIZABILITY = "linearizability"


@dataclass(slots=True)
class Judgement:
    """What one run showed. ``failed`` lists every property that failed,
    earliest witness first; ``first`` is the one the hunt reports."""

    schedule: Schedule
    header: dict[str, Any]
    events: list[dict[str, Any]]
    stats: SimStats | None
    failed: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    lin_explanation: str = ""
    crash: str = ""
    undecided: bool = False

    @property
    def first(self) -> str:
        return self.failed[0] if self.failed else ""

    def fails(self, prop: str) -> bool:
        return prop in self.failed

    @property
    def sim_seconds(self) -> float:
        return self.stats.sim_seconds if self.stats is not None else 0.0

    def first_violation_us(self) -> int | None:
        """Virtual time of the earliest witness of the first property."""
        seqs = [min(v.witnesses) for v in self.violations if v.witnesses]
        if not seqs:
            return None
        index = min(seqs) - 1
        return int(self.events[index]["t"]) if 0 <= index < len(self.events) else None


def judge(schedule: Schedule, lin_timeout: float = 10.0) -> Judgement:
    recorder = MemoryRecorder(schedule.header())
    try:
        stats: SimStats | None = run_schedule(schedule, recorder)
    except Exception as error:  # a raising run is a finding, not a crash of the hunt
        name = f"{CRASH_PREFIX}{type(error).__name__}"
        return Judgement(
            schedule, recorder.header, recorder.events, None, [name], crash=str(error)[:500]
        )
    result = Judgement(schedule, recorder.header, recorder.events, stats)
    history: list[dict[str, Any]] = []
    checkers = default_registry().create(recorder.header, None)
    report = run_checkers(collect_client_events(recorder.events, history), checkers)
    ordered = sorted(report.violations, key=lambda v: min(v.witnesses, default=1 << 62))
    result.violations = ordered
    for violation in ordered:
        if violation.invariant not in result.failed:
            result.failed.append(violation.invariant)
    if history:
        _check_history(result, history, lin_timeout)
    return result


def _check_history(result: Judgement, history: list[dict[str, Any]], timeout: float) -> None:
    from checkers.linearizability import check, history_from_records

    lin = check(history_from_records(history), model="kv", timeout=timeout, workers=1)
    verdict = str(lin.verdict)
    if verdict == "not-linearizable":
        result.failed.append(LINEARIZABILITY)
        result.lin_explanation = lin.explain()
    elif verdict != "linearizable":
        result.undecided = True
