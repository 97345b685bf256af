"""A local PySyncObj peer cluster: one OS process per node on 127.0.0.1.

``start_cluster(workdir)`` picks free ports for PySyncObj (each node must
know every peer's address before it starts, so these are chosen here: bound
to port 0 all at once, read, released), lets each node's HTTP API take its
own free port (read from the node's ``listening`` line), and returns when
every node reports the same leader on ``/healthz``. ``stop()`` ends every
process by its PID: SIGTERM, then SIGKILL after a grace period. Node logs
go to ``workdir``; nothing else is written.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from kv.addresses import free_ports
from kv.processes import healthz, listening_url, stop_processes


class ClusterError(RuntimeError):
    """The cluster did not come up (the message names the node and its log)."""


@dataclass(slots=True)
class PeerNode:
    raft: str  #: PySyncObj's HOST:PORT
    url: str  #: the HTTP API's base URL
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


class PySyncObjCluster:
    def __init__(self, nodes: list[PeerNode]) -> None:
        self.nodes = nodes

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def health(self, node: PeerNode, timeout: float = 1.0) -> dict[str, object] | None:
        return healthz(node.url, timeout)

    def wait_ready(self, timeout: float = 30.0) -> str:
        """Wait until every node names the same leader; returns its raft address."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            seen = [self.health(n) for n in self.nodes]
            leaders = {None if h is None else h.get("raft_leader") for h in seen}
            ready = all(h is not None and h.get("ready") for h in seen)
            if ready and len(leaders) == 1:
                return str(leaders.pop())
            time.sleep(0.05)  # polling interval of a condition wait, not a fixed wait
        raise ClusterError(
            f"no common leader within {timeout}s; logs in {self.nodes[0].log.parent}"
        )

    def _check_alive(self) -> None:
        for n in self.nodes:
            if n.process.poll() is not None:
                raise ClusterError(f"node {n.raft} exited with {n.process.returncode}; see {n.log}")

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM every node by PID, wait, SIGKILL what is left."""
        stop_processes((n.process for n in self.nodes), grace)

    def __enter__(self) -> PySyncObjCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_cluster(
    workdir: Path,
    size: int = 3,
    *,
    ready_timeout: float = 30.0,
    batch: bool = False,
    node_args: tuple[str, ...] = (),
) -> PySyncObjCluster:
    """Start ``size`` nodes, wait for a common leader, return the cluster.

    ``node_args`` are passed on to every node (``python -m
    kv.reference.pysyncobj_server --help``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    addrs = [f"127.0.0.1:{p}" for p in free_ports(size)]
    nodes: list[PeerNode] = []
    cluster = PySyncObjCluster(nodes)
    try:
        for addr in addrs:
            peers = [x for a in addrs if a != addr for x in ("--peer", a)]
            log = workdir / f"pysyncobj-{addr.replace(':', '-')}.log"
            cmd = [sys.executable, "-m", "kv.reference.pysyncobj_server", "--raft", addr, *peers]
            if batch:
                cmd.append("--batch")
            cmd.extend(node_args)
            with log.open("wb") as err:
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, cwd=workdir)
            nodes.append(PeerNode(addr, "", proc, log))
        for n in nodes:
            n.url = listening_url(n.process, ready_timeout, f"node {n.raft}", n.log, ClusterError)
        cluster.wait_ready(ready_timeout)
    except BaseException:
        cluster.stop()
        raise
    return cluster
