"""Hard limits on a check's wall time and memory.

The searches look at the clock every thousand steps, but one step can be
long (a big set of configurations to rebuild, a deep expansion), and a
search that keeps allocating can take the machine's memory long before its
configuration budget is reached: ``--timeout 60`` once ran 167 s and reached
3.7 GB.  So the time limit is also enforced from outside the search, by a
``SIGALRM`` timer that raises :class:`HardTimeout` wherever the search is,
and memory by an address-space limit (``RLIMIT_AS``) under which an
allocation past the limit raises :class:`MemoryError`.  Both are restored on
exit.  The timer needs the main thread (signals are delivered there), and is
not set when the caller already has one running; then only the searches' own
clock checks apply.
"""

from __future__ import annotations

import os
import resource
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: The timer fires this long after the deadline, so that the searches' own
#: (cheaper, cleaner) deadline checks normally answer first.
GRACE_S = 0.05


class HardTimeout(Exception):
    """The wall-time limit passed while a search was running."""


def timed_out(timeout: float) -> str:
    """The reason given for partitions left undecided by the time limit."""
    return f"timed out after {timeout:g} s"


@contextmanager
def wall_limit(deadline: float | None) -> Iterator[None]:
    """Raise :class:`HardTimeout` in this thread once ``deadline`` (monotonic) has passed."""
    if (
        deadline is None
        or not hasattr(signal, "setitimer")
        or signal.getitimer(signal.ITIMER_REAL)[0] > 0  # someone else's timer: leave it
    ):
        yield
        return

    def on_alarm(_signum: int, _frame: FrameType | None) -> None:
        raise HardTimeout

    try:
        previous = signal.signal(signal.SIGALRM, on_alarm)
    except ValueError:  # not the main thread (asking ``threading`` costs start-up)
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, max(1e-3, deadline - time.monotonic() + GRACE_S))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _address_space() -> int:
    """This process's current virtual size in bytes (0 when unknown)."""
    try:
        with open(f"/proc/{os.getpid()}/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@contextmanager
def memory_limit(megabytes: float | None) -> Iterator[None]:
    """Let this process (and the workers it forks) grow by at most ``megabytes``.

    The limit counts address space above what the process already uses, so
    the interpreter and the parsed history do not count against it.
    """
    if megabytes is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space() + int(megabytes * 2**20)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
