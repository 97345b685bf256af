"""The entry point that ties parsing, normalization, search and reports together."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from checkers.linearizability.gcpause import paused_gc
from checkers.linearizability.history import History, HistoryError
from checkers.linearizability.limits import memory_limit
from checkers.linearizability.model import Model
from checkers.linearizability.models import get_model
from checkers.linearizability.normalize import Partition, prepare
from checkers.linearizability.parse import history_from_records
from checkers.linearizability.portfolio import Progress, check_partitions
from checkers.linearizability.report import Violation, explain_text, violation, violation_json
from checkers.linearizability.result import ILLEGAL, SKIPPED, PartitionResult, combine

TYPE_CHECKING = False  # no ``typing`` at run time: start-up (see history.py)
if TYPE_CHECKING:
    from typing import Any

    from checkers.linearizability.result import Verdict


@dataclass(slots=True, frozen=True)
class LinResult:
    """The verdict on a history, per partition, with what is needed to explain it."""

    verdict: Verdict
    history: History
    model: Model
    parts: tuple[Partition, ...]
    results: tuple[PartitionResult, ...]
    elapsed: float

    @property
    def per_key(self) -> dict[str, Verdict]:
        """Verdict of each partition (key), in key order."""
        return {r.key: r.verdict for r in self.results}

    @property
    def ok(self) -> bool:
        return self.verdict == "linearizable"

    def violations(self) -> list[Violation]:
        """One explanation per non-linearizable partition."""
        if all(r.verdict != ILLEGAL for r in self.results):
            return []  # (without the index of every operation by id)
        by_id = {op.id: op for op in self.history.ops}
        return [
            violation(p, r, self.model, by_id)
            for p, r in zip(self.parts, self.results, strict=True)
            if r.verdict == ILLEGAL
        ]

    def explain(self, max_steps: int = 20) -> str:
        """The text report: verdict, per-key table, and every violation explained."""
        return explain_text(
            self.history,
            self.model,
            list(self.parts),
            list(self.results),
            self.verdict,
            self.elapsed,
            max_steps,
        )

    def summary(self) -> dict[str, Any]:
        """A JSON-ready report carrying the same explanation as :meth:`explain`.

        Per key: verdict, search, time, and why it is unknown or not searched;
        per violation: the operation whose result is impossible (when the
        search looked ahead), the first operation that cannot be linearized,
        the longest linearizable prefix with the value after each step, and
        each candidate with the reason it cannot go next.
        """
        return {
            "verdict": self.verdict,
            "model": self.model.name,
            "operations": len(self.history),
            "clients": len(self.history.clients),
            "elapsed_s": round(self.elapsed, 3),
            "keys": {
                r.key: {
                    "verdict": "not-searched" if r.algorithm == SKIPPED else r.verdict,
                    "operations": p.total,
                    "set_aside": len(p.dropped),
                    "algorithm": r.algorithm,
                    "elapsed_s": round(r.elapsed, 3),
                    "reason": r.reason,
                }
                for p, r in zip(self.parts, self.results, strict=True)
            },
            "violations": [violation_json(v, self.model) for v in self.violations()],
        }


def check(
    history: History | Iterable[Mapping[str, Any]],
    model: str | Model = "kv",
    timeout: float | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    race: bool | None = None,
    every: bool = False,
    max_memory_mb: float | None = None,
) -> LinResult:
    """Decide whether ``history`` is linearizable under ``model``.

    ``history`` may also be an iterable of decoded JSONL records.
    ``timeout`` (seconds) bounds the whole check; partitions without an
    answer by then are ``unknown``.  ``workers`` caps the processes used
    (default: every core on a machine with 4 or more, else 1; 1 keeps
    everything in this process);
    ``race`` lets idle workers run the second search on a partition that is
    still being searched (default: only with 4 or more workers).
    The check stops at the first partition found not linearizable (the
    others are reported as not searched) unless ``every`` is true.
    ``timeout`` is a hard limit (see :mod:`.limits`), and so is
    ``max_memory_mb``, the memory the check may add to this process (and to
    each worker).  A model that does not describe the history's operations
    (``register`` on several keys, or on appends) raises :class:`HistoryError`.
    """
    started = time.monotonic()
    with paused_gc():
        if not isinstance(history, History):
            history = history_from_records(history)
        m = get_model(model, history.initial) if isinstance(model, str) else model
        refused = m.unsupported(history.ops)
        if refused is not None:
            raise HistoryError(refused, history.source)
        parts = prepare(history.ops, m)
        with memory_limit(max_memory_mb):
            results = check_partitions(
                parts,
                m,
                timeout=timeout,
                workers=workers,
                progress=progress,
                race=race,
                every=every,
            )
    return LinResult(
        verdict=combine([r.verdict for r in results]),
        history=history,
        model=m,
        parts=tuple(parts),
        results=tuple(results),
        elapsed=time.monotonic() - started,
    )
