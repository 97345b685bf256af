"""The stores ``bench/kv.py`` measures, each a running cluster behind the HTTP API.

A target knows its HTTP endpoints by node, which node leads, and how to
SIGKILL a node and bring the cluster back to full strength for the next
failover trial; ``row()`` is the facts every JSON line about it carries
(target, nodes, fsync, ...). Every process is started here or by the
cluster code it wraps, on 127.0.0.1 with free ports, inside the directory
it is given (a temporary one), and stopped by PID in ``close()``.

- ``RaftlabTarget``: ``kv.localcluster.LocalCluster`` (fsync on, a trace
  level, 150-300 ms election timeouts).
- ``PeerTarget``: the PySyncObj peer (``kv.reference.cluster``), 3 nodes,
  no fsync, the same 150-300 ms timeouts. Its cluster cannot restart one
  node, so recovering after a kill starts a fresh cluster.
- ``EtcdTarget``: 3 etcd members on loopback, each behind an adapter
  process (``bench.kvbench.etcd``); load rows only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from kv.addresses import free_ports
from kv.processes import listening_url, stop_processes
from kv.reference.cluster import PySyncObjCluster, start_cluster

ROOT = Path(__file__).resolve().parents[2]


class TargetUnavailable(Exception):
    """This target cannot run here; the message says why (it becomes a row)."""


class Target(Protocol):
    def row(self) -> dict[str, Any]: ...

    def endpoints(self) -> dict[int, str]: ...

    def leader(self, timeout: float = 10.0) -> int: ...

    def pid(self, node: int) -> int: ...

    def kill(self, node: int) -> None: ...

    def recover(self, node: int) -> None: ...

    def close(self) -> None: ...


def leader_first(target: Target, timeout: float = 10.0) -> list[str]:
    """The endpoints with the leader's first. Every client starts at the
    first endpoint; each store's followers forward to the leader, and a
    client that started at one would keep paying that extra hop."""
    urls = target.endpoints()
    leader = target.leader(timeout)
    return [urls[leader], *(u for n, u in sorted(urls.items()) if n != leader)]


# -- raftlab ---------------------------------------------------------------------------


class RaftlabTarget:
    def __init__(
        self, directory: Path, nodes: int, trace_level: str, election_ms: tuple[int, int]
    ) -> None:
        try:
            from kv.localcluster import LocalCluster
        except ModuleNotFoundError as err:
            if err.name != "kv.localcluster":
                raise
            raise TargetUnavailable(
                "kv.localcluster is not in this checkout (raftlab's node processes have not landed)"
            ) from err
        self.nodes, self.trace_level, self.election_ms = nodes, trace_level, election_ms
        self.cluster = LocalCluster.up(
            directory, nodes, election_ms=election_ms, trace_level=trace_level, fsync=True
        )

    def row(self) -> dict[str, Any]:
        return {
            "target": "raftlab",
            "nodes": self.nodes,
            "trace_level": self.trace_level,
            "fsync": True,
            "election_ms": list(self.election_ms),
        }

    def endpoints(self) -> dict[int, str]:
        return dict(self.cluster.http_urls)

    def leader(self, timeout: float = 10.0) -> int:
        return int(self.cluster.leader(timeout))

    def pid(self, node: int) -> int:
        return int(self.cluster.pid(node))

    def kill(self, node: int) -> None:
        self.cluster.kill(node)

    def recover(self, node: int) -> None:
        self.cluster.restart(node)

    def close(self) -> None:
        self.cluster.down()


# -- the PySyncObj peer ----------------------------------------------------------------


class PeerTarget:
    NODES = 3

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.generation = 0
        self.cluster: PySyncObjCluster = self._start()

    def _start(self) -> PySyncObjCluster:
        self.generation += 1
        return start_cluster(self.directory / f"cluster-{self.generation}", self.NODES)

    def row(self) -> dict[str, Any]:
        from importlib.metadata import version

        return {
            "target": "pysyncobj",
            "nodes": self.NODES,
            "fsync": False,
            "election_ms": [150, 300],
            "version": version("pysyncobj"),
            "note": "PySyncObj keeps its log in memory and never fsyncs; reads go through its log",
        }

    def endpoints(self) -> dict[int, str]:
        return {i: n.url for i, n in enumerate(self.cluster.nodes)}

    def leader(self, timeout: float = 10.0) -> int:
        raft = self.cluster.wait_ready(timeout)
        for i, n in enumerate(self.cluster.nodes):
            if n.raft == raft:
                return i
        raise RuntimeError(f"the peer's leader {raft} is none of its nodes")

    def pid(self, node: int) -> int:
        return self.cluster.nodes[node].pid

    def kill(self, node: int) -> None:
        process = self.cluster.nodes[node].process
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

    def recover(self, node: int) -> None:
        """A fresh cluster: ``kv.reference.cluster`` starts clusters, not nodes."""
        self.cluster.stop()
        self.cluster = self._start()

    def close(self) -> None:
        self.cluster.stop()


# -- etcd ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Process:
    process: subprocess.Popen[bytes]
    log: Path


def _spawn(
    cmd: list[str], log: Path, cwd: Path, *, env: dict[str, str] | None = None, pipe: bool = False
) -> _Process:
    """Start ``cmd`` with stderr (and stdout unless ``pipe``) into ``log``."""
    with log.open("wb") as err:
        out = subprocess.PIPE if pipe else err
        process = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, env=env)
    return _Process(process, log)


def _stop(processes: list[_Process], grace: float = 10.0) -> None:
    """SIGTERM each by PID, wait, SIGKILL what is left."""
    stop_processes((p.process for p in processes), grace)


def _listening(p: _Process, timeout: float) -> str:
    """The ``listening <url>`` line a server prints when it is up."""
    return listening_url(p.process, timeout, repr(p.process.args), p.log)


def etcd_status(client_url: str, timeout: float = 1.0) -> dict[str, Any] | None:
    """One member's ``/v3/maintenance/status`` answer, None if it has none yet."""
    request = urllib.request.Request(
        client_url + "/v3/maintenance/status", data=b"{}", method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body: dict[str, Any] = json.loads(answer.read())
            return body
    except (OSError, ValueError):
        return None


class EtcdTarget:
    NODES = 3

    def __init__(self, directory: Path, binary: str | None = None, timeout: float = 30.0) -> None:
        found = shutil.which(binary or "etcd")
        if found is None:
            where = f"at {binary}" if binary else "on PATH"
            raise TargetUnavailable(f"no etcd binary {where} (see docs/benchmarks.md)")
        self.binary = found
        self.members: list[_Process] = []
        self.adapters: list[_Process] = []
        ports = free_ports(2 * self.NODES)
        self.client_urls = [f"http://127.0.0.1:{p}" for p in ports[: self.NODES]]
        peer_urls = [f"http://127.0.0.1:{p}" for p in ports[self.NODES :]]
        cluster = ",".join(f"m{i}={u}" for i, u in enumerate(peer_urls))
        try:
            for i in range(self.NODES):
                cmd = [
                    self.binary,
                    f"--name=m{i}",
                    f"--data-dir={directory / f'm{i}.etcd'}",
                    f"--listen-client-urls={self.client_urls[i]}",
                    f"--advertise-client-urls={self.client_urls[i]}",
                    f"--listen-peer-urls={peer_urls[i]}",
                    f"--initial-advertise-peer-urls={peer_urls[i]}",
                    f"--initial-cluster={cluster}",
                    "--initial-cluster-token=raftlab-bench",
                    "--initial-cluster-state=new",
                ]
                self.members.append(_spawn(cmd, directory / f"etcd-m{i}.log", directory))
            self._wait_ready(timeout)
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            for i, url in enumerate(self.client_urls):
                cmd = [sys.executable, "-m", "bench.kvbench.etcd", "--gateway", url]
                log = directory / f"adapter-m{i}.log"
                self.adapters.append(_spawn(cmd, log, directory, env=env, pipe=True))
            self.urls = [_listening(a, timeout) for a in self.adapters]
        except BaseException:
            self.close()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.members:
                if m.process.poll() is not None:
                    raise RuntimeError(f"etcd exited with {m.process.returncode}; see {m.log}")
            leaders = {
                str((s or {}).get("leader", "0")) for s in map(etcd_status, self.client_urls)
            }
            if len(leaders) == 1 and leaders != {"0"}:
                return
            time.sleep(0.05)  # polling interval of a condition wait
        where = self.members[0].log.parent
        raise RuntimeError(f"etcd had no common leader within {timeout}s; logs in {where}")

    def version(self) -> str:
        status = etcd_status(self.client_urls[0]) or {}
        return str(status.get("version", "unknown"))

    def row(self) -> dict[str, Any]:
        return {
            "target": "etcd",
            "nodes": self.NODES,
            "fsync": True,
            "version": self.version(),
            "note": "through the v3 JSON gateway and an adapter process per member;"
            " etcd's default timeouts; no session table (retried writes rerun)",
        }

    def endpoints(self) -> dict[int, str]:
        return dict(enumerate(self.urls))

    def leader(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            statuses = [etcd_status(u) or {} for u in self.client_urls]
            for i, s in enumerate(statuses):
                member = str(s.get("header", {}).get("member_id", ""))
                if member and member == str(s.get("leader")):
                    return i
            time.sleep(0.05)  # polling interval of a condition wait
        raise RuntimeError(f"etcd had no leader within {timeout}s")

    def pid(self, node: int) -> int:
        raise TargetUnavailable("etcd is not a Python process: py-spy cannot profile it")

    def kill(self, node: int) -> None:
        raise TargetUnavailable("failover trials are not run on etcd")

    def recover(self, node: int) -> None:
        raise TargetUnavailable("failover trials are not run on etcd")

    def close(self) -> None:
        _stop(self.adapters)
        _stop(self.members)
