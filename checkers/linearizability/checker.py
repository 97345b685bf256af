"""The entry point that ties parsing, normalization, search and reports together."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from checkers.linearizability.gcpause import paused_gc
from checkers.linearizability.history import History
from checkers.linearizability.model import Model
from checkers.linearizability.models import get_model
from checkers.linearizability.normalize import Partition, prepare
from checkers.linearizability.parse import history_from_records
from checkers.linearizability.portfolio import Progress, check_partitions
from checkers.linearizability.report import Violation, explain_text, violation
from checkers.linearizability.result import ILLEGAL, PartitionResult, Verdict, combine


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
        """A JSON-ready summary (for ``raftlab check`` reports)."""
        return {
            "verdict": self.verdict,
            "model": self.model.name,
            "operations": len(self.history),
            "elapsed_s": round(self.elapsed, 3),
            "keys": {
                r.key: {"verdict": r.verdict, "algorithm": r.algorithm, "reason": r.reason}
                for r in self.results
            },
            "violations": [
                {
                    "key": v.key,
                    "op": v.blocked.id,
                    "line": v.blocked.ret_line or v.blocked.call_line,
                }
                for v in self.violations()
            ],
        }


def check(
    history: History | Iterable[Mapping[str, Any]],
    model: str | Model = "kv",
    timeout: float | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    race: bool | None = None,
    every: bool = False,
) -> LinResult:
    """Decide whether ``history`` is linearizable under ``model``.

    ``history`` may also be an iterable of decoded JSONL records.
    ``timeout`` (seconds) bounds the whole check; partitions without an
    answer by then are ``unknown``.  ``workers`` caps the processes used
    (default: the cores available; 1 keeps everything in this process);
    ``race`` lets idle workers run the second search on a partition that is
    still being searched (default: only with 4 or more workers).
    The check stops at the first partition found not linearizable (the
    others are reported as not searched) unless ``every`` is true.
    """
    started = time.monotonic()
    with paused_gc():
        if not isinstance(history, History):
            history = history_from_records(history)
        m = get_model(model, history.initial) if isinstance(model, str) else model
        parts = prepare(history.ops, m)
        results = check_partitions(
            parts, m, timeout=timeout, workers=workers, progress=progress, race=race, every=every
        )
    return LinResult(
        verdict=combine([r.verdict for r in results]),
        history=history,
        model=m,
        parts=tuple(parts),
        results=tuple(results),
        elapsed=time.monotonic() - started,
    )
