"""A single-node, in-process ``KVService`` over ``KVStateMachine``.

It has no replication: a write is "committed" when it is appended to its
one-node log and applied at once, and a read is linearizable because there
is no other replica. It serves tests of the HTTP layer and the client
against a real state machine (real sessions, real results), and is what a
one-node store would be.
"""

from __future__ import annotations

from kv.httpapi.logservice import LogService, list_pairs
from kv.httpapi.service import Health
from kv.statemachine import KVStateMachine, Result


class LocalService(LogService):
    def __init__(self, sm: KVStateMachine | None = None) -> None:
        self.sm = sm if sm is not None else KVStateMachine()
        #: the one-node log: every submitted command, in order
        self.log: list[str] = []

    async def submit(self, text: str) -> Result | None:
        self.log.append(text)
        return self.sm.apply(len(self.log), text)

    async def get(self, key: str, *, stale: bool = False) -> str | None:
        return self.sm.read(key)

    async def list(
        self,
        *,
        start: str = "",
        end: str | None = None,
        prefix: str | None = None,
        limit: int = 0,
        stale: bool = False,
    ) -> list[tuple[str, str]]:
        return list_pairs(self.sm, start, end, prefix, limit)

    def health(self) -> Health:
        return Health(ready=True, role="leader", details={"applied": self.sm.applied})
