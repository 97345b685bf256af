"""The key-value service built on the Raft core.

The replicated state machine and its command encoding (shared by the
simulator and the real node process), and the node's durable storage: a
segmented write-ahead log (``kv.wal``, records in ``kv.walrecords``, group
commit in ``kv.groupcommit``) and atomic snapshot files (``kv.snapshots``).
See docs/storage.md for the on-disk layout. The node runtime that carries out
a core's effects for both the simulator and the server is ``kv.runtime``
(its ports in ``kv.ports``; import them from there, they are not re-exported
here).
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
