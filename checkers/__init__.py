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

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checkers.base import CheckerInfo, TraceChecker, Violation
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
