"""Checkers over traces and histories.

Trace checkers (one invariant each, see ``invariants/``) plug into a
``Registry``; ``run_checkers`` feeds a trace through them in one pass. The
linearizability checker for client histories is ``checkers.linearizability``.

Public API::

    from checkers import default_registry, run_checkers
    checkers = default_registry().create(header)
    report = run_checkers(events, checkers)
    for violation in report.violations:
        print(violation.describe())
"""

from checkers.base import CheckerInfo, TraceChecker, Violation
from checkers.registry import Registry, RegistryError, default_registry
from checkers.runner import CheckReport, MalformedEvent, collect_client_events, run_checkers

__all__ = [
    "CheckReport",
    "CheckerInfo",
    "MalformedEvent",
    "Registry",
    "RegistryError",
    "TraceChecker",
    "Violation",
    "collect_client_events",
    "default_registry",
    "run_checkers",
]
