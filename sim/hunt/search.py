"""The hunt: try schedules 0, 1, 2, ... until one fails, within a budget.

Schedule number ``i`` depends only on the hunt's seed and ``i``
(shapes.draw). With ``workers > 1`` the numbers are handed out in order to a
pool of processes, a few ahead of what is done; when schedule ``f`` fails,
numbers above ``f`` are no longer handed out, and the hunt waits for every
number below ``f`` still running. The first counterexample is the *lowest*
failing number, whatever finished first, so the same seed finds the same
counterexample with any number of workers (given the budget to reach it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass

from sim.hunt.judge import Judgement, judge
from sim.hunt.shapes import draw


@dataclass(slots=True, frozen=True)
class HuntConfig:
    seed: int = 1
    budget_s: float = 60.0
    workers: int = 1
    unsafe: tuple[str, ...] = ()
    lin_timeout: float = 10.0
    max_schedules: int = 0
    """Stop after this many schedules (0: only the budget stops the hunt)."""


@dataclass(slots=True)
class Tried:
    """What one schedule did, as the hunt keeps it."""

    index: int
    failed: tuple[str, ...]
    sim_seconds: float
    weight: int
    undecided: bool = False


@dataclass(slots=True)
class HuntResult:
    config: HuntConfig
    schedules: int = 0
    sim_seconds: float = 0.0
    wall_s: float = 0.0
    undecided: int = 0
    found: Judgement | None = None
    index: int = -1
    """The number of the failing schedule (-1: none found)."""

    @property
    def prop(self) -> str:
        return self.found.first if self.found is not None else ""


Progress = Callable[[HuntResult], None]


def try_schedule(seed: int, index: int, unsafe: tuple[str, ...], lin_timeout: float) -> Tried:
    """Draw and judge one schedule (what a worker process runs)."""
    schedule = draw(seed, index, unsafe)
    verdict = judge(schedule, lin_timeout)
    return Tried(
        index, tuple(verdict.failed), verdict.sim_seconds, schedule.weight(), verdict.undecided
    )


def hunt(config: HuntConfig, progress: Progress | None = None) -> HuntResult:
    started = time.monotonic()
    result = HuntResult(config)
    if config.workers <= 1:
        failing = _serial(config, result, started, progress)
    else:
        failing = _parallel(config, result, started, progress)
    if failing >= 0:
        # Judged again here: the counterexample with its events, in this process.
        result.found = judge(draw(config.seed, failing, config.unsafe), config.lin_timeout)
        result.index = failing
    result.wall_s = time.monotonic() - started
    return result


def _out_of_budget(config: HuntConfig, started: float, next_index: int) -> bool:
    if config.max_schedules and next_index >= config.max_schedules:
        return True
    return time.monotonic() - started >= config.budget_s


def _count(result: HuntResult, tried: Tried, progress: Progress | None) -> None:
    result.schedules += 1
    result.sim_seconds += tried.sim_seconds
    result.undecided += tried.undecided
    if progress is not None:
        progress(result)


def _serial(
    config: HuntConfig, result: HuntResult, started: float, progress: Progress | None
) -> int:
    index = 0
    while not _out_of_budget(config, started, index):
        tried = try_schedule(config.seed, index, config.unsafe, config.lin_timeout)
        _count(result, tried, progress)
        if tried.failed:
            return index
        index += 1
    return -1


def _parallel(
    config: HuntConfig, result: HuntResult, started: float, progress: Progress | None
) -> int:
    failing = -1
    next_index = 0
    running: dict[Future[Tried], int] = {}
    with ProcessPoolExecutor(max_workers=config.workers) as pool:
        while True:
            stopped = _out_of_budget(config, started, next_index)
            while (
                not stopped
                and len(running) < 2 * config.workers
                and (failing < 0 or next_index < failing)
            ):
                future = pool.submit(
                    try_schedule, config.seed, next_index, config.unsafe, config.lin_timeout
                )
                running[future] = next_index
                next_index += 1
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: running[f]):
                index = running.pop(future)
                tried = future.result()
                _count(result, tried, progress)
                if tried.failed and (failing < 0 or index < failing):
                    failing = index
            # Numbers above the failing one no longer matter.
            for future, index in list(running.items()):
                if failing >= 0 and index > failing and future.cancel():
                    del running[future]
    return failing
