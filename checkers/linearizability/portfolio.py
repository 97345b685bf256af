"""Running the searches: partitions in parallel processes, and a race per partition.

Why processes: the searches are pure Python and CPU-bound, so threads would
share one core.  Partitions are independent (P-compositionality), so they
go to separate worker processes (run by :mod:`.workers`), largest first.  Within one process
the two searches take turns with growing budgets (:func:`solve`).  When a worker falls idle
and a large partition is still being searched by the configuration-set
search, the idle worker starts the depth-first search on the same
partition; whichever answers first wins and the other is stopped.  A search
that gives up (too many configurations) hands over to the other algorithm.

Small inputs are checked inline: forking costs milliseconds, and most
histories from a single simulation run are small.

The time budget is one deadline on the monotonic clock, shared by every
process; past it, unanswered partitions are ``unknown``.
"""

from __future__ import annotations

import os
import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import replace

from checkers.linearizability.jit import DEFAULT_MAX_CONFIGS, search_jit
from checkers.linearizability.limits import HardTimeout, timed_out, wall_limit
from checkers.linearizability.model import ANY, Model
from checkers.linearizability.normalize import Partition
from checkers.linearizability.result import (
    ILLEGAL,
    LINEARIZABLE,
    SKIPPED,
    SKIPPED_REASON,
    UNKNOWN,
    PartitionResult,
)
from checkers.linearizability.wgl import DEFAULT_MAX_CACHE, search_wgl, zobrist

TYPE_CHECKING = False  # no ``typing`` at run time: start-up (see history.py)
if TYPE_CHECKING:
    from typing import Final

#: Below this many operations in total, everything runs in this process.
INLINE_LIMIT: Final = 4000
#: Partitions at least this big get their own task (and may be raced).
BIG: Final = 2000

#: The configuration-set search's first budget, and how fast budgets grow.
FIRST_JIT_CONFIGS: Final = 5_000
GROWTH: Final = 8
#: Worker processes are used by default only with this many cores.
PROCESS_MIN_CORES: Final = 4
#: Racing the two searches on one partition needs this many workers (see ``race``).
RACE_MIN_WORKERS: Final = 4
#: The quick depth-first attempt may cache this many configurations per operation.
QUICK_CACHE_PER_OP: Final = 1.5

Progress = Callable[[int, int, str, str], None]
Search = Callable[[Partition, Model, float | None], PartitionResult]

_SEARCHES: dict[str, Search] = {
    "jit": lambda p, m, d: search_jit(p, m, d),
    "wgl": lambda p, m, d: search_wgl(p, m, d),
}


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def rungs(part: Partition) -> int:
    """How many budget rungs a partition's ladder has (the last uses the full budgets)."""
    wgl_cap = int(QUICK_CACHE_PER_OP * len(part)) + 1000
    jit_cap = FIRST_JIT_CONFIGS
    k = 1
    while wgl_cap < DEFAULT_MAX_CACHE or jit_cap < DEFAULT_MAX_CONFIGS:
        wgl_cap *= GROWTH
        jit_cap *= GROWTH
        k += 1
    return k


def solve_rung(
    part: Partition,
    model: Model,
    deadline: float | None,
    rung: int,
    suspect: bool = False,
    zob: list[int] | None = None,
) -> PartitionResult | None:
    """One rung of the ladder: both searches with the budgets of ``rung``.

    ``None`` when neither answered within those budgets and a higher rung
    exists; on the last rung an undecided search's ``unknown`` is returned.
    The depth-first search goes first with a cache of 1.5 configurations
    per operation on rung 0 (easy histories end there), then the
    configuration-set search with 5,000 configurations; each rung multiplies
    both by eight.  When the depth-first search finds a violation first, the
    configuration-set search is still asked for it (with the same budget),
    because its explanation is canonical.  So on a ``suspect`` partition
    (one that looks not linearizable, see :func:`suspicious`) the
    configuration-set search goes first: on the 50-client appends history
    the depth-first attempt cost 2 ms of a 10 ms check before it gave up.
    ``zob`` are the depth-first search's Zobrist numbers, when the caller
    drew them for every partition (:func:`.wgl.zobrist`).
    """
    if not part.ops:
        return PartitionResult(
            key=part.key,
            verdict=LINEARIZABLE,
            algorithm="trivial",
            elapsed=0.0,
            searched=0,
            order=(),
        )
    scale = GROWTH**rung
    wgl_cap = min((int(QUICK_CACHE_PER_OP * len(part)) + 1000) * scale, DEFAULT_MAX_CACHE)
    jit_cap = min(FIRST_JIT_CONFIGS * scale, DEFAULT_MAX_CONFIGS)
    if suspect:
        sets = search_jit(part, model, deadline, max_configs=jit_cap)
        if sets.verdict != UNKNOWN or _late(deadline):
            return sets
        dfs = search_wgl(part, model, deadline, max_cache=wgl_cap, zob=zob)
        if dfs.verdict != UNKNOWN:
            return dfs
    else:
        dfs = search_wgl(part, model, deadline, max_cache=wgl_cap, zob=zob)
        if dfs.verdict == LINEARIZABLE or _late(deadline):
            return dfs
        sets = search_jit(part, model, deadline, max_configs=jit_cap)
        if sets.verdict != UNKNOWN:
            return sets
        if dfs.verdict != UNKNOWN:
            return dfs
    if _late(deadline) or rung + 1 >= rungs(part):
        return sets
    return None


def solve(
    part: Partition, model: Model, deadline: float | None, first: str = "jit"
) -> PartitionResult:
    """One partition in this process: climb its whole ladder (:func:`solve_rung`).

    A race without a second core: whichever search suits the history
    finishes at most about twice as late as it would alone.
    ``first="wgl"`` runs the depth-first search with its full budget first.
    """
    if first == "wgl" and part.ops:
        dfs = search_wgl(part, model, deadline)
        if dfs.verdict != UNKNOWN or _late(deadline):
            return dfs
        alt = search_jit(part, model, deadline)
        return alt if alt.verdict != UNKNOWN else dfs
    zob = zobrist(len(part))  # drawn once, for every rung
    rung = 0
    while True:
        res = solve_rung(part, model, deadline, rung, zob=zob)
        if res is not None:
            return res
        rung += 1


#: Why a partition is unknown when its search ran out of memory.
OUT_OF_MEMORY: Final = "out of memory (the memory limit was reached)"
#: What the searches say when they notice the deadline themselves.
DEADLINE_REASON: Final = "time budget exhausted"


def undecided(part: Partition, reason: str, algorithm: str = "none") -> PartitionResult:
    """An ``unknown`` result for a partition that got no answer."""
    return PartitionResult(
        key=part.key,
        verdict=UNKNOWN,
        algorithm=algorithm,
        elapsed=0.0,
        searched=len(part),
        reason=reason,
    )


def skipped(part: Partition) -> PartitionResult:
    """The result of a partition left unsearched once another was found not linearizable."""
    return PartitionResult(
        key=part.key,
        verdict=UNKNOWN,
        algorithm=SKIPPED,
        elapsed=0.0,
        searched=0,
        reason=SKIPPED_REASON,
    )


#: Partitions up to this size are looked at by :func:`suspicious` (it costs a
#: sort; a 10k-operation key is decided quickly anyway, or takes long whatever
#: comes first).
SUSPECT_LIMIT: Final = 2000


def suspicious(part: Partition, model: Model) -> bool:
    """A cheap sign that ``part`` is not linearizable, to search it first.

    Two completed reads, the first returning before the second is invoked,
    where the second's value cannot grow from the first's (``may_reach``)
    and no operation that resets the value (one with a ``result_state``: a
    put, delete or swap) could take effect between them: the stale read
    of a key that clients append to.  Only an order: a suspicious key is
    still searched and a wrong guess costs nothing but the order, so the
    verdict never depends on it.
    """
    reads: list[tuple[int, int, object]] = []  # (call, return, value needed)
    resets: list[tuple[int, float]] = []  # (call, return or infinity)
    for op, ret in zip(part.ops, part.ret, strict=True):
        if model.readonly(op):
            if ret is not None:
                reads.append((op.call, ret, model.required_state(op)))
        elif model.result_state(op) is not ANY:
            resets.append((op.call, float("inf") if ret is None else ret))
    if len(reads) < 2:
        return False
    resets.sort()
    reset_calls = [c for c, _ in resets]
    # reach[j]: the latest return among the first j resets by invocation.
    reach = [float("-inf")]
    for _c, r in resets:
        reach.append(max(reach[-1], r))
    by_ret = sorted(reads, key=lambda x: x[1])
    latest: tuple[int, int, object] | None = None  # the read that returned last so far
    k = 0
    # By times only: two reads with the same times may need values that do
    # not compare (None and a string), and their order does not matter here.
    for call, ret, value in sorted(reads, key=_times):
        while k < len(by_ret) and by_ret[k][1] < call:
            latest = by_ret[k]
            k += 1
        if latest is None or model.may_reach(latest[2], value):
            continue
        # A reset invoked before this read returns, returning after the
        # earlier read was invoked, could come between them.
        if reach[bisect_left(reset_calls, ret)] <= latest[0]:
            return True
    return False


def suspects(parts: Sequence[Partition], model: Model | None) -> list[bool]:
    """Which partitions look not linearizable (:func:`suspicious`, up to :data:`SUSPECT_LIMIT`)."""
    return [
        model is not None and len(parts) > 1 and len(p) <= SUSPECT_LIMIT and suspicious(p, model)
        for p in parts
    ]


def _times(read: tuple[int, int, object]) -> tuple[int, int]:
    return read[0], read[1]


def schedule(
    parts: Sequence[Partition], model: Model | None = None, flags: Sequence[bool] | None = None
) -> list[int]:
    """The order partitions are first tried in: suspicious first, then by size, then key.

    Every partition gets its cheap rung before any gets an expensive one, so
    a violation on a small key is found before big linearizable keys have
    used their budgets; a key that looks wrong (:func:`suspects`) goes first.
    ``flags`` are :func:`suspects` when the caller has them already.
    """
    if flags is None:
        flags = suspects(parts, model)
    return sorted(range(len(parts)), key=lambda i: (not flags[i], len(parts[i]), parts[i].key))


def _interleaved(
    parts: Sequence[Partition],
    model: Model,
    deadline: float | None,
    progress: Progress | None,
    every: bool,
    results: dict[int, PartitionResult],
) -> None:
    """All partitions in this process, rung by rung (see :func:`schedule`), into ``results``."""
    flags = suspects(parts, model)
    waiting = schedule(parts, model, flags)
    zob = zobrist(max((len(p) for p in parts), default=0))  # drawn once, for every search
    rung = 0

    def record(i: int, res: PartitionResult) -> None:
        results[i] = res
        if progress is not None:
            progress(len(results), len(parts), parts[i].key, res.verdict)

    stop = False
    while waiting and not stop:
        left: list[int] = []
        for i in waiting:
            if stop:
                left.append(i)
                continue
            try:
                res = solve_rung(parts[i], model, deadline, rung, flags[i], zob)
            except MemoryError:
                res = undecided(parts[i], OUT_OF_MEMORY)
            if res is None:
                left.append(i)
                continue
            record(i, res)
            stop = res.verdict == ILLEGAL and not every
        waiting = left
        rung += 1
    for i in waiting:
        record(i, skipped(parts[i]))


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def check_partitions(
    parts: Sequence[Partition],
    model: Model,
    timeout: float | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    race: bool | None = None,
    every: bool = False,
) -> list[PartitionResult]:
    """Decide the partitions; results are in the order of ``parts``.

    Partitions climb their budget ladders together, cheapest first
    (:func:`schedule`).  The first partition found not linearizable ends the
    check, as in Porcupine: the others are :func:`skipped`, unless
    ``every`` asks for a verdict on each (a complete report).

    ``race``: let an idle worker run the depth-first search alone on a
    partition that is still climbing its ladder.  By default only with 4 or
    more workers: on the 2-vCPU machines this project runs on, two CPU-bound
    processes get about 1.1 times the throughput of one (measured by
    ``bench/lincheck.py``), so a racer mostly slows the search it races.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    if workers is None:
        # By default, processes only with 4 or more cores: on 2 cores two
        # processes get ~1.1x the throughput of one, and the 100k-operation,
        # 10-key history checked in 0.70 s in one process against 1.7 s with
        # two (bench/lincheck.py, measured back to back).  Asking for
        # workers explicitly still gets them.
        workers = default_workers()
        if workers < PROCESS_MIN_CORES:
            workers = 1
    workers = max(1, workers)
    total = sum(len(p) for p in parts)
    if race is None:
        race = workers >= RACE_MIN_WORKERS
    bigs = sum(1 for p in parts if len(p) >= BIG)
    # Processes pay off only when at least two big searches can overlap (or
    # for a race); many small partitions are quicker in this process.
    results: dict[int, PartitionResult] = {}
    try:
        with wall_limit(deadline):
            if workers == 1 or total < INLINE_LIMIT or (bigs < 2 and not race):
                _interleaved(parts, model, deadline, progress, every, results)
            else:
                # Worker processes: their machinery loads only when used.
                from checkers.linearizability.workers import Scheduler

                Scheduler(parts, model, deadline, workers, progress, race, every, results).run()
    except HardTimeout:
        pass  # whatever was decided stands; the rest is unknown
    late = DEADLINE_REASON if timeout is None else timed_out(timeout)
    out: list[PartitionResult] = []
    for i, p in enumerate(parts):
        res = results.get(i)
        if res is None:
            res = undecided(p, late)
        elif res.verdict == UNKNOWN and res.reason == DEADLINE_REASON:
            res = replace(res, reason=late)
        out.append(res)
    return out
