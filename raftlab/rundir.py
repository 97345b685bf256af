"""Run directories: each ``raftlab run`` in a directory of its own.

By default a run goes to ``runs/<UTC time>-seed<S>-<faults>-n<N>/`` and
``runs/latest`` (a symbolic link) names the newest. A run is built in a
hidden staging directory beside its final place and renamed into place only
when every file is written, so an interrupted run leaves the staging
directory (named in the error) and never a mix of old and new files: the
previous run, and ``latest``, are untouched.

``--out-dir DIR`` names the directory instead. It may be new, empty, or hold
an earlier run (only the files a run writes), which is then replaced as a
whole; anything else is refused rather than mixed into.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from raftlab.outputs import OutputError, check_output_dir

#: The files a run directory holds: a directory with only these is a run.
RUN_FILES = frozenset(
    {"trace.jsonl", "trace.jsonl.gz", "history.jsonl", "linearizability.html", "report.md"}
)

LATEST = "latest"


@dataclass(slots=True, frozen=True)
class RunDir:
    final: Path
    """Where the run's files end up."""
    staging: Path
    """Where they are written first."""
    base: Path | None
    """The directory holding ``latest`` (None with ``--out-dir``)."""


def _staging_beside(final: Path) -> Path:
    return final.with_name(f".{final.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")


def run_name(seed: int, faults: str, nodes: int, now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-seed{seed}-{faults}-n{nodes}"


def plan(out_dir: Path | None, name: str, base: Path = Path("runs")) -> RunDir:
    """Check where the run may go (``OutputError`` if it may not) and name
    its staging directory. Nothing is created yet."""
    if out_dir is None:
        check_output_dir(base, "runs directory")
        latest = base / LATEST
        if latest.exists() and not latest.is_symlink():
            raise OutputError(f"{latest} exists and is not a link; move it away")
        final = _free_name(base / name)
        return RunDir(final, _staging_beside(final), base)
    check_output_dir(out_dir, "--out-dir")
    if out_dir.is_dir():
        foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in RUN_FILES)
        if foreign:
            raise OutputError(
                f"--out-dir: {out_dir} holds files a run does not write "
                f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}); "
                "give a new or empty directory"
            )
    return RunDir(out_dir, _staging_beside(out_dir), None)


def create(run: RunDir) -> None:
    run.staging.mkdir(parents=True)


def publish(run: RunDir) -> Path:
    """Move the finished run into place (replacing an earlier run in an
    ``--out-dir`` as a whole) and point ``latest`` at it."""
    final = run.final
    if run.base is not None:
        final = _free_name(final)
        os.rename(run.staging, final)
        _point_latest(run.base, final.name)
        return final
    old = None
    if final.exists():
        old = _staging_beside(final).with_suffix(".old")
        os.rename(final, old)
    os.rename(run.staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


def _free_name(final: Path) -> Path:
    """``final``, or ``final-2``, ``final-3``... if a run of the same second
    took it."""
    candidate, n = final, 1
    while candidate.exists():
        n += 1
        candidate = final.with_name(f"{final.name}-{n}")
    return candidate


def _point_latest(base: Path, name: str) -> None:
    """Replace ``base/latest`` atomically with a relative link to ``name``."""
    link = base / LATEST
    temporary = base / f".{LATEST}.{os.getpid()}-{secrets.token_hex(4)}"
    os.symlink(name, temporary)
    os.replace(temporary, link)


def discard(run: RunDir) -> None:
    """Remove the staging directory of a run that failed before it had
    anything worth keeping."""
    shutil.rmtree(run.staging, ignore_errors=True)
