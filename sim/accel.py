"""The optional compiled core: where ``make accel`` puts it, and whether it may be used.

``make accel`` compiles consensus/ with mypyc into ``build/accel/`` (a copy
of the package whose modules are C extensions). Python finds it only when
that directory comes before the checkout on the module path, so using it is
a choice made per process, never a side effect of having built it:
bench/sim.py measures the compiled core in a subprocess started with
``accel_env``, and tests/sim/test_accel.py runs the same seeded simulations
both ways and compares the trace bytes. The pure Python is the reference.

A build older than any of the core's sources is stale: it would run code
that is no longer the checkout's, so ``accel_status`` refuses it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCEL_DIR = ROOT / "build" / "accel"
_STAMP = ACCEL_DIR / ".built"


def _sources() -> list[Path]:
    """What the build compiles or type-checks against (the Makefile's ACCEL_SOURCES)."""
    return [*sorted((ROOT / "consensus").glob("*.py")), ROOT / "traces" / "schema.py"]


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
    """Whether this process runs the compiled core."""
    import consensus.core

    return not consensus.core.__file__.endswith(".py")
