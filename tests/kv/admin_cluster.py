"""A real admin backend for tests: actual RaftCores, in-memory delivery.

Not the node runtime. ``CoreCluster`` wraps ``tests.harness.Harness`` (a
synchronous cluster of ``consensus.RaftCore`` with an in-memory mailbox) and
gives every node a ``CoreBackend`` implementing ``kv.admin.AdminBackend``
from that node's core: status is ``kv.admin.core_status`` of the core,
changes are ``ProposeConfChange`` inputs driven (tick and deliver) until the
leader applies them, transfers are ``TransferLeader`` inputs driven until the
target leads. Faults are ``kv.netfaults.FaultTable``s per node; their
blocks cut the harness's delivery, so a blocked link really carries nothing
(drop and delay are stored and reported but not simulated here).

``AdminFixture`` runs one admin server per node on an event loop in a
background thread (the servers are grpc.aio, the tests use the blocking
client), bound to 127.0.0.1 on free ports, and stops them all at the end.
Everything that touches the cores runs on that loop's thread.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

import grpc

from consensus import Accepted, ConfChange, Refused, Role
from consensus.confchange import apply_change
from kv.admin import (
    AdminClient,
    ChangeResult,
    NodeAddress,
    NodeStatus,
    NotLeaderError,
    OutcomeUnknownError,
    RefusedError,
    TransferResult,
    core_status,
    serve,
)
from kv.netfaults import FaultTable, LinkFaults
from tests.harness import Harness

T = TypeVar("T")

#: Ticks a backend drives the cluster before it answers "outcome unknown".
DRIVE_TICKS = 60


class CoreCluster:
    def __init__(self, voters: tuple[int, ...] = (1, 2, 3), seed: int = 1) -> None:
        self.h = Harness(voters, seed=seed)
        self.directory: dict[int, NodeAddress] = {}
        self.faults: dict[int, FaultTable] = {
            n: FaultTable(random.Random(n)) for n in sorted(self.h.cores)
        }
        self.h.elect(voters[0])

    def backend(self, node: int) -> CoreBackend:
        return CoreBackend(self, node)

    def drive(self, done: Callable[[], bool], max_ticks: int = DRIVE_TICKS) -> bool:
        """Deliver, then tick every node and deliver, until ``done`` (False if not reached)."""
        self.h.stabilize()
        for _ in range(max_ticks):
            if done():
                return True
            self.round()
        return done()

    def round(self) -> None:
        """One tick on every node, then deliver everything deliverable."""
        self.h.tick_all()
        self.h.stabilize()

    def start(self, node: int) -> None:
        """A brand-new node joins (empty; it learns the configuration from a snapshot)."""
        if node not in self.h.cores:
            self.h.add_node(node)
            self.faults[node] = FaultTable(random.Random(node))

    def apply_cuts(self) -> None:
        cuts: set[tuple[int, int]] = set()
        for node, table in sorted(self.faults.items()):
            for peer, link in table.snapshot().items():
                if link.block_out:
                    cuts.add((node, peer))
                if link.block_in:
                    cuts.add((peer, node))
        self.h.cuts = cuts

    def admin_of(self, node: int) -> str:
        address = self.directory.get(node)
        return address.admin if address else ""


class CoreBackend:
    """``kv.admin.AdminBackend`` for one node of a ``CoreCluster``."""

    def __init__(self, cluster: CoreCluster, node: int) -> None:
        self.cluster = cluster
        self.node = node

    def _leader_core(self) -> Any:
        core = self.cluster.h.cores[self.node]
        if core.role is not Role.LEADER:
            raise NotLeaderError(core.lead, self.cluster.admin_of(core.lead))
        return core

    async def status(self) -> NodeStatus:
        core = self.cluster.h.cores[self.node]
        return core_status(core, self.cluster.directory, self.cluster.faults[self.node].snapshot())

    async def propose_change(
        self, change: ConfChange, addresses: Mapping[int, NodeAddress]
    ) -> ChangeResult:
        core = self._leader_core()
        cluster = self.cluster
        cluster.directory.update(addresses)
        for node in sorted(addresses):
            cluster.start(node)
        # The leader accepts a change only once the previous one is applied,
        # so this is the configuration the entry changes.
        installs = apply_change(core.membership, change)
        effects = cluster.h.propose_conf(self.node, change)
        for effect in effects:
            if isinstance(effect, Refused):
                raise RefusedError(effect.reason)
        accepted = next(e for e in effects if isinstance(e, Accepted))
        if not cluster.drive(lambda: core.log.applied >= accepted.index):
            raise OutcomeUnknownError(
                f"configuration entry {accepted.index} not applied after {DRIVE_TICKS} ticks"
            )
        return ChangeResult(accepted.index, accepted.term, installs)

    async def transfer_leader(self, target: int) -> TransferResult:
        self._leader_core()
        cluster = self.cluster
        for effect in cluster.h.transfer(self.node, target):
            if isinstance(effect, Refused):
                raise RefusedError(effect.reason)
        target_core = cluster.h.cores[target]
        if not cluster.drive(lambda: target_core.role is Role.LEADER):
            raise OutcomeUnknownError(f"node {target} did not take over in {DRIVE_TICKS} ticks")
        return TransferResult(target, target_core.term)

    def set_faults(self, peer: int, faults: LinkFaults) -> None:
        self.cluster.faults[self.node].set(peer, faults)
        self.cluster.apply_cuts()

    def heal(self) -> None:
        self.cluster.faults[self.node].heal()
        self.cluster.apply_cuts()


class AdminFixture:
    """A ``CoreCluster`` with an admin server per node, on a loop thread."""

    def __init__(self, voters: tuple[int, ...] = (1, 2, 3)) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.servers: dict[int, grpc.aio.Server] = {}
        self.clients: list[AdminClient] = []
        self.cluster: CoreCluster = self.call(lambda: CoreCluster(voters))
        for node in voters:
            self.start_server(node)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the loop thread, where the cores live."""

        async def wrapped() -> T:
            return fn()

        return self.run(wrapped())

    def start_server(self, node: int) -> str:
        server, port = self.run(serve(self.cluster.backend(node), "127.0.0.1", 0))
        self.servers[node] = server
        admin = f"127.0.0.1:{port}"
        # The fixture has no transport: peer addresses are names only.
        self.call(
            lambda: self.cluster.directory.__setitem__(node, NodeAddress(f"peer-{node}:1", admin))
        )
        return admin

    def address(self, node: int) -> str:
        return self.cluster.directory[node].admin

    def client(self, node: int, **options: Any) -> AdminClient:
        client = AdminClient(self.address(node), **options)
        self.clients.append(client)
        return client

    def wait(self, done: Callable[[], bool], rounds: int = 200) -> None:
        """Tick and deliver (on the loop thread) until ``done`` holds."""
        for _ in range(rounds):
            if done():
                return
            self.call(self.cluster.round)
        assert done(), "condition not reached"

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for server in self.servers.values():
            self.run(server.stop(None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
