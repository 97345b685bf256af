"""Running the searches: partitions in parallel processes, and a race per partition.

Why processes: the searches are pure Python and CPU-bound, so threads would
share one core.  Partitions are independent (P-compositionality), so they
go to separate worker processes, largest first.  Within one process
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

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Final

from checkers.linearizability.jit import DEFAULT_MAX_CONFIGS, search_jit
from checkers.linearizability.model import Model
from checkers.linearizability.normalize import Partition
from checkers.linearizability.result import LINEARIZABLE, UNKNOWN, PartitionResult
from checkers.linearizability.wgl import DEFAULT_MAX_CACHE, search_wgl

#: Below this many operations in total, everything runs in this process.
INLINE_LIMIT: Final = 4000
#: Partitions at least this big get their own task (and may be raced).
BIG: Final = 2000

#: The configuration-set search's first budget, and how fast budgets grow.
FIRST_JIT_CONFIGS: Final = 5_000
GROWTH: Final = 8
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


def solve(
    part: Partition, model: Model, deadline: float | None, first: str = "jit"
) -> PartitionResult:
    """One partition in this process: both searches, taking turns with growing budgets.

    A race without a second core: the depth-first search gets a cache of
    1.5 configurations per operation (easy histories end there), then the
    configuration-set search gets 5,000 configurations, then each gets
    eight times more, until one answers or both have used their full
    budget.  Whichever search suits the history finishes at most about
    twice as late as it would alone.  When the depth-first search finds a
    violation first, the configuration-set search is still asked for it
    (with the same budget), because its explanation is canonical.
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
    if first == "wgl":
        res = search_wgl(part, model, deadline)
        if res.verdict != UNKNOWN or _late(deadline):
            return res
        alt = search_jit(part, model, deadline)
        return alt if alt.verdict != UNKNOWN else res
    wgl_cap = int(QUICK_CACHE_PER_OP * len(part)) + 1000
    jit_cap = FIRST_JIT_CONFIGS
    last: PartitionResult | None = None
    while True:
        dfs = search_wgl(part, model, deadline, max_cache=min(wgl_cap, DEFAULT_MAX_CACHE))
        if dfs.verdict == LINEARIZABLE or _late(deadline):
            return dfs
        sets = search_jit(part, model, deadline, max_configs=min(jit_cap, DEFAULT_MAX_CONFIGS))
        if sets.verdict != UNKNOWN:
            return sets
        if dfs.verdict != UNKNOWN:
            return dfs
        last = sets
        if _late(deadline) or (wgl_cap >= DEFAULT_MAX_CACHE and jit_cap >= DEFAULT_MAX_CONFIGS):
            return last
        wgl_cap *= GROWTH
        jit_cap *= GROWTH


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def check_partitions(
    parts: Sequence[Partition],
    model: Model,
    timeout: float | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    race: bool | None = None,
) -> list[PartitionResult]:
    """Decide every partition; results are in the order of ``parts``.

    ``race``: let an idle worker run the other search on a partition that is
    still being searched.  By default only with 4 or more workers: on the
    2-vCPU machines this project runs on, two CPU-bound processes get about
    1.1 times the throughput of one (measured by ``bench/lincheck.py``), so a
    racer mostly slows the search it races.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    workers = default_workers() if workers is None else max(1, workers)
    total = sum(len(p) for p in parts)
    if race is None:
        race = workers >= RACE_MIN_WORKERS
    bigs = sum(1 for p in parts if len(p) >= BIG)
    # Processes pay off only when at least two big searches can overlap (or
    # for a race); many small partitions are quicker in this process.
    if workers == 1 or total < INLINE_LIMIT or (bigs < 2 and not race):
        out: list[PartitionResult] = []
        for i, p in enumerate(parts):
            out.append(solve(p, model, deadline))
            if progress is not None:
                progress(i + 1, len(parts), p.key, out[-1].verdict)
        return out
    return _Scheduler(parts, model, deadline, workers, progress, race).run()


@dataclass(slots=True)
class _Task:
    algorithm: str
    indices: list[int]
    fallback: bool


@dataclass(slots=True)
class _Running:
    proc: BaseProcess
    task: _Task
    left: set[int] = field(default_factory=set)


def _child(
    conn: Connection, parts: list[Partition], model: Model, task: _Task, deadline: float | None
) -> None:
    try:
        for p in parts:
            if task.fallback:
                res = solve(p, model, deadline, task.algorithm)
            elif not p.ops or task.algorithm == "jit":
                res = solve(p, model, deadline)
            else:
                res = _SEARCHES[task.algorithm](p, model, deadline)
            conn.send(res)
        conn.send(None)
    finally:
        conn.close()


class _Scheduler:
    """Hands tasks to at most ``workers`` processes and collects the answers."""

    def __init__(
        self,
        parts: Sequence[Partition],
        model: Model,
        deadline: float | None,
        workers: int,
        progress: Progress | None,
        race: bool,
    ) -> None:
        self.race = race
        self.parts = list(parts)
        self.model = model
        self.deadline = deadline
        self.workers = workers
        self.progress = progress
        self.results: dict[int, PartitionResult] = {}
        self.gave_up: dict[int, set[str]] = {}
        self.running: dict[Connection, _Running] = {}
        self.ctx: Any = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        )
        order = sorted(range(len(parts)), key=lambda i: (-len(parts[i]), i))
        big = [i for i in order if len(parts[i]) >= BIG]
        small = [i for i in order if len(parts[i]) < BIG]
        self.queue: list[_Task] = [_Task("jit", [i], False) for i in big]
        # Small partitions travel in batches, enough of them to balance the workers.
        budget = max(BIG // 2, sum(len(parts[i]) for i in small) // (4 * workers) + 1)
        batch: list[int] = []
        size = 0
        for i in small:
            batch.append(i)
            size += len(parts[i])
            if size >= budget:
                self.queue.append(_Task("jit", batch, True))
                batch, size = [], 0
        if batch:
            self.queue.append(_Task("jit", batch, True))

    def run(self) -> list[PartitionResult]:
        try:
            while len(self.results) < len(self.parts):
                self._fill()
                if not self.running:
                    break
                timeout = (
                    None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
                )
                ready = wait(list(self.running), timeout)
                if not ready:
                    break  # deadline
                for conn in ready:
                    if conn in self.running:
                        self._receive(conn)
        finally:
            for conn in list(self.running):
                self._stop(conn)
        for i, p in enumerate(self.parts):
            if i not in self.results:
                self.results[i] = PartitionResult(
                    key=p.key,
                    verdict=UNKNOWN,
                    algorithm="none",
                    elapsed=0.0,
                    searched=len(p),
                    reason="time budget exhausted",
                )
        return [self.results[i] for i in range(len(self.parts))]

    def _fill(self) -> None:
        while len(self.running) < self.workers:
            task = self._next_task()
            if task is None:
                return
            self._start(task)

    def _next_task(self) -> _Task | None:
        while self.queue:
            task = self.queue.pop(0)
            task.indices = [i for i in task.indices if i not in self.results]
            if task.indices:
                return task
        if not self.race:
            return None
        # Idle worker: race the other search on a big partition still running alone.
        racing = {
            (r.task.indices[0], r.task.algorithm)
            for r in self.running.values()
            if len(r.task.indices) == 1
        }
        for i, alg in sorted(racing):
            other = "wgl" if alg == "jit" else "jit"
            if (i, other) not in racing and other not in self.gave_up.get(i, set()):
                return _Task(other, [i], False)
        return None

    def _start(self, task: _Task) -> None:
        parent, child = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(
            target=_child,
            args=(child, [self.parts[i] for i in task.indices], self.model, task, self.deadline),
            daemon=True,
        )
        proc.start()
        child.close()
        self.running[parent] = _Running(proc=proc, task=task, left=set(task.indices))

    def _stop(self, conn: Connection) -> None:
        run = self.running.pop(conn)
        if run.proc.is_alive():
            run.proc.terminate()
        run.proc.join(2)
        if run.proc.is_alive():  # pragma: no cover - SIGTERM ignored
            run.proc.kill()
            run.proc.join()
        conn.close()

    def _receive(self, conn: Connection) -> None:
        run = self.running[conn]
        try:
            msg = conn.recv()
        except EOFError:
            msg = None
            for i in sorted(run.left):
                self._record(
                    i,
                    PartitionResult(
                        key=self.parts[i].key,
                        verdict=UNKNOWN,
                        algorithm=run.task.algorithm,
                        elapsed=0.0,
                        searched=len(self.parts[i]),
                        reason="search process died (out of memory?)",
                    ),
                    run.task.algorithm,
                )
            run.left.clear()
        if msg is None:
            self._stop(conn)
            return
        res: PartitionResult = msg
        idx = run.task.indices[len(run.task.indices) - len(run.left)]
        run.left.discard(idx)
        self._record(idx, res, run.task.algorithm)

    def _record(self, i: int, res: PartitionResult, algorithm: str) -> None:
        if i in self.results:
            return
        if res.verdict == UNKNOWN:
            tried = self.gave_up.setdefault(i, set())
            tried.add(algorithm)
            if ("jit" in tried and "wgl" in tried) or res.reason.startswith("time"):
                self._finish(i, res)
            elif not any(
                i in r.task.indices and r.task.algorithm != algorithm for r in self.running.values()
            ):
                other = "wgl" if algorithm == "jit" else "jit"
                self.queue.insert(0, _Task(other, [i], False))
            return
        self._finish(i, res)
        # Stop a racer that is now pointless.
        for conn, r in list(self.running.items()):
            if r.task.indices == [i]:
                self._stop(conn)

    def _finish(self, i: int, res: PartitionResult) -> None:
        self.results[i] = res
        if self.progress is not None:
            self.progress(len(self.results), len(self.parts), res.key, res.verdict)
