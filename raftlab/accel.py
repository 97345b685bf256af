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

``raftlab lincheck`` chooses its build in its own process instead
(``use_compiled``): the console entry point puts the build first on the
module path before anything of the copied packages is imported, which
costs a directory scan rather than a second interpreter start.

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

#: Which build a process runs, for the user to choose (``pure``) and for a
#: re-run process to know it was (``compiled``).
BUILD_ENV = "RAFTLAB_BUILD"

#: The packages the build copies (the Makefile's ACCEL_PACKAGES).
PACKAGES = ("consensus", "traces", "kv", "sim", "checkers")


def _newer_sources(directory: str, since: float, out: list[str]) -> None:
    """Append to ``out`` the name of each ``.py`` file under ``directory``
    modified after ``since`` (``__pycache__`` holds none).

    ``os.scandir`` walks and stats in one system call per file; the
    ``Path.rglob`` it replaces cost ``raftlab lincheck`` 2.3 ms of start-up
    on every run, against 0.5 ms, for the same files."""
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    _newer_sources(entry.path, since, out)
            elif entry.name.endswith(".py") and entry.stat().st_mtime > since:
                out.append(entry.name)


def accel_status(root: Path = ROOT) -> str:
    """Empty if the compiled build under ``root`` (the checkout) is built and
    fresh, else why it cannot be used: no stamp, or a source file of the
    copied packages modified since the build started."""
    try:
        built = (root / "build" / "accel" / ".built").stat().st_mtime
    except OSError:
        return "not built (run make accel)"
    stale: list[str] = []
    for package in PACKAGES:
        if (root / package).is_dir():
            _newer_sources(str(root / package), built, stale)
    if stale:
        return f"stale ({', '.join(sorted(stale))} changed since make accel)"
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


def use_compiled() -> bool:
    """Put the compiled build first on this process's module path when it is
    built and fresh, unless RAFTLAB_BUILD is set (``pure``: the user's
    choice; ``compiled``: the caller put it there). Returns whether it did.

    For an entry point, before any of the copied packages is imported: a
    process that has imported one of them (a test runner calling a command
    in-process) keeps what it has, since mixing builds would compare
    objects of two different classes. ``raftlab lincheck`` calls it rather
    than ``rerun_compiled``: a second interpreter start cost more than the
    scan of ``accel_status``."""
    if os.environ.get(BUILD_ENV) or any(p in sys.modules for p in PACKAGES) or accel_status():
        return False
    sys.path.insert(0, str(ACCEL_DIR))
    return True


def checker_build() -> str:
    """``compiled`` or ``pure``: which build of the linearizability checker
    this process runs (without importing the simulator, as ``build_name`` does)."""
    import checkers.linearizability.history as history

    return "pure" if history.__file__.endswith(".py") else "compiled"


def build_name() -> str:
    """``compiled`` or ``pure``: which build this process runs."""
    return "compiled" if core_is_compiled() else "pure"
