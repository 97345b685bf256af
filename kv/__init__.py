"""The key-value service built on the Raft core.

The replicated state machine and its command encoding (shared by the
simulator and the real node process), and the node's durable storage: a
segmented write-ahead log (``kv.wal``, records in ``kv.walrecords``, group
commit in ``kv.groupcommit``) and atomic snapshot files (``kv.snapshots``).
See docs/storage.md for the on-disk layout.
"""

from kv.commands import Command, CommandError, decode_command, encode_command
from kv.statemachine import (
    SNAPSHOT_VERSION,
    KVStateMachine,
    Result,
    SessionCheck,
    SnapshotError,
)

__all__ = [
    "SNAPSHOT_VERSION",
    "Command",
    "CommandError",
    "KVStateMachine",
    "Result",
    "SessionCheck",
    "SnapshotError",
    "decode_command",
    "encode_command",
]
