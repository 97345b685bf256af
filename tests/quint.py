"""Where the tests find Quint (npm @informalsystems/quint), which they run
when this machine has it and skip otherwise."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

#: Where ``make quint`` installs it (``make test`` does so when npm is present),
#: and the stamp it leaves once the install has finished.
BUILD = Path(__file__).resolve().parents[1] / "build" / "quint"
BUILT = BUILD / "node_modules" / ".bin" / "quint"


def quint() -> str | None:
    """The quint command: $QUINT, quint on the PATH, or ``make quint``'s (only
    a finished install: a failed one may leave a broken command); None if none."""
    found = os.environ.get("QUINT") or shutil.which("quint")
    return found or (str(BUILT) if (BUILD / ".installed").exists() else None)


def run_quint(model: Path, out: Path, steps: int) -> None:
    """``quint run`` on ``model`` (seed 7, one sample of ``steps`` steps, the
    TypeScript backend, which needs no download), its ITF trace to ``out``;
    AssertionError with Quint's output if it fails."""
    command = [str(quint()), "run", "--backend=typescript", "--max-samples=1"]
    command += [f"--max-steps={steps}", "--seed=7", f"--out-itf={out}", str(model)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=out.parent)
    assert done.returncode == 0, done.stdout + done.stderr
