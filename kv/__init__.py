"""The key-value service built on the Raft core.

So far: the replicated state machine and its command encoding, shared by the
simulator and (later) the real node process.
"""

from kv.commands import Command, CommandError, decode_command, encode_command
from kv.statemachine import KVStateMachine, Result

__all__ = [
    "Command",
    "CommandError",
    "KVStateMachine",
    "Result",
    "decode_command",
    "encode_command",
]
