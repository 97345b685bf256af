"""A local cluster: raftlab node processes on 127.0.0.1, started and steered by PID.

``LocalCluster.up(directory)`` picks free ports, writes the cluster file
(kv/clusterfile.py), starts one ``python -m kv.server`` process per node and
returns once the nodes agree on a leader. Everything about the cluster lives
in its directory -- the cluster file with every node's addresses and process
id, each node's data (``nN/``), log (``nN.log``) and traces (``traces/``) --
so that ``LocalCluster.load(directory)`` in a later command (``raftlab
cluster status``, ``kill``, ``add``...) finds it again.

Faults are carried out on the processes themselves (SIGKILL, SIGSTOP,
SIGCONT, a restart from disk) or, for the network, through each node's admin
API, which sets faults in the node's own transport: no root, no firewall,
no other addresses touched. Before signalling a recorded process id the
cluster checks that it still is that node's process (``/proc/PID/cmdline``),
so a reused id is never signalled. Every step that must wait (a node ready,
a leader elected, a learner caught up) waits on the condition with a
timeout and says which node it waited for and where its log is.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import orjson

from kv import clusterfile
from kv.addresses import free_ports
from kv.admin.values import NodeAddress, NodeStatus
from kv.clusterfile import ClusterFile, NodeEntry, election_config
from kv.netfaults import LinkFaults
from kv.processes import healthz

T = TypeVar("T")

#: How often a condition wait looks again.
POLL_S = 0.02
TRACE_DIR = "traces"


class ClusterError(RuntimeError):
    """The cluster did not do what was asked; the message names node and log."""


def wait_until(what: str, check: Callable[[], T | None], timeout: float) -> T:
    """Call ``check`` until it returns something other than None (or raises)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            raise ClusterError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(POLL_S)  # the polling interval of a condition wait


def _addresses(ports: list[int]) -> NodeAddress:
    peer, admin, http = ports
    return NodeAddress(f"127.0.0.1:{peer}", f"127.0.0.1:{admin}", f"http://127.0.0.1:{http}")


class LocalCluster:
    """A handle on a local cluster's directory; see the module docstring."""

    def __init__(self, directory: Path, spec: ClusterFile) -> None:
        self.directory = directory
        self.spec = spec
        #: Processes this handle started (so it can reap them).
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    # -- creating and finding ------------------------------------------------------

    @classmethod
    def up(
        cls,
        directory: Path,
        nodes: int = 3,
        *,
        election_ms: tuple[int, int] = (150, 300),
        trace_level: str = "state",
        fsync: bool = True,
        timeout: float = 30.0,
        tick_ms: float = 10.0,
        seed: int = 1,
        snapshot_every: int = 1000,
    ) -> LocalCluster:
        """Create the cluster in ``directory``, start ``nodes`` founders and
        wait for a leader; in a directory that holds a stopped cluster, start
        its nodes again instead (``resume_stopped``)."""
        if nodes < 1:
            raise ClusterError("a cluster needs at least 1 node")
        if trace_level not in clusterfile.TRACE_LEVELS:
            raise ClusterError(f"trace level must be one of {', '.join(clusterfile.TRACE_LEVELS)}")
        directory.mkdir(parents=True, exist_ok=True)
        if (directory / clusterfile.NAME).exists():
            return cls.load(directory).resume_stopped(timeout)
        ports = free_ports(3 * nodes)
        entries = {
            n: NodeEntry(n, _addresses(ports[3 * (n - 1) : 3 * n])) for n in range(1, nodes + 1)
        }
        spec = ClusterFile(
            name=f"raftlab-{os.getpid()}-{seed}",
            seed=seed,
            tick_ms=tick_ms,
            raft=election_config(election_ms, tick_ms),
            founders=tuple(entries),
            nodes=entries,
            fsync=fsync,
            trace_level=trace_level,
            snapshot_every=snapshot_every,
        )
        clusterfile.write(directory, spec)
        cluster = cls(directory, spec)
        try:
            for n in entries:
                cluster.start_node(n, wait=False)
            for n in entries:
                cluster.wait_node_ready(n, timeout)
            cluster.leader(timeout)
        except BaseException:
            cluster.down()
            raise
        return cluster

    @classmethod
    def load(cls, directory: Path) -> LocalCluster:
        return cls(directory, clusterfile.read(directory))

    def resume_stopped(self, timeout: float = 30.0) -> LocalCluster:
        """Start every node of a stopped cluster again, each from its disk
        (what ``up`` does in a directory that already holds a cluster: its
        settings and data are kept; the options given to ``up`` are not
        applied). A cluster with nodes still running is left alone."""
        running = [n for n in self.node_ids if self.alive(n)]
        if running:
            raise ClusterError(
                f"{self.directory} holds a running cluster (nodes "
                f"{', '.join(map(str, running))}); `raftlab cluster down --dir {self.directory}` "
                "stops it, or choose another --dir"
            )
        for node in self.node_ids:
            self.start_node(node, wait=False)
        for node in self.node_ids:
            self.wait_node_ready(node, timeout)
        self.leader(timeout)
        return self

    def _save(self) -> None:
        clusterfile.write(self.directory, self.spec)

    def _reload(self) -> None:
        self.spec = clusterfile.read(self.directory)

    # -- addresses -------------------------------------------------------------------

    @property
    def node_ids(self) -> list[int]:
        return sorted(self.spec.nodes)

    @property
    def http_urls(self) -> dict[int, str]:
        return {n: e.address.http for n, e in sorted(self.spec.nodes.items())}

    def log_path(self, node: int) -> Path:
        return self.directory / f"n{node}.log"

    def ready_path(self, node: int) -> Path:
        return self.directory / f"n{node}.ready"

    @property
    def trace_dir(self) -> Path:
        return self.directory / TRACE_DIR

    # -- processes ---------------------------------------------------------------------

    def pid(self, node: int) -> int:
        """The node's process id if that process is alive and is this node, else 0."""
        pid = self.spec.node(node).pid
        if pid <= 0:
            return 0
        child = self._children.get(node)
        if child is not None and child.pid == pid:
            # Our own child: its handle knows (and /proc may still show the
            # parent's command line between fork and exec).
            return pid if child.poll() is None else 0
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return 0
        if b"kv.server" not in cmdline or str(node).encode() not in cmdline:
            return 0
        state = proc_state(pid)
        return 0 if state in ("Z", "X", "") else pid

    def alive(self, node: int) -> bool:
        return self.pid(node) != 0

    def start_node(self, node: int, wait: bool = True, timeout: float = 30.0) -> int:
        """Start node ``node``'s process (it recovers from its directory)."""
        if self.alive(node):
            raise ClusterError(f"node {node} is already running (pid {self.pid(node)})")
        self.ready_path(node).unlink(missing_ok=True)
        with open(self.log_path(node), "ab") as log, open(self.ready_path(node), "wb") as ready:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "kv.server",
                    "--cluster",
                    str(self.directory),
                    "--id",
                    str(node),
                ],
                stdin=subprocess.DEVNULL,
                stdout=ready,
                stderr=log,
                start_new_session=True,  # a terminal's Ctrl-C is not for the nodes
                cwd=_project_root(),
            )
        self._children[node] = process
        self._reload()
        self.spec = self.spec.with_node(replace(self.spec.node(node), pid=process.pid))
        self._save()
        if wait:
            self.wait_node_ready(node, timeout)
        return process.pid

    def wait_node_ready(self, node: int, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for the node's ready line; a process that exits first is an
        error quoting the end of its log."""

        def ready() -> dict[str, Any] | None:
            text = self.ready_path(node).read_bytes() if self.ready_path(node).exists() else b""
            if text.endswith(b"\n"):
                parsed: dict[str, Any] = orjson.loads(text.splitlines()[0])
                return parsed
            if not self.alive(node):
                raise ClusterError(
                    f"node {node} exited before it was ready; {self.log_path(node)} ends:\n"
                    + _tail(self.log_path(node))
                )
            return None

        return wait_until(f"node {node} to start (log: {self.log_path(node)})", ready, timeout)

    def signal(self, node: int, sig: signal.Signals) -> int:
        pid = self.pid(node)
        if not pid:
            raise ClusterError(f"node {node} is not running")
        os.kill(pid, sig)
        return pid

    def kill(self, node: int) -> None:
        """SIGKILL: the process dies at once; what it had not fsynced is lost."""
        pid = self.signal(node, signal.SIGKILL)
        self._reap(node, pid)

    def pause(self, node: int) -> None:
        """SIGSTOP: the process freezes (timers, sockets and all) until resumed."""
        self.signal(node, signal.SIGSTOP)

    def resume(self, node: int) -> None:
        self.signal(node, signal.SIGCONT)

    def stop_node(self, node: int, grace: float = 10.0) -> None:
        """SIGTERM (a clean stop), SIGKILL if it has not exited after ``grace`` s."""
        self._stop([node], grace)

    def _stop(self, nodes: list[int], grace: float) -> None:
        """Clean stops of the running ``nodes``, in parallel: SIGCONT (a
        paused process cannot handle SIGTERM) and SIGTERM to each, then wait
        for each, SIGKILL after ``grace`` s, and reap it."""
        running = [(n, pid) for n in nodes if (pid := self.pid(n))]
        for _, pid in running:
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGTERM)
        for node, pid in running:
            try:
                wait_until(
                    f"node {node} to stop",
                    lambda node=node: True if not self.alive(node) else None,
                    grace,
                )
            except ClusterError:
                if self.alive(node):
                    os.kill(pid, signal.SIGKILL)
            self._reap(node, pid)

    def restart(self, node: int, timeout: float = 30.0) -> None:
        """Stop the node if it runs, then start it again from its disk."""
        self.stop_node(node)
        self.start_node(node, timeout=timeout)

    def _reap(self, node: int, pid: int) -> None:
        child = self._children.get(node)
        if child is not None and child.pid == pid:
            child.wait(10)
            del self._children[node]
        else:
            wait_until(
                f"node {node} (pid {pid}) to exit",
                lambda: True if not self.alive(node) else None,
                10,
            )

    def down(self) -> None:
        """Stop every node (clean stops, in parallel); the directory stays."""
        self._reload()
        self._stop(self.node_ids, 10.0)

    # -- asking the nodes ---------------------------------------------------------------

    def health(self, node: int, timeout: float = 1.0) -> dict[str, Any] | None:
        """The node's ``/healthz`` answer, None if it does not answer."""
        return healthz(self.spec.node(node).address.http, timeout)

    def leader(self, timeout: float = 10.0, among: Iterable[int] | None = None) -> int:
        """Wait until every running node (of ``among``) names the same leader,
        itself running, and return its id."""
        wanted = list(among) if among is not None else None

        def agreed() -> int | None:
            nodes = [n for n in (wanted or self.node_ids) if self.alive(n)]
            seen = [self.health(n) for n in nodes]
            leaders = {h.get("leader_id") if h else None for h in seen}
            if len(leaders) == 1:
                lead = leaders.pop()
                if isinstance(lead, int) and lead in nodes:
                    return lead
            return None

        return wait_until("the nodes to agree on a leader", agreed, timeout)

    def admin(self, node: int) -> Any:
        from kv.admin.client import AdminClient

        return AdminClient(self.spec.node(node).address.admin)

    def status(self, node: int) -> NodeStatus | None:
        if not self.alive(node):
            return None
        from kv.admin.values import AdminError

        try:
            with self.admin(node) as client:
                result: NodeStatus = client.status()
                return result
        except AdminError:
            return None

    # -- network faults, through the nodes' own transports --------------------------------

    def partition(self, groups: list[list[int]]) -> None:
        """Cut both directions between every pair of nodes in different groups;
        nodes in no group are cut off from everyone."""
        where = {n: i for i, group in enumerate(groups) for n in group}
        for n in self.node_ids:
            if not self.alive(n):
                continue
            cut = {
                p: LinkFaults(block_out=True, block_in=True)
                for p in self.node_ids
                if p != n and where.get(p, -1 - p) != where.get(n, -1 - n)
            }
            with self.admin(n) as client:
                client.set_faults(cut, heal=True)

    def heal(self) -> None:
        for n in self.node_ids:
            if self.alive(n):
                with self.admin(n) as client:
                    client.set_faults(heal=True)

    # -- membership -------------------------------------------------------------------------

    def add(self, *, learner_only: bool = False, max_lag: int = 10, timeout: float = 60.0) -> int:
        """Start a new node, add it as a learner, wait until it caught up (from
        the leader's replication progress) and, unless ``learner_only``,
        promote it to voter. Returns its id."""
        self._reload()
        node = max(self.spec.nodes, default=0) + 1
        entry = NodeEntry(node, _addresses(free_ports(3)))
        self.spec = self.spec.with_node(entry)
        self._save()
        self.start_node(node, timeout=timeout)
        lead = self.leader(timeout, among=[n for n in self.node_ids if n != node])
        with self.admin(lead) as client:
            client.add_learner(node, entry.address)

            def caught_up() -> bool | None:
                return True if client.caught_up(node, max_lag).caught_up else None

            wait_until(f"node {node} to catch up", caught_up, timeout)
            if not learner_only:
                client.promote(node)
        return node

    def remove(self, node: int, timeout: float = 30.0) -> None:
        """Remove ``node`` from the configuration (through the leader), then stop it."""
        lead = self.leader(timeout)
        with self.admin(lead) as client:
            client.remove_node(node)
        self.stop_node(node)
        self._reload()
        self.spec = self.spec.without_node(node)
        self._save()

    def transfer(self, target: int, timeout: float = 30.0) -> int:
        lead = self.leader(timeout)
        with self.admin(lead) as client:
            result = client.transfer_leader(target)
        return int(result.leader_id)


def proc_state(pid: int) -> str:
    """The process's state letter from ``/proc/PID/stat`` (``T`` stopped,
    ``Z`` zombie...), "" when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[0]


def _tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _project_root() -> str:
    """Where ``kv`` is importable from, so a node starts whatever the cwd."""
    return str(Path(__file__).resolve().parent.parent)
