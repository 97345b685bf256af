"""The cluster file: what every node process of a local cluster is started from.

``raftlab cluster up`` writes ``cluster.json`` in the cluster's directory
before it starts any process: the Raft settings, the founding voters and
where each node listens (ports picked free by the launcher, since every
founder must know its peers' addresses before it starts). A node process
reads the file, takes its own entry, and from then on learns the addresses
of nodes added later from the replicated state (kv/members.py). The CLI's
later commands (``status``, ``kill``, ``add``...) read the same file, plus
the process ids the launcher recorded in it.

Every field is checked on load; a bad file is a ``ClusterFileError`` naming
the file and the field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from consensus import RaftConfig
from consensus.errors import CoreMisuse
from kv.admin.values import NodeAddress

NAME = "cluster.json"
TRACE_LEVELS = ("full", "state", "off")


class ClusterFileError(ValueError):
    """The cluster file is missing or malformed; the message says where."""


@dataclass(slots=True, frozen=True)
class NodeEntry:
    """One node: its addresses and, once started, its process id."""

    id: int
    address: NodeAddress
    pid: int = 0


@dataclass(slots=True, frozen=True)
class ClusterFile:
    """Everything a node process or the CLI needs to know about a local cluster.

    ``tick_ms`` is the length of one Raft tick: the core counts time in
    ticks, so the election timeout is ``raft.election_ticks * tick_ms`` to
    twice that. ``founders`` are the voters a brand-new cluster starts with;
    a node not among them starts empty and joins through the admin API.
    """

    name: str
    seed: int
    tick_ms: float
    raft: RaftConfig
    founders: tuple[int, ...]
    nodes: dict[int, NodeEntry] = field(default_factory=dict)
    fsync: bool = True
    trace_level: str = "state"
    snapshot_every: int = 1000

    def node(self, node_id: int) -> NodeEntry:
        entry = self.nodes.get(node_id)
        if entry is None:
            known = ", ".join(str(n) for n in sorted(self.nodes)) or "none"
            raise ClusterFileError(f"no node {node_id} in the cluster file (nodes: {known})")
        return entry

    def addresses(self) -> dict[int, NodeAddress]:
        return {n: e.address for n, e in sorted(self.nodes.items())}

    def with_node(self, entry: NodeEntry) -> ClusterFile:
        return replace(self, nodes={**self.nodes, entry.id: entry})

    def without_node(self, node_id: int) -> ClusterFile:
        return replace(self, nodes={n: e for n, e in self.nodes.items() if n != node_id})

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seed": self.seed,
            "tick_ms": self.tick_ms,
            "raft": self.raft.to_json(),
            "founders": list(self.founders),
            "fsync": self.fsync,
            "trace_level": self.trace_level,
            "snapshot_every": self.snapshot_every,
            "nodes": {
                str(n): {
                    "peer": e.address.peer,
                    "admin": e.address.admin,
                    "http": e.address.http,
                    "pid": e.pid,
                }
                for n, e in sorted(self.nodes.items())
            },
        }


def election_config(election_ms: tuple[int, int], tick_ms: float) -> RaftConfig:
    """Raft settings for an election timeout drawn from ``election_ms``
    (the core draws from ``[election_ticks, 2 * election_ticks)``, so the
    upper bound is twice the lower) with heartbeats five times as often."""
    low, high = election_ms
    if low <= 0 or high < low:
        raise ClusterFileError(f"bad election timeout range {low}-{high} ms")
    ticks = max(2, round(low / tick_ms))
    return RaftConfig(election_ticks=ticks, heartbeat_ticks=max(1, ticks // 5))


def write(directory: Path, cluster: ClusterFile) -> Path:
    """Write ``cluster.json`` atomically (a reader never sees half a file)."""
    path = directory / NAME
    tmp = path.with_name(f".{NAME}.{os.getpid()}.tmp")
    tmp.write_bytes(orjson.dumps(cluster.to_json(), option=orjson.OPT_INDENT_2))
    os.replace(tmp, path)
    return path


def read(directory: Path) -> ClusterFile:
    """The cluster file in ``directory`` (or ``directory`` itself if it is the file)."""
    path = directory if directory.is_file() else directory / NAME
    try:
        raw = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise ClusterFileError(
            f"{path}: no cluster here (start one with `raftlab cluster up --dir {directory}`)"
        ) from None
    except orjson.JSONDecodeError as err:
        raise ClusterFileError(f"{path}: not JSON: {err}") from None
    try:
        return _parse(raw)
    except (KeyError, TypeError, ValueError, CoreMisuse) as err:
        raise ClusterFileError(f"{path}: {_describe(err)}") from None


def _describe(err: Exception) -> str:
    if isinstance(err, KeyError):
        return f"missing field {err.args[0]!r}"
    return str(err)


def _parse(raw: Any) -> ClusterFile:
    if not isinstance(raw, dict):
        raise TypeError("expected a JSON object")
    raft = RaftConfig.from_json(dict(raw["raft"]))
    raft.validate()
    level = str(raw.get("trace_level", "state"))
    if level not in TRACE_LEVELS:
        raise ValueError(f"trace_level {level!r} is not one of {', '.join(TRACE_LEVELS)}")
    nodes: dict[int, NodeEntry] = {}
    for key, body in dict(raw["nodes"]).items():
        node_id = int(key)
        if node_id < 1:
            raise ValueError(f"node id {key!r} must be a positive integer")
        address = NodeAddress(str(body["peer"]), str(body["admin"]), str(body["http"]))
        nodes[node_id] = NodeEntry(node_id, address, int(body.get("pid", 0)))
    tick_ms = float(raw["tick_ms"])
    if tick_ms <= 0:
        raise ValueError("tick_ms must be positive")
    return ClusterFile(
        name=str(raw["name"]),
        seed=int(raw["seed"]),
        tick_ms=tick_ms,
        raft=raft,
        founders=tuple(int(n) for n in raw["founders"]),
        nodes=nodes,
        fsync=bool(raw.get("fsync", True)),
        trace_level=level,
        snapshot_every=int(raw.get("snapshot_every", 1000)),
    )
