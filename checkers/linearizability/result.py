"""Verdicts and per-partition results, shared by the searches and the reports.

Kept free of search logic so that worker processes can send results back
(everything here pickles) and reports can be built from them alone.
"""

from __future__ import annotations

from dataclasses import dataclass

TYPE_CHECKING = False  # no ``typing`` at run time: start-up (see history.py)
if TYPE_CHECKING:
    from typing import Literal

    Verdict = Literal["linearizable", "not-linearizable", "unknown"]

LINEARIZABLE: Verdict = "linearizable"
ILLEGAL: Verdict = "not-linearizable"
UNKNOWN: Verdict = "unknown"

#: ``algorithm`` of a partition not searched because another one was already
#: found not linearizable (the check stops there unless asked for every key).
SKIPPED = "skipped"
SKIPPED_REASON = "not searched: stopped at the first violation (--all decides every key)"


def combine(verdicts: list[Verdict]) -> Verdict:
    """One violation anywhere makes the history non-linearizable; else unknown wins."""
    if ILLEGAL in verdicts:
        return ILLEGAL
    if UNKNOWN in verdicts:
        return UNKNOWN
    return LINEARIZABLE


@dataclass(slots=True, frozen=True)
class PartitionResult:
    """The outcome of searching one partition.

    ``order`` is a witness linearization (global op ids) when the verdict is
    linearizable.  For a violation, ``blocked`` is the first operation that
    cannot be linearized and ``prefix`` the longest linearizable prefix found
    before it.  ``reason`` says why the answer is unknown.
    """

    key: str
    verdict: Verdict
    algorithm: str
    elapsed: float
    searched: int
    order: tuple[int, ...] | None = None
    blocked: int | None = None
    prefix: tuple[int, ...] = ()
    reason: str = ""
    configurations: int = 0
