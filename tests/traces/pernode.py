"""Per-node trace files from a simulated run, as real processes write them.

Real nodes cannot be run by these tests yet, so a seeded simulation stands
in: ``SplitRecorder`` is the simulation's recorder and hands each node event
to that node's ``NodeTraceWriter`` (one per incarnation, each with its own
sequence numbers and no causes that point into other files), the
environment's faults to an ``EnvTraceWriter`` (crash, pause, resume;
partition and heal), and the clients' events to a history file. Nothing of
the simulated network's own doings (drops, duplicates) is kept: a real node
never sees them. A crash leaves the node's file without a closing record,
as a SIGKILL does.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import orjson

from sim import RandomActor, SimConfig, Simulation, get_profile
from traces.nodetrace import ENV_TRACE, EnvTraceWriter, NodeTraceWriter, node_trace_name
from traces.recorder import make_header
from traces.schema import INPUT_ACTIONS, actor_node

Event = dict[str, Any]


class SplitRecorder:
    """The simulation's sink; writes per-node, environment and client files."""

    #: The simulated TracedNodes write what a ``full`` node trace holds.
    self_contained = True

    def __init__(
        self, directory: Path, header: Event, level: str = "full", bare: bool = False
    ) -> None:
        """``bare``: node files get no run fields in their headers (no
        ``raft``), as a server that passes none writes them."""
        self.directory = directory
        self.header = header
        self.level = level
        fields = {k: v for k, v in header.items() if k not in ("schema", "version", "impl")}
        self.fields = {} if bare else fields
        #: The whole run, as one recorder would have written it.
        self.events: list[Event] = []
        self.writers: dict[int, NodeTraceWriter] = {}
        self.incarnations: dict[int, int] = {}
        #: node -> global seq -> seq in the node's current file
        self.local: dict[int, dict[int, int]] = {}
        self.env = EnvTraceWriter(directory / ENV_TRACE, self.fields)
        self.env_local: dict[int, int] = {}
        self.history: list[Event] = []

    def emit(self, event: Event) -> int:
        seq = len(self.events) + 1
        event["seq"] = seq
        self.events.append(event)
        node = actor_node(event["n"])
        if node is not None:
            self._node_event(node, event)
        elif event["n"] == "env" or event["act"] in ("partition", "heal"):
            self._env_event(event)
        elif event["n"] == "client":
            self._client_event(event)
        return seq

    def _node_event(self, node: int, event: Event) -> None:
        writer = self.writers.get(node)
        if writer is None:
            incarnation = self.incarnations.get(node, -1) + 1
            self.incarnations[node] = incarnation
            path = self.directory / node_trace_name(node, incarnation)
            writer = NodeTraceWriter(path, node, self.level, self.fields, incarnation=incarnation)
            self.writers[node] = writer
            self.local[node] = {}
        local = dict(event)
        cause = local.pop("cause", 0)
        if event["act"] not in INPUT_ACTIONS:
            local["cause"] = self.local[node][cause]
        self.local[node][event["seq"]] = writer.emit(local)
        writer.flush()

    def _env_event(self, event: Event) -> None:
        fields = {
            k: v
            for k, v in event.items()
            if k not in ("seq", "t", "n", "lc", "act", "cause", "lost_writes")
        }
        cause = self.env_local.get(event.get("cause", 0), 0)
        seq = self.env.record(event["n"], event["act"], cause, event["t"], **fields)
        self.env_local[event["seq"]] = seq
        if event["act"] == "crash" and event["node"] in self.writers:
            self.writers.pop(event["node"]).abandon()  # killed: no closing record

    def _client_event(self, event: Event) -> None:
        kind = "invoke" if event["act"] == "invoke" else event["type"]
        self.history.append(
            {
                "client": event["client"],
                "type": kind,
                "f": event["f"],
                "key": event["key"],
                "value": event["value"],
                "time": event["t"],
            }
        )

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        self.env.close()
        lines = [{"history": 1, "started_unix_ns": 0}, *self.history]
        (self.directory / "history.jsonl").write_bytes(
            b"".join(orjson.dumps(x) + b"\n" for x in lines)
        )


def faulty_profile() -> Any:
    """Crashes, pauses and partitions within a few simulated seconds."""
    return dataclasses.replace(
        get_profile("default"),
        name="pernode",
        crash_every_s=1.2,
        downtime_s=(0.2, 0.5),
        pause_every_s=1.5,
        pause_s=(0.1, 0.4),
        partition_every_s=1.5,
        partition_s=(0.2, 0.6),
        duplicate=0.02,
    )


def split_run(
    directory: Path,
    seed: int = 3,
    level: str = "full",
    nodes: int = 3,
    duration_s: float = 4.0,
    membership: bool = False,
    bare: bool = False,
) -> SplitRecorder:
    """Run a seeded faulty simulation and write its per-node files into
    ``directory``; the recorder keeps the whole run's events too."""
    directory.mkdir(parents=True, exist_ok=True)
    config = SimConfig(nodes=nodes, seed=seed, duration_s=duration_s, profile=faulty_profile())
    header = make_header("raftlab-sim", **config.header_fields())
    recorder = SplitRecorder(directory, header, level, bare)
    actor = (
        RandomActor(random.Random(seed * 31 + 17), first_new_id=nodes + 1) if membership else None
    )
    Simulation(config, recorder, actor).run()
    recorder.close()
    return recorder
