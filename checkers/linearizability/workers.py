"""Worker processes for :func:`.portfolio.check_partitions`.

Partitions are independent (P-compositionality), so on a machine with
enough cores they are searched in separate processes, each task one rung of
a partition's budget ladder (:func:`.portfolio.solve_rung`); an idle worker
may race the depth-first search on a partition still being searched.  A
module of its own so that a check in one process (the default on fewer
than four cores, and every small history) does not load it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from checkers.linearizability.model import Model
from checkers.linearizability.normalize import Partition
from checkers.linearizability.portfolio import (
    _SEARCHES,
    BIG,
    OUT_OF_MEMORY,
    Progress,
    schedule,
    skipped,
    solve_rung,
    suspects,
    undecided,
)
from checkers.linearizability.result import ILLEGAL, UNKNOWN, PartitionResult

TYPE_CHECKING = False  # no ``typing`` at run time: start-up (see history.py)
if TYPE_CHECKING:  # multiprocessing is imported only when workers are used
    from collections.abc import Sequence
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess
    from typing import Any, Final

#: A task's algorithm: climb one rung of the ladder, or race one search alone.
LADDER: Final = "ladder"


@dataclass(slots=True)
class _Task:
    algorithm: str
    indices: list[int]
    rung: int = 0


@dataclass(slots=True)
class _Running:
    proc: BaseProcess
    task: _Task
    left: set[int] = field(default_factory=set)


def wait_any(conns: list[Connection], timeout: float | None) -> list[Any]:
    """The connections with something to read (``multiprocessing.connection.wait``)."""
    from multiprocessing.connection import wait

    return wait(conns, timeout)


def _child(
    conn: Connection,
    parts: list[Partition],
    flags: list[bool],
    model: Model,
    task: _Task,
    deadline: float | None,
) -> None:
    """Worker process: send ``(result or None, rung)`` per partition, then ``None``.

    ``flags``: which partitions look not linearizable (``portfolio.suspects``).
    """
    try:
        for p, suspect in zip(parts, flags, strict=True):
            res: PartitionResult | None
            try:
                if task.algorithm == LADDER:
                    res = solve_rung(p, model, deadline, task.rung, suspect)
                else:
                    res = _SEARCHES[task.algorithm](p, model, deadline)
            except MemoryError:
                res = undecided(p, OUT_OF_MEMORY, task.algorithm)
            conn.send((res, task.rung))
        conn.send(None)
    finally:
        conn.close()


class Scheduler:
    """Hands tasks to at most ``workers`` processes and collects the answers.

    Tasks are rungs of partitions' ladders: a partition not decided on its
    rung goes to the back of the queue one rung up, so every partition gets
    its cheap rungs before any gets an expensive one.
    """

    def __init__(
        self,
        parts: Sequence[Partition],
        model: Model,
        deadline: float | None,
        workers: int,
        progress: Progress | None,
        race: bool,
        every: bool,
        results: dict[int, PartitionResult],
    ) -> None:
        self.race = race
        self.every = every
        self.stopped = False
        self.parts = list(parts)
        self.model = model
        self.deadline = deadline
        self.workers = workers
        self.progress = progress
        self.results = results
        self.running: dict[Connection, _Running] = {}
        import multiprocessing

        self.ctx: Any = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        )
        self.flags = suspects(parts, self.model)
        order = schedule(parts, self.model, self.flags)
        big = [i for i in order if len(parts[i]) >= BIG]
        small = [i for i in order if len(parts[i]) < BIG]
        self.queue: list[_Task] = []
        # Small partitions travel in batches, enough of them to balance the workers.
        budget = max(BIG // 2, sum(len(parts[i]) for i in small) // (4 * workers) + 1)
        batch: list[int] = []
        size = 0
        for i in small:
            batch.append(i)
            size += len(parts[i])
            if size >= budget:
                self.queue.append(_Task(LADDER, batch))
                batch, size = [], 0
        if batch:
            self.queue.append(_Task(LADDER, batch))
        self.queue += [_Task(LADDER, [i]) for i in big]

    def run(self) -> None:
        try:
            while len(self.results) < len(self.parts) and not self.stopped:
                self._fill()
                if not self.running:
                    break
                timeout = (
                    None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
                )
                ready = wait_any(list(self.running), timeout)
                if not ready:
                    break  # deadline
                for conn in ready:
                    if conn in self.running and not self.stopped:
                        self._receive(conn)
        finally:
            for conn in list(self.running):
                self._stop(conn)
        if self.stopped:
            for i, p in enumerate(self.parts):
                if i not in self.results:
                    self._finish(i, skipped(p))

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
        # Idle worker: race the depth-first search alone on a big partition
        # still climbing its ladder.
        alone = {r.task.indices[0] for r in self.running.values() if len(r.task.indices) == 1}
        raced = {r.task.indices[0] for r in self.running.values() if r.task.algorithm != LADDER}
        for i in sorted(alone - raced):
            return _Task("wgl", [i])
        return None

    def _start(self, task: _Task) -> None:
        parent, child = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(
            target=_child,
            args=(
                child,
                [self.parts[i] for i in task.indices],
                [self.flags[i] for i in task.indices],
                self.model,
                task,
                self.deadline,
            ),
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
                if run.task.algorithm == LADDER:
                    self._finish(
                        i,
                        undecided(self.parts[i], "search process died (out of memory?)", LADDER),
                    )
            run.left.clear()
        if msg is None:
            self._stop(conn)
            return
        res, rung = msg
        idx = run.task.indices[len(run.task.indices) - len(run.left)]
        run.left.discard(idx)
        if idx in self.results:
            return
        if run.task.algorithm != LADDER:
            if res.verdict != UNKNOWN:
                self._finish(idx, res)
            return  # a racer that gave up: the ladder goes on
        if res is None:
            self.queue.append(_Task(LADDER, [idx], rung + 1))
            return
        self._finish(idx, res)

    def _finish(self, i: int, res: PartitionResult) -> None:
        if i in self.results:
            return
        self.results[i] = res
        if self.progress is not None:
            self.progress(len(self.results), len(self.parts), res.key, res.verdict)
        if res.verdict == ILLEGAL and not self.every:
            self.stopped = True
        # Stop a racer (or the ladder it raced) that is now pointless.
        for conn, r in list(self.running.items()):
            if r.task.indices == [i]:
                self._stop(conn)
