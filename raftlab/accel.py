"""The optional compiled build: where ``make accel`` puts it, whether it may
be used, and running a command on it.

``make accel`` compiles the simulator's hot path with mypyc (the core, the
node runtime, the simulator's loop and the trace recorder; and the
linearizability checker's readers, reductions and searches: the Makefile's
ACCEL_MODULES) into ``build/accel/``, a copy of the packages holding them
(consensus, traces, kv, sim, checkers) in which those modules are C
extensions. Python finds it only when that directory comes before the checkout on the module
path, so using it is a choice made per process, never a side effect of
importing something: ``raftlab hunt`` and ``raftlab sim`` re-run
themselves on it from the console entry point (``rerun_compiled``; set
RAFTLAB_BUILD=pure to keep the pure Python), bench/sim.py measures it in a
subprocess started with ``build_env``, and tests/sim/test_accel.py runs the
same seeded simulations both ways and compares the trace bytes. The pure
Python is the reference.

A build older than any source file of those packages is stale: it would run
code that is no longer the checkout's, so ``accel_status`` refuses it. This
module lives in ``raftlab/``, which the build does not copy, so it always
speaks of the checkout it is in.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCEL_DIR = ROOT / "build" / "accel"
_STAMP = ACCEL_DIR / ".built"

#: Which build a process runs, for the user to choose (``pure``) and for a
#: re-run process to know it was (``compiled``).
BUILD_ENV = "RAFTLAB_BUILD"

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


def build_env(base: Mapping[str, str], compiled: bool = True) -> dict[str, str]:
    """``base`` for a subprocess that is to run one build and no other: the
    compiled build first on PYTHONPATH if ``compiled`` (for a subprocess whose
    working directory is not the checkout's root, which would come first), and
    RAFTLAB_BUILD naming the build, so that ``raftlab hunt`` and ``raftlab
    sim`` in it do not re-run themselves on the other."""
    env = dict(base)
    env[BUILD_ENV] = "compiled" if compiled else "pure"
    if compiled:
        path = (str(ACCEL_DIR), base.get("PYTHONPATH"))
        env["PYTHONPATH"] = os.pathsep.join(p for p in path if p)
    return env


def core_is_compiled() -> bool:
    """Whether this process runs the compiled build (its core and its loop)."""
    import consensus.core
    import sim.cluster

    return not any(m.__file__.endswith(".py") for m in (consensus.core, sim.cluster))


def rerun_compiled(command: list[str]) -> None:
    """Replace this process by ``python -P COMMAND...`` on the compiled build
    when it is built and fresh, unless RAFTLAB_BUILD is set (``pure``: the
    user's choice; ``compiled``: this is the re-run). Returns when it does not.

    Only entry points call it (the console's, a bench script's main), before
    any of the copied packages is imported: a test runner calling a command
    in-process is never replaced. ``-P`` keeps the script's and the working
    directory off the module path, where a checkout's own pure packages would
    come first."""
    if os.environ.get(BUILD_ENV) or accel_status():
        return
    env = build_env(os.environ)
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-P", *command], env)


def build_name() -> str:
    """``compiled`` or ``pure``: which build this process runs."""
    return "compiled" if core_is_compiled() else "pure"
