"""The two ways a step can go wrong.

Following h11, errors are split by whose fault they are, because the caller
reacts differently: a ``CoreMisuse`` is a bug in the driver (fix the code), a
``PeerError`` is bad input from the network (drop the message, maybe alert).
Nothing else may escape ``RaftCore.step``; a fuzz test holds us to that.
"""

from __future__ import annotations

from collections.abc import Sequence


class RaftError(Exception):
    """Base class of every error the core raises on purpose."""


class CoreMisuse(RaftError):
    """The driver broke the core's contract (time went backwards, an ack for a
    write that was never asked for, compaction beyond the applied index...)."""


class PeerError(RaftError):
    """A message that no correct peer could have sent (a leader overwriting a
    committed entry, a malformed field). The bad part had no effect; whatever
    the step did before noticing it (at most adopting a newer term) is in
    ``effects``, which the driver must still carry out."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.effects: Sequence[object] = ()


class ConfChangeError(RaftError):
    """A configuration change that cannot be applied to the current membership."""
