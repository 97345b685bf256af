"""The optional compiled build: where ``make accel`` puts it, and whether it may be used.

``make accel`` compiles the simulator's hot path with mypyc (the core, the
node runtime, the simulator's loop and the trace recorder; and the
linearizability checker's readers, reductions and searches: the Makefile's
ACCEL_MODULES) into ``build/accel/``, a copy of the packages holding them
(consensus, traces, kv, sim, checkers) in which those modules are C extensions. Python
finds it only when that directory comes before the checkout on the module
path, so using it is a choice made per process, never a side effect of
having built it: bench/sim.py measures the compiled build in a subprocess
started with ``accel_env``, and tests/sim/test_accel.py runs the same seeded
simulations both ways and compares the trace bytes. The pure Python is the
reference.

A build older than any source file of those packages is stale: it would run
code that is no longer the checkout's, so ``accel_status`` refuses it. (Use
this module from the checkout: its copy in the build resolves paths from
there.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCEL_DIR = ROOT / "build" / "accel"
_STAMP = ACCEL_DIR / ".built"

#: The packages the build copies (the Makefile's ACCEL_PACKAGES).
PACKAGES = ("consensus", "traces", "kv", "sim", "checkers")


def _sources() -> list[Path]:
    """Every source file the build holds a copy of (the Makefile's ACCEL_SOURCES)."""
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def accel_status() -> str:
    """Empty if the compiled core is built and fresh, else why it cannot be used."""
    if not _STAMP.exists():
        return "not built (run make accel)"
    built = _STAMP.stat().st_mtime
    stale = [p.name for p in _sources() if p.stat().st_mtime > built]
    if stale:
        return f"stale ({', '.join(stale)} changed since make accel)"
    return ""


def accel_env(base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with the compiled core first on PYTHONPATH (for a subprocess
    whose working directory is not the checkout's root, which would come first)."""
    env = dict(base)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ACCEL_DIR), base.get("PYTHONPATH")) if p)
    return env


def core_is_compiled() -> bool:
    """Whether this process runs the compiled build (its core and its loop)."""
    import consensus.core
    import sim.cluster

    return not any(m.__file__.endswith(".py") for m in (consensus.core, sim.cluster))
