"""Shrinking: the smallest schedule found that still fails the same property.

Greedy and deterministic. Each round proposes smaller candidates in a fixed
order -- cut the run short after the violation, delete fault events and
membership steps (halves, then quarters, ... then one at a time, in the
manner of delta debugging), move what is left earlier, fewer nodes, fewer
clients, a lower rate, fewer keys, a cleaner network, a shorter run -- and
moves to the first candidate that still fails the *same* property; a round
in which none does ends the shrink. A candidate is never larger than the
schedule it came from in any part of ``Schedule.size``, so the result is no
larger than the input.

Deleting one event leaves the others where they were (schedules list their
faults), but the seed still drives the network and the clients, so a
smaller run is a different run: that is why each candidate is run again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from sim.hunt.judge import Judgement
from sim.schedule import FaultEvent, Schedule, ScheduleError

Judge = Callable[[Schedule], Judgement]
Progress = Callable[[Schedule], None]


@dataclass(slots=True)
class Shrunk:
    schedule: Schedule
    judgement: Judgement
    runs: int
    """Candidates run."""
    accepted: int
    """Candidates that still failed the property (the steps taken)."""
    complete: bool
    """False when the budget ended the shrink before a round found nothing."""


def shrink(
    found: Judgement,
    prop: str,
    judge: Judge,
    budget_s: float = 60.0,
    max_runs: int = 400,
    progress: Progress | None = None,
) -> Shrunk:
    """Shrink ``found`` (which fails ``prop``) within the budget."""
    deadline = time.monotonic() + budget_s
    best, runs, accepted = found, 0, 0
    while True:
        improved = False
        for candidate in candidates(best):
            if runs >= max_runs or time.monotonic() >= deadline:
                return Shrunk(best.schedule, best, runs, accepted, complete=False)
            try:
                candidate.validate()
            except ScheduleError:
                continue  # e.g. a membership step naming a node no longer added
            runs += 1
            verdict = judge(candidate)
            if verdict.fails(prop):
                best, accepted, improved = verdict, accepted + 1, True
                if progress is not None:
                    progress(best.schedule)
                break
        if not improved:
            return Shrunk(best.schedule, best, runs, accepted, complete=True)


def candidates(found: Judgement) -> Iterator[Schedule]:
    """Smaller variants of ``found.schedule``, the biggest cuts first."""
    s = found.schedule
    violation_us = found.first_violation_us()
    if violation_us is not None:
        cut = round(violation_us / 1_000_000 + 0.2, 3)
        if cut < s.duration_s:
            yield replace(s, duration_s=cut, events=_before(s.events, cut))
    yield from _fewer(s, "events")
    yield from _fewer(s, "membership")
    earlier = _earlier(s)
    if earlier is not None:
        yield earlier
    for nodes in range(1, s.nodes):
        yield replace(s, nodes=nodes, events=tuple(_on_nodes(s.events, nodes)))
    w = s.workload
    if w.clients > 1:
        yield replace(s, workload=replace(w, clients=1))
        yield replace(s, workload=replace(w, clients=w.clients - 1))
    if w.rate > 5:
        yield replace(s, workload=replace(w, rate=round(w.rate / 2, 1)))
    if w.keys > 1:
        yield replace(s, workload=replace(w, keys=1))
    if len(w.mix) > 1:
        for op, _ in w.mix:
            yield replace(s, workload=replace(w, mix=tuple(m for m in w.mix if m[0] != op)))
    f = s.faults
    for name in ("loss", "duplicate", "reorder", "disk_stall", "clock_drift"):
        if getattr(f, name):
            cleaner: dict[str, Any] = {name: 0.0}
            yield replace(s, faults=replace(f, **cleaner))
    for share in (0.5, 0.75, 0.9):
        shorter = round(s.duration_s * share, 3)
        if shorter >= 0.5:
            yield replace(s, duration_s=shorter, events=_before(s.events, shorter))


def _fewer(s: Schedule, part: str) -> Iterator[Schedule]:
    """``s`` without a chunk of its ``part`` (events or membership steps)."""
    items: tuple[object, ...] = getattr(s, part)
    size = max(1, len(items) // 2) if items else 0
    while size >= 1:
        for start in range(0, len(items), size):
            kept: dict[str, Any] = {part: items[:start] + items[start + size :]}
            yield replace(s, **kept)
        size //= 2


def _earlier(s: Schedule) -> Schedule | None:
    """``s`` with every fault and membership step moved earlier, so that the
    first comes 0.5 s into the run (after the first election), and the run
    shortened by as much: the quiet stretch before them goes."""
    times = [e.at for e in s.events] + [float(step["at"]) for step in s.membership]
    if not times or min(times) <= 0.6:
        return None
    shift = round(min(times) - 0.5, 3)
    return replace(
        s,
        duration_s=round(s.duration_s - shift, 3),
        events=tuple(replace(e, at=round(e.at - shift, 3)) for e in s.events),
        membership=tuple({**step, "at": round(step["at"] - shift, 3)} for step in s.membership),
    )


def _before(events: tuple[FaultEvent, ...], end_s: float) -> tuple[FaultEvent, ...]:
    return tuple(e for e in events if e.at < end_s)


def _on_nodes(events: tuple[FaultEvent, ...], nodes: int) -> Iterator[FaultEvent]:
    """The events that still name a node of a cluster of ``nodes``."""
    for event in events:
        if not isinstance(event.node, int) or event.node <= nodes:
            yield event
