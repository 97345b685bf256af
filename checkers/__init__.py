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

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # no ``typing`` at run time: ``raftlab lincheck`` start-up
if TYPE_CHECKING:
    from checkers.base import (
        LIVENESS,
        SAFETY,
        CheckerInfo,
        StepChecker,
        TraceChecker,
        Violation,
    )
    from checkers.registry import Registry, RegistryError, default_registry
    from checkers.runner import (
        CheckReport,
        MalformedEvent,
        collect_client_events,
        run_checkers,
    )

# Imported on first use: ``checkers.linearizability`` (and ``raftlab
# lincheck``) must not pay for the trace checkers and the plug-in registry's
# entry-point scan when they are not used.
_WHERE = {
    "LIVENESS": "checkers.base",
    "SAFETY": "checkers.base",
    "StepChecker": "checkers.base",
    "CheckerInfo": "checkers.base",
    "TraceChecker": "checkers.base",
    "Violation": "checkers.base",
    "Registry": "checkers.registry",
    "RegistryError": "checkers.registry",
    "default_registry": "checkers.registry",
    "CheckReport": "checkers.runner",
    "MalformedEvent": "checkers.runner",
    "collect_client_events": "checkers.runner",
    "run_checkers": "checkers.runner",
}


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)


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
