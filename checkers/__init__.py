"""Checkers over traces and histories.

Trace checkers (one invariant each, see ``invariants/``) plug into a
``Registry``; ``run_checkers`` feeds a trace through them in one pass. The
linearizability checker for client histories is ``checkers.linearizability``.

Public API::

    from checkers import default_registry, run_checkers
    checkers = default_registry().create(header)
    report = run_checkers(events, checkers)
    for violation in report.violations:      # safety: the run is wrong
        print(violation.describe())
    for warning in report.warnings:          # liveness, in fault-free windows
        print(warning.describe())
    exit_code = 1 if report.failed(strict_liveness=False) else 0
"""

from checkers.base import LIVENESS, SAFETY, CheckerInfo, StepChecker, TraceChecker, Violation
from checkers.registry import Registry, RegistryError, default_registry
from checkers.runner import CheckReport, MalformedEvent, collect_client_events, run_checkers

__all__ = [
    "LIVENESS",
    "SAFETY",
    "CheckReport",
    "CheckerInfo",
    "MalformedEvent",
    "Registry",
    "RegistryError",
    "StepChecker",
    "TraceChecker",
    "Violation",
    "collect_client_events",
    "default_registry",
    "run_checkers",
]
