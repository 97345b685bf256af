"""Writes of a ``KVService`` as commands through a replicated log.

Every store behind the HTTP API that replicates ``kv.commands`` through a log
and applies them with ``KVStateMachine`` (the single-node store, the PySyncObj
peer, later raftlab's node runtime) turns put/delete/cas into the same
commands and their results into the same answers. That translation lives
here once; a backend only supplies ``submit`` (append, wait until applied,
return the state machine's result) and its reads.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from kv.commands import Command, encode_command
from kv.httpapi.service import CasOutcome, Health, Session, StaleRequest
from kv.statemachine import KVStateMachine, Result


class LogService(ABC):
    """A ``KVService`` whose writes are ``kv.commands`` applied by a
    ``KVStateMachine`` (so the session table makes retries exactly-once)."""

    @abstractmethod
    async def submit(self, text: str) -> Result | None:
        """Replicate the encoded command, wait until it is applied here and
        return what ``KVStateMachine.apply`` returned (None: stale session).
        Raise a ``ServiceError`` when it cannot."""

    @abstractmethod
    async def get(self, key: str, *, stale: bool = False) -> str | None: ...

    @abstractmethod
    async def list(
        self,
        *,
        start: str = "",
        end: str | None = None,
        prefix: str | None = None,
        limit: int = 0,
        stale: bool = False,
    ) -> list[tuple[str, str]]: ...

    @abstractmethod
    def health(self) -> Health: ...

    async def submit_command(self, cmd: Command) -> Result | None:
        """``submit`` for a command not yet encoded (a backend that takes
        commands as they are overrides this)."""
        return await self.submit(encode_command(cmd))

    async def _write(self, cmd: Command) -> Result:
        result = await self.submit_command(cmd)
        if result is None:
            raise StaleRequest(
                f"sequence {cmd.seq} of client {cmd.client} is older than its latest request"
            )
        return result

    async def put(self, key: str, value: str, session: Session) -> None:
        await self._write(Command("put", key, value, session.client, session.seq))

    async def delete(self, key: str, session: Session) -> str | None:
        result = await self._write(Command("delete", key, None, session.client, session.seq))
        return result.value

    async def cas(
        self, key: str, expected: str | None, new: str | None, session: Session
    ) -> CasOutcome:
        cmd = Command("cas", key, [expected, new], session.client, session.seq)
        result = await self._write(cmd)
        return CasOutcome(result.ok, result.value)


def list_pairs(
    sm: KVStateMachine, start: str, end: str | None, prefix: str | None, limit: int
) -> list[tuple[str, str]]:
    """A listing read from a state machine, as ``KVService.list`` defines it.

    Keys starting with NUL are raftlab's own (kv/members.py) and never
    listed: they all sort below ``"\x01"``.
    """
    if prefix:
        return [] if prefix[0] == "\x00" else sm.prefix(prefix, limit)
    return sm.range(max(start, "\x01"), end, limit)
