"""What the HTTP API needs from a replicated store: the ``KVService`` protocol.

The HTTP layer (``kv.httpapi.app``) validates requests and turns results and
errors into responses; everything behind it -- replication, sessions,
leadership -- is a ``KVService``. raftlab's node runtime, the single-node
in-process store (``kv.httpapi.local``) and the PySyncObj peer
(``kv.reference``) each implement it, so one piece of HTTP code serves all of
them. Errors are typed so that the HTTP layer can say exactly what a client
may conclude: whether a write may have been applied is part of every error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(slots=True, frozen=True)
class Session:
    """A write's client id and sequence number; client 0 means no session.

    The state machine's session table applies each (client, seq) at most
    once, so a client retries with the same pair (see kv/statemachine.py).
    """

    client: int = 0
    seq: int = 0


NO_SESSION = Session()


@dataclass(slots=True, frozen=True)
class CasOutcome:
    """``swapped`` is False when the current value was not the expected one;
    ``value`` is then the current value, else the new one."""

    swapped: bool
    value: str | None


@dataclass(slots=True, frozen=True)
class Health:
    """What ``/healthz`` reports; ``ready`` = this node can serve requests now."""

    ready: bool
    role: str
    leader: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class ServiceError(Exception):
    """Base of the errors a service raises; each maps to one HTTP answer.

    ``outcome_unknown`` is True when a write may have been applied (or may
    still be): the client must retry with the same session or record the
    operation as indeterminate.
    """

    code = "internal"
    status = 500
    outcome_unknown = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotLeader(ServiceError):
    """This node is not the leader; ``leader`` is the leader's HTTP base URL
    (``http://host:port``) or None when no leader is known."""

    code = "not_leader"
    status = 503

    def __init__(self, leader: str | None, message: str = "") -> None:
        super().__init__(message or f"not the leader; leader is {leader or 'unknown'}")
        self.leader = leader


class Timeout(ServiceError):
    """No answer in time; ``outcome_unknown`` says whether it may have applied."""

    code = "timeout"
    status = 503

    def __init__(self, message: str, *, outcome_unknown: bool) -> None:
        super().__init__(message)
        self.outcome_unknown = outcome_unknown


class Unavailable(ServiceError):
    """The request was not submitted (no quorum, queue full): nothing applied."""

    code = "unavailable"
    status = 503


class StaleRequest(ServiceError):
    """The sequence number is older than the session's latest request: it was
    not executed now, and its earlier result (if any) is no longer known."""

    code = "stale_sequence"
    status = 409
    outcome_unknown = True


@runtime_checkable
class KVService(Protocol):
    """A replicated key-value store as the HTTP API sees it.

    Writes return only once applied. Reads are linearizable unless ``stale``
    is set, in which case a replica may answer from its local state.
    """

    async def put(self, key: str, value: str, session: Session) -> None: ...

    async def get(self, key: str, *, stale: bool = False) -> str | None: ...

    async def delete(self, key: str, session: Session) -> str | None:
        """Remove ``key``; returns the value it had (None if absent)."""
        ...

    async def cas(
        self, key: str, expected: str | None, new: str | None, session: Session
    ) -> CasOutcome:
        """Set ``key`` to ``new`` (None deletes) iff its value is ``expected``
        (None = absent)."""
        ...

    async def list(
        self,
        *,
        start: str = "",
        end: str | None = None,
        prefix: str | None = None,
        limit: int = 0,
        stale: bool = False,
    ) -> list[tuple[str, str]]:
        """Pairs in key order: with ``prefix`` the keys starting with it, else
        ``start <= key < end``; at most ``limit`` if positive."""
        ...

    def health(self) -> Health: ...
