"""What Raft stores: log entries, snapshots and the hard state.

These are the values that cross the core's boundary in both directions (in
messages, in persistence effects, in restored state), so they are immutable.
Entry payloads are text: the KV commands are compact JSON, and keeping them as
``str`` keeps traces readable without a second encoding.

``HardState``, built on every step, writes its ``__init__`` out instead of
letting ``dataclass`` generate it. It does the same (a frozen dataclass sets
its fields with ``object.__setattr__``), but when mypyc compiles this module
(``make accel``) a generated ``__init__`` stays interpreted and costs about
fifteen times as much as a written one, which is compiled.
tests/consensus/test_inits.py keeps each written ``__init__`` equal to its
class's fields, in order and with their defaults.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from consensus.confchange import ConfChange
from consensus.membership import Membership


@dataclass(slots=True, frozen=True)
class Entry:
    """One log entry. ``conf`` is set for configuration changes; an entry with
    neither data nor conf is the no-op a new leader appends."""

    index: int
    term: int
    data: str = ""
    conf: ConfChange | None = None

    @property
    def size(self) -> int:
        """Approximate encoded size, for batching limits."""
        return len(self.data) + (32 if self.conf is not None else 0) + 16

    def content_crc(self) -> int:
        """CRC-32 of the payload; chained into the log hash and used by checkers."""
        body = self.data if self.conf is None else "conf:" + self.conf.describe()
        return zlib.crc32(body.encode())


def chain_hash(previous: int, term: int, content_crc: int) -> int:
    """Hash of a log prefix from the previous prefix hash and the next entry.

    Two logs with equal chain hashes at an index agree on every entry up to it
    (up to CRC collisions), which is Log Matching made cheap to compare.
    """
    return zlib.crc32(b"%d:%d" % (term, content_crc), previous)


@dataclass(slots=True, frozen=True)
class Snapshot:
    """State-machine state at ``index`` plus what the log needs to continue
    after it: the last included term, the membership at that point and the
    chain hash of the compacted prefix."""

    index: int
    term: int
    membership: Membership
    data: str = ""
    log_hash: int = 0


@dataclass(slots=True, frozen=True)
class HardState:
    """What must survive a crash besides the log. ``vote`` 0 means none."""

    term: int = 0
    vote: int = 0
    commit: int = 0

    def __init__(self, term: int = 0, vote: int = 0, commit: int = 0) -> None:
        # Written out for the compiled build: see the module docstring.
        object.__setattr__(self, "term", term)
        object.__setattr__(self, "vote", vote)
        object.__setattr__(self, "commit", commit)
