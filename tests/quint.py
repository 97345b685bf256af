"""Where the tests find Quint (npm @informalsystems/quint), which they run
when this machine has it and skip otherwise."""

from __future__ import annotations

import os
import shutil
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
