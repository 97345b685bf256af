"""Where the tests find Quint (npm @informalsystems/quint), which they run
when this machine has it and skip otherwise."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: Where ``make quint`` installs it (``make test`` does so when npm is present).
BUILT = Path(__file__).resolve().parents[1] / "build" / "quint" / "node_modules" / ".bin" / "quint"


def quint() -> str | None:
    """The quint command: $QUINT, quint on the PATH, or ``make quint``'s; None if none."""
    found = os.environ.get("QUINT") or shutil.which("quint")
    return found or (str(BUILT) if BUILT.exists() else None)
