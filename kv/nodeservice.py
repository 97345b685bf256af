"""A node's client and admin APIs, answered by its node runtime.

``NodeService`` is the ``KVService`` the HTTP API serves and the
``AdminBackend`` the gRPC API serves, for one raftlab node. It adds nothing
to replication: writes go to ``NodeRuntime.propose`` (which answers when the
entry applies, with the session table making retries exactly-once), reads to
``NodeRuntime.read`` (ReadIndex, answered once applied far enough), changes
to ``NodeRuntime.propose_conf``. What is here is translation: the runtime's
``Reply`` into results and typed errors, node ids into the addresses clients
and operators can use, and waiting (with a timeout) for what the runtime
reports later, such as a transfer finishing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from consensus import ConfChange, Role
from consensus.records import Entry
from kv.admin.values import (
    AdminBackend,
    ChangeResult,
    NodeAddress,
    NodeStatus,
    NotLeaderError,
    OutcomeUnknownError,
    RefusedError,
    TransferResult,
    core_status,
)
from kv.commands import Command, decode_command
from kv.httpapi.logservice import LogService, list_pairs
from kv.httpapi.service import Health, NotLeader, Timeout, Unavailable
from kv.members import member_command
from kv.netfaults import LinkFaults
from kv.ports import OK, REDIRECT, RETRY, Reply
from kv.runtime import NodeRuntime
from kv.statemachine import KVStateMachine, Result


class NodeHost(Protocol):
    """What the service needs from the node process (kv/server.py)."""

    runtime: NodeRuntime

    def members(self) -> dict[int, NodeAddress]: ...

    def faults(self) -> dict[int, LinkFaults]: ...

    def set_faults(self, peer: int, faults: LinkFaults) -> None: ...

    def heal(self) -> None: ...

    def settle(self) -> None: ...

    async def wait_for(self, condition: Callable[[], bool], timeout: float) -> bool: ...


class NodeService(LogService, AdminBackend):
    """See the module docstring. ``change_timeout`` bounds how long an admin
    request waits for its entry to apply or its transfer to finish."""

    def __init__(self, host: NodeHost, change_timeout: float = 10.0) -> None:
        self.host = host
        self.change_timeout = change_timeout

    # -- asking the runtime ------------------------------------------------------

    async def _ask(self, start: Callable[[asyncio.Future[Reply]], None]) -> Reply:
        """Hand the runtime a future as the request token and await its reply."""
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        if self.host.runtime.core is None:
            raise Unavailable("this node is not running its Raft core")
        start(future)
        self.host.settle()
        return await future

    def _leader_url(self, leader: int) -> str | None:
        address = self.host.members().get(leader)
        return address.http or None if address is not None else None

    def _not_leader(self, reply: Reply) -> NotLeader:
        return NotLeader(self._leader_url(reply.leader))

    # -- KVService -----------------------------------------------------------------

    async def submit(self, text: str) -> Result | None:
        """An encoded command, as every ``LogService`` takes one; the runtime
        proposes decoded commands, so this decodes and forwards."""
        return await self.submit_command(decode_command(text))

    async def submit_command(self, cmd: Command) -> Result | None:
        runtime = self.host.runtime
        reply = await self._ask(lambda f: runtime.propose(cmd, f))
        if reply.status == OK:
            return Result(reply.ok, reply.value)  # type: ignore[arg-type]
        if reply.status == REDIRECT:
            raise self._not_leader(reply)
        if reply.status == RETRY:
            raise Unavailable(
                "the leader changed before the write committed; it had no effect, retry it"
            )
        if reply.value is None:
            return None  # the session table moved past it: StaleRequest
        raise Timeout(f"outcome unknown: {reply.value}", outcome_unknown=True)

    async def _read(self, query: str | Callable[[KVStateMachine], Any]) -> Any:
        runtime = self.host.runtime
        reply = await self._ask(lambda f: runtime.read(query, f))
        if reply.status == OK:
            return reply.value
        if reply.status == REDIRECT:
            raise self._not_leader(reply)
        raise Unavailable("the read could not be confirmed (a snapshot arrived); retry it")

    async def get(self, key: str, *, stale: bool = False) -> str | None:
        if stale:
            return self._local().read(key)
        value: str | None = await self._read(key)
        return value

    async def list(
        self,
        *,
        start: str = "",
        end: str | None = None,
        prefix: str | None = None,
        limit: int = 0,
        stale: bool = False,
    ) -> list[tuple[str, str]]:
        def listing(sm: KVStateMachine) -> list[tuple[str, str]]:
            return list_pairs(sm, start, end, prefix, limit)

        if stale:
            return listing(self._local())
        pairs: list[tuple[str, str]] = await self._read(listing)
        return pairs

    def _local(self) -> KVStateMachine:
        if self.host.runtime.core is None:
            raise Unavailable("this node is not running its Raft core")
        return self.host.runtime.sm

    def health(self) -> Health:
        core = self.host.runtime.core
        if core is None:
            return Health(False, "down")
        leader = self._leader_url(core.lead) if core.lead else None
        details = {
            "node": core.id,
            "term": core.term,
            "leader_id": core.lead,
            "commit": core.log.committed,
            "applied": self.host.runtime.sm.applied,
        }
        return Health(bool(core.lead), core.role.value, leader, details)

    # -- AdminBackend --------------------------------------------------------------

    async def status(self) -> NodeStatus:
        core = self.host.runtime.core
        if core is None:
            raise RefusedError("this node is not running its Raft core")
        return core_status(core, self.host.members(), self.host.faults())

    def _require_leader(self) -> None:
        core = self.host.runtime.core
        if core is None or core.role is not Role.LEADER:
            lead = core.lead if core is not None else 0
            address = self.host.members().get(lead)
            raise NotLeaderError(lead, address.admin if address else "")

    async def propose_change(
        self, change: ConfChange, addresses: Mapping[int, NodeAddress]
    ) -> ChangeResult:
        """Record the addresses of the nodes the change adds, then propose
        the change; answers once its entry applied here."""
        self._require_leader()
        try:
            async with asyncio.timeout(self.change_timeout):
                for node, address in sorted(addresses.items()):
                    await self._write(member_command(node, address))
                runtime = self.host.runtime
                reply = await self._ask(lambda f: runtime.propose_conf(change, f))
        except TimeoutError:
            raise OutcomeUnknownError(
                f"{change.describe()} was not seen to apply within {self.change_timeout:g} s"
            ) from None
        except (NotLeader, Unavailable) as err:
            raise OutcomeUnknownError(f"leadership changed during the change: {err}") from None
        if reply.status == REDIRECT:
            core = self.host.runtime.core
            if core is not None and core.role is Role.LEADER:
                raise RefusedError(f"the leader refused {change.describe()}: {reply.value}")
            self._require_leader()
        if reply.status != OK:
            raise OutcomeUnknownError(f"{change.describe()} was replaced by another entry")
        entry = reply.value
        assert isinstance(entry, Entry)
        core = self.host.runtime.core
        assert core is not None
        return ChangeResult(entry.index, entry.term, core.membership)

    async def transfer_leader(self, target: int) -> TransferResult:
        """Start the transfer, then wait until this node hears of ``target``
        leading (or the core gives up)."""
        self._require_leader()
        refused = self.host.runtime.transfer(target)
        self.host.settle()
        if refused is not None:
            raise RefusedError(f"the leader refused the transfer: {refused.reason}")

        def done() -> bool:
            core = self.host.runtime.core
            return core is not None and core.lead == target and core.role is not Role.LEADER

        if not await self.host.wait_for(done, self.change_timeout):
            raise OutcomeUnknownError(
                f"node {target} was not seen leading within {self.change_timeout:g} s"
            )
        core = self.host.runtime.core
        assert core is not None
        return TransferResult(target, core.term)

    def set_faults(self, peer: int, faults: LinkFaults) -> None:
        self.host.set_faults(peer, faults)

    def heal(self) -> None:
        self.host.heal()
