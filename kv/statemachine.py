"""The replicated KV state machine: a dict plus per-client sessions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from kv.commands import Command, CommandError, decode_command


@dataclass(slots=True, frozen=True)
class Result:
    """``ok`` is False only for a compare-and-set whose expectation failed."""

    ok: bool
    value: str | None = None


class KVStateMachine:
    __slots__ = ("applied", "data", "sessions")

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        #: client -> (last request number applied, its result)
        self.sessions: dict[int, tuple[int, Result]] = {}
        self.applied = 0

    def apply(self, index: int, text: str) -> Result | None:
        """Apply the entry at ``index``; None for entries that are not commands."""
        self.applied = index
        if not text:
            return None
        try:
            cmd = decode_command(text)
        except CommandError:
            return None  # garbage in the log is skipped identically everywhere
        if cmd.client:
            last = self.sessions.get(cmd.client)
            if last is not None and last[0] >= cmd.seq:
                return last[1] if last[0] == cmd.seq else None
        result = self.execute(cmd)
        if cmd.client:
            self.sessions[cmd.client] = (cmd.seq, result)
        return result

    def execute(self, cmd: Command) -> Result:
        data = self.data
        current = data.get(cmd.key)
        if cmd.op == "put":
            data[cmd.key] = cmd.value
            return Result(True, cmd.value)
        if cmd.op == "delete":
            data.pop(cmd.key, None)
            return Result(True, current)
        if cmd.op == "append":
            data[cmd.key] = (current or "") + cmd.value
            return Result(True, data[cmd.key])
        if cmd.op == "cas":
            expected, new = cmd.value
            if current != expected:
                return Result(False, current)
            if new is None:
                data.pop(cmd.key, None)
            else:
                data[cmd.key] = new
            return Result(True, new)
        return Result(True, current)  # get

    def read(self, key: str) -> str | None:
        return self.data.get(key)

    def snapshot(self) -> str:
        body: dict[str, Any] = {
            "applied": self.applied,
            "data": self.data,
            "sessions": {
                str(c): [seq, r.ok, r.value] for c, (seq, r) in sorted(self.sessions.items())
            },
        }
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()

    def restore(self, text: str, index: int) -> None:
        """Load a snapshot taken at log index ``index`` ("" = empty state)."""
        self.data, self.sessions, self.applied = {}, {}, index
        if not text:
            return
        body = orjson.loads(text)
        self.data = dict(body["data"])
        self.sessions = {
            int(c): (int(seq), Result(bool(ok), value))
            for c, (seq, ok, value) in body["sessions"].items()
        }
