"""Shrinking: the smallest schedule found that still fails the same property.

Greedy and deterministic, in passes (``passes``), each a family of smaller
candidates; a candidate that still fails the *same* property replaces the
schedule at once and the pass goes on from there, and the passes repeat
until a round of all of them takes nothing, or the budget ends. A candidate
is never larger than the schedule it came from in any part of
``Schedule.size``, so the result is no larger than the input.

The first pass of every round ends the run at the violation: the duration
shrinks to just past the last witness event (for a non-linearizable
history, to the earliest client completion whose prefix is already not
linearizable), so the trace ends where the property failed. The run up to
there is the same run, event for event: the simulation is deterministic and
nothing in it looks at its end. Before it, the random workload becomes the
list of operations the run invoked (sim/operations.py), or the clients go
altogether. Then: delete fault events and membership steps (halves,
quarters, ... single ones, as in delta debugging); a quieter network (no
loss, duplication, reordering, stalls, drift; fixed latencies, so that
deleting a message no longer moves the others); the idle stretches between
the faults, steps and operations closed up; fewer nodes; rarer heartbeats;
shorter faults (partitions, pauses, downtimes); delete client operations
(as events and steps); fewer clients; a smaller random workload; a shorter
run.

Deleting one item leaves the others where they were (schedules list their
faults and, once listed, their operations), but the seed still drives the
network, so a smaller run can be a different run: that is why each
candidate is run again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from sim.cluster import SimConfig
from sim.hunt.judge import LINEARIZABILITY, Judgement
from sim.operations import operations_from_trace
from sim.schedule import Schedule, ScheduleError

Judge = Callable[[Schedule], Judgement]
Progress = Callable[[Schedule], None]

#: Idle stretches shorter than this are left alone; longer ones are closed
#: up to this (an election takes up to two election timeouts, 300 ms).
IDLE_S = 0.3
#: How often the membership actor takes its turn, in seconds.
ACTOR_TURN_S = SimConfig().actor_every_ms / 1000
#: Heartbeat intervals the shrinker tries, in ticks, rarest first.
RARER_HEARTBEATS = (14, 12, 9, 7)
#: The shortest fault the shrinker proposes.
MIN_FAULT_S = 0.02


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


class _Spent(Exception):
    """The shrink's budget (time or runs) is used up."""


@dataclass(slots=True)
class _Search:
    best: Judgement
    prop: str
    judge: Judge
    deadline: float
    max_runs: int
    progress: Progress | None
    runs: int = 0
    accepted: int = 0
    tried: set[bytes] = field(default_factory=set)
    """Candidates already run (that did not fail the property)."""
    overtime: bool = False
    """Run candidates past the budget (the last cut at the violation)."""

    @property
    def schedule(self) -> Schedule:
        return self.best.schedule

    def attempt(self, candidate: Schedule) -> bool:
        """Run ``candidate``; take it if it fails the property."""
        if candidate == self.schedule or not _no_larger(candidate, self.schedule):
            return False
        key = candidate.dumps()
        if key in self.tried:
            return False
        try:
            candidate.validate()
        except ScheduleError:
            return False  # e.g. a membership step naming a node no longer added
        spent = self.runs >= self.max_runs or time.monotonic() >= self.deadline
        if spent and not self.overtime:
            raise _Spent
        self.runs += 1
        verdict = self.judge(candidate)
        if not verdict.fails(self.prop):
            self.tried.add(key)
            return False
        self.best, self.accepted = verdict, self.accepted + 1
        if self.progress is not None:
            self.progress(candidate)
        return True

    def first_taken(self, candidates: Iterator[Schedule]) -> bool:
        return any(self.attempt(c) for c in candidates)


def shrink(
    found: Judgement,
    prop: str,
    judge: Judge,
    budget_s: float = 60.0,
    max_runs: int = 400,
    progress: Progress | None = None,
) -> Shrunk:
    """Shrink ``found`` (which fails ``prop``) within the budget."""
    search = _Search(found, prop, judge, time.monotonic() + budget_s, max_runs, progress)
    try:
        while True:
            before = search.accepted
            for step in passes(prop):
                step(search)
            if search.accepted == before:
                return Shrunk(search.schedule, search.best, search.runs, before, True)
    except _Spent:
        # The last schedule taken may fail earlier than it ends: cut it there
        # too (one run, or a bisection's few), whatever the budget.
        search.overtime = True
        _cut_at_violation(search)
        return Shrunk(search.schedule, search.best, search.runs, search.accepted, False)


# --------------------------------------------------------- cutting the run


def cut_at(s: Schedule, t_us: int) -> Schedule:
    """``s`` ending just past ``t_us``: what happens after it goes."""
    duration = round((t_us + 1) / 1_000_000, 6)  # int(duration * 1e6) >= t_us
    operations = s.operations
    if operations is not None:
        operations = tuple(op for op in operations if op.at_us() <= t_us)
    return replace(
        s,
        duration_s=duration,
        events=tuple(e for e in s.events if e.at <= duration),
        membership=tuple(m for m in s.membership if float(m["at"]) <= duration),
        operations=operations,
    )


def _end_us(s: Schedule) -> int:
    return int(s.duration_s * 1_000_000)


def _cut_at_violation(search: _Search) -> None:
    """End the run where the property failed: just past its last witness
    event; for a non-linearizable history, at the earliest client completion
    whose prefix already is not linearizable (an extension of such a prefix
    cannot become linearizable, so a bisection finds it); for a simulation
    that raised, at its last event."""
    best = search.best
    if search.prop == LINEARIZABILITY:
        _bisect_completions(search)
        return
    times = [
        int(best.events[seq - 1]["t"])
        for v in best.violations
        if v.invariant == search.prop
        for seq in v.witnesses
        if 0 < seq <= len(best.events)
    ]
    if not times and best.stats is None and best.events:
        times = [int(best.events[-1]["t"])]
    if times and max(times) < _end_us(search.schedule):
        search.attempt(cut_at(search.schedule, max(times)))


def _bisect_completions(search: _Search) -> None:
    end = _end_us(search.schedule)
    times = sorted(
        {
            int(e["t"])
            for e in search.best.events
            if e["act"] == "complete" and e["n"] == "client" and e["t"] < end
        }
    )
    low, high = 0, len(times)  # the earliest failing cut is in times[low:high], or none
    while low < high:
        middle = (low + high) // 2
        if search.attempt(cut_at(search.schedule, times[middle])):
            high = middle  # the shorter run is a prefix: the times below stay valid
        else:
            low = middle + 1


# ---------------------------------------------------------------- deleting


def _delete(part: str) -> Callable[[_Search], None]:
    """Delete chunks of ``part`` (a tuple field of the schedule): halves,
    then quarters, ... then single items; after a deletion is taken, the
    same position is tried again with what follows it."""

    def step(search: _Search) -> None:
        items = getattr(search.schedule, part) or ()
        size = len(items) // 2 or len(items)
        while size >= 1:
            start = 0
            while start < len(getattr(search.schedule, part) or ()):
                items = getattr(search.schedule, part)
                kept: dict[str, Any] = {part: items[:start] + items[start + size :]}
                if not search.attempt(replace(search.schedule, **kept)):
                    start += size
            size //= 2

    step.__name__ = f"delete_{part}"
    return step


def _list_operations(search: _Search) -> None:
    """No clients at all; else the random workload replaced by the list of
    operations the run invoked (the same run, step for step), at most as
    many as the workload's estimate counts, so that no part grows."""
    s = search.schedule
    if s.operations is not None or not s.workload.clients:
        return
    if search.attempt(replace(s, workload=replace(s.workload, clients=0))):
        return
    listed = operations_from_trace(search.best.events)[: s.client_ops()]
    search.attempt(replace(s, operations=listed))


def _fewer_clients(search: _Search) -> None:
    """Listed operations: the clients that have operations left, numbered
    1..k; then everything done by one client."""
    s = search.schedule
    if s.operations is None:
        return
    used = sorted({op.client for op in s.operations})
    number = {client: n for n, client in enumerate(used, 1)}
    compact = tuple(replace(op, client=number[op.client]) for op in s.operations)
    search.attempt(replace(s, workload=replace(s.workload, clients=len(used)), operations=compact))
    s = search.schedule
    if s.workload.clients > 1 and s.operations is not None:
        alone = tuple(replace(op, client=1) for op in s.operations)
        search.attempt(replace(s, workload=replace(s.workload, clients=1), operations=alone))


# ----------------------------------------------------------- the run itself


def _quieter_network(search: _Search) -> None:
    for name in (
        "loss",
        "duplicate",
        "reorder",
        "disk_stall",
        "clock_drift",
        "latency_sigma",
        "disk_sigma",
    ):
        f = search.schedule.faults
        if getattr(f, name):
            cleaner: dict[str, Any] = {name: 0.0}
            search.attempt(replace(search.schedule, faults=replace(f, **cleaner)))


def _moments(s: Schedule) -> list[float]:
    """When something the schedule lists happens, in seconds."""
    times = [e.at for e in s.events] + [float(m["at"]) for m in s.membership]
    times += [op.at for op in s.operations or ()]
    return sorted(set(times))


def shift_after(s: Schedule, after: float, by: float) -> Schedule:
    """``s`` with everything listed at or after ``after`` moved ``by``
    seconds earlier, and the run shorter by as much."""

    def moved(at: float) -> float:
        return round(at - by, 6) if at >= after else at

    operations = s.operations
    if operations is not None:
        operations = tuple(replace(op, at=moved(op.at)) for op in operations)
    return replace(
        s,
        duration_s=round(s.duration_s - by, 6),
        events=tuple(replace(e, at=moved(e.at)) for e in s.events),
        membership=tuple({**m, "at": moved(float(m["at"]))} for m in s.membership),
        operations=operations,
    )


def _close_idle_stretches(search: _Search) -> None:
    """Shorten every stretch longer than ``IDLE_S`` in which nothing listed
    happens to about ``IDLE_S`` (the one before the first listed moment to
    0.5 s, after the first election), the longest first. Membership steps
    run at the actor's turns, so a shift that moves one is by whole turns."""
    while True:
        s = search.schedule
        moments = [0.0, *_moments(s)]
        last_step = max((float(m["at"]) for m in s.membership), default=-1.0)
        gaps = []
        for number in range(1, len(moments)):
            later = moments[number]
            gap = later - moments[number - 1]
            by = gap - (0.5 if number == 1 else IDLE_S)
            if later <= last_step:
                by = round(by / ACTOR_TURN_S) * ACTOR_TURN_S
            if 0.001 < by < gap:
                gaps.append((round(by, 6), later))
        shifted = (shift_after(s, later, by) for by, later in sorted(gaps, reverse=True))
        if not search.first_taken(shifted):
            return


def _rarer_heartbeats(search: _Search) -> None:
    """Heartbeats every 140, 120, 90 or 70 ms instead of 50 (elections still
    time out after 150-300 ms): fewer messages that carry nothing."""
    for ticks in RARER_HEARTBEATS:
        if ticks > search.schedule.heartbeat_ticks and search.attempt(
            replace(search.schedule, heartbeat_ticks=ticks)
        ):
            return


def _fewer_nodes(search: _Search) -> None:
    s = search.schedule
    for nodes in range(1, s.nodes):
        events = tuple(e for e in s.events if not isinstance(e.node, int) or e.node <= nodes)
        if search.attempt(replace(s, nodes=nodes, events=events)):
            return


def _smaller_workload(search: _Search) -> None:
    """The random workload: fewer clients, a lower rate, one key, an
    operation fewer in the mix."""
    s = search.schedule
    w = s.workload
    if s.operations is not None or not w.clients:
        return
    candidates = []
    if w.clients > 1:
        candidates += [replace(w, clients=1), replace(w, clients=w.clients - 1)]
    if w.rate > 5:
        candidates.append(replace(w, rate=round(w.rate / 2, 1)))
    if w.keys > 1:
        candidates.append(replace(w, keys=1))
    if len(w.mix) > 1:
        candidates += [replace(w, mix=tuple(m for m in w.mix if m[0] != op)) for op, _ in w.mix]
    for workload in candidates:
        search.attempt(replace(search.schedule, workload=workload))


def _shorter_faults(search: _Search) -> None:
    """Each partition, pause and downtime halved, as long as that is taken."""
    number = 0
    while number < len(search.schedule.events):
        s = search.schedule
        event = s.events[number]
        shorter = round(event.for_s / 2, 3)
        if shorter >= MIN_FAULT_S:
            events = (*s.events[:number], replace(event, for_s=shorter), *s.events[number + 1 :])
            if search.attempt(replace(s, events=events)):
                continue
        number += 1


def _shorter_run(search: _Search) -> None:
    for share in (0.5, 0.75, 0.9):
        s = search.schedule
        shorter = round(s.duration_s * share, 3)
        if shorter >= 0.5 and search.attempt(cut_at(s, int(shorter * 1_000_000))):
            return


Pass = Callable[[_Search], None]
#: The passes that take few runs and often succeed.
_CHEAP: tuple[Pass, ...] = (
    _close_idle_stretches,
    _fewer_nodes,
    _rarer_heartbeats,
    _shorter_faults,
    _cut_at_violation,
)
_OPERATIONS: tuple[Pass, ...] = (_delete("operations"), _fewer_clients)
_FIRST: tuple[Pass, ...] = (
    _list_operations,
    _cut_at_violation,
    _delete("events"),
    _delete("membership"),
    _quieter_network,
    _cut_at_violation,
)
_LAST: tuple[Pass, ...] = (_smaller_workload, _shorter_run)


def passes(prop: str) -> tuple[Pass, ...]:
    """The passes of a round, in order. Deleting operations takes the most
    runs (most candidates fail where operations build the state a bug
    needs), so for an invariant it comes after the cheap passes, and a spent
    budget has had them; a non-linearizable history is made of operations,
    so there it comes first."""
    if prop == LINEARIZABILITY:
        return (*_FIRST, *_OPERATIONS, *_CHEAP, *_LAST)
    return (*_FIRST, *_CHEAP, *_OPERATIONS, *_LAST)


def _no_larger(small: Schedule, big: Schedule) -> bool:
    return all(a <= b for a, b in zip(small.size(), big.size(), strict=True))
