"""``raftlab cluster``: start, inspect, break and reconfigure a local cluster.

Every sub-command finds the cluster through its directory (``--dir``,
default ``$RAFTLAB_CLUSTER`` or ``./raftlab-cluster``), where ``cluster up``
left the cluster file with every node's addresses and process id
(kv/localcluster.py). Options are parsed with argparse, as for
``raftlab lincheck`` (raftlab/selfparsed.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from raftlab.selfparsed import CONTEXT as SELF_PARSED

CLUSTER_HELP = """Start, inspect, break and reconfigure a local raftlab cluster.

Nodes are processes on 127.0.0.1 (ports chosen free); everything about the
cluster lives in its directory: the cluster file, each node's WAL, log and
trace. Faults are real: kill is SIGKILL, pause is SIGSTOP, partition sets
faults in the nodes' own transports (no root needed).

  raftlab cluster up --nodes 3 --dir /tmp/c      start; returns once a leader is elected
  raftlab cluster status --dir /tmp/c            role, term, commit, applied, lag per node
  raftlab cluster kill 2 --dir /tmp/c            SIGKILL node 2 (restart brings it back)
  raftlab cluster partition 1,2/3 --dir /tmp/c   cut {1,2} from {3}; `heal` undoes it
  raftlab cluster add --dir /tmp/c               new node: learner, caught up, promoted
  raftlab cluster down --dir /tmp/c              stop every node (the data stays)
  raftlab cluster up --dir /tmp/c                again: every node restarts from its disk

Exit codes: 0 done, 2 bad usage or the cluster did not do what was asked
(the message names the node and its log).
"""

CONTEXT = SELF_PARSED


def default_dir() -> Path:
    return Path(os.environ.get("RAFTLAB_CLUSTER", "raftlab-cluster"))


def _election(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        return (int(low), int(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected LOW-HIGH in ms, like 150-300: {text!r}"
        ) from None


def _groups(text: str) -> list[list[int]]:
    try:
        groups = [[int(n) for n in part.split(",") if n] for part in text.split("/")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected groups of node ids like 1,2/3: {text!r}"
        ) from None
    if len(groups) < 2 or not all(groups):
        raise argparse.ArgumentTypeError(f"expected at least two groups, like 1,2/3: {text!r}")
    return groups


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="raftlab cluster",
        description=CLUSTER_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--dir", type=Path, default=None, help="the cluster's directory (default ./raftlab-cluster)"
    )
    common.add_argument("--json", action="store_true", dest="as_json", help="print JSON")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = sub.add_parser("up", parents=[common], help="create and start a cluster")
    up.add_argument("--nodes", type=int, default=3, help="founding voters (default 3)")
    up.add_argument(
        "--election-ms", type=_election, default=(150, 300), help="election timeout range"
    )
    up.add_argument(
        "--trace-level",
        choices=("full", "state", "off"),
        default="state",
        help="what each node writes to its trace (default state)",
    )
    up.add_argument("--no-fsync", action="store_true", help="skip fsync (unsafe: tests only)")
    up.add_argument("--seed", type=int, default=1, help="seeds the nodes' election timeouts")
    up.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a leader")
    sub.add_parser("status", parents=[common], help="each node's role, term, commit, applied, lag")
    sub.add_parser("down", parents=[common], help="stop every node (clean stops; data stays)")
    for name, what in (
        ("kill", "SIGKILL a node"),
        ("pause", "SIGSTOP a node"),
        ("resume", "SIGCONT a paused node"),
        ("restart", "stop a node if running and start it again from its disk"),
        ("remove", "remove a node from the configuration, then stop it"),
        ("transfer", "hand leadership to a node"),
    ):
        cmd = sub.add_parser(name, parents=[common], help=what)
        cmd.add_argument("node", type=int, help="node id")
    part = sub.add_parser("partition", parents=[common], help="cut the network between groups")
    part.add_argument("groups", type=_groups, help="groups of node ids, like 1,2/3")
    sub.add_parser("heal", parents=[common], help="remove every network fault")
    add = sub.add_parser("add", parents=[common], help="add a node: learner, catch up, promote")
    add.add_argument("--learner", action="store_true", help="leave it a learner")
    add.add_argument("--max-lag", type=int, default=10, help="caught up within this many entries")
    return p


def main(argv: list[str]) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    from kv.clusterfile import ClusterFileError
    from kv.localcluster import ClusterError

    directory: Path = args.dir or default_dir()
    try:
        result = ACTIONS[args.command](directory, args)
    except (ClusterError, ClusterFileError, OSError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    except Exception as err:
        from kv.admin.values import AdminError

        if not isinstance(err, AdminError):
            raise
        sys.stderr.write(f"error: {err.message}\n")
        return 2
    if args.as_json:
        import orjson

        sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif args.command == "status":
        _print_status(result)
    else:
        sys.stdout.write(result.get("message", "") + "\n")
    return 0


def typer_command() -> Callable[..., None]:
    from raftlab.selfparsed import typer_command as passthrough

    return passthrough(main, "cluster")


# -- the actions ---------------------------------------------------------------------


def _load(directory: Path) -> Any:
    from kv.localcluster import LocalCluster

    return LocalCluster.load(directory)


def _up(directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    from kv.localcluster import LocalCluster

    cluster = LocalCluster.up(
        directory,
        args.nodes,
        election_ms=args.election_ms,
        trace_level=args.trace_level,
        fsync=not args.no_fsync,
        timeout=args.timeout,
        seed=args.seed,
    )
    leader = cluster.leader()
    return {
        "message": f"cluster of {len(cluster.node_ids)} up in {directory}; "
        f"leader is node {leader}\n"
        + "".join(f"  node {n}: {url}\n" for n, url in cluster.http_urls.items())
        + f"next: raftlab kv put KEY VALUE --dir {directory}",
        "dir": str(directory),
        "leader": leader,
        "nodes": {str(n): url for n, url in cluster.http_urls.items()},
    }


def status_rows(cluster: Any) -> list[dict[str, Any]]:
    """One row per node; the lag is the leader's commit index minus the node's applied."""
    rows = []
    statuses = {n: cluster.status(n) for n in cluster.node_ids}
    leader_commit = max((s.commit for s in statuses.values() if s is not None), default=0)
    for n in cluster.node_ids:
        s = statuses[n]
        pid = cluster.pid(n)
        state = "down" if not pid else _process_state(pid)
        row: dict[str, Any] = {"node": n, "pid": pid, "process": state}
        if s is not None:
            row.update(
                role=s.role.value,
                term=s.term,
                leader=s.leader_id,
                commit=s.commit,
                applied=s.applied,
                lag=max(0, leader_commit - s.applied),
                voters=list(s.configuration.voters),
                learners=list(s.configuration.learners),
            )
        rows.append(row)
    return rows


def _process_state(pid: int) -> str:
    from kv.localcluster import proc_state

    return "paused" if proc_state(pid) == "T" else "running"


def _status(directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    cluster = _load(directory)
    return {"dir": str(directory), "nodes": status_rows(cluster)}


def _print_status(result: dict[str, Any]) -> None:
    """A plain aligned table (pipes and terminals alike)."""
    columns = ("node", "pid", "process", "role", "term", "leader", "commit", "applied", "lag")
    rows = [[str(row.get(c, "-")) for c in columns] for row in result["nodes"]]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    for line in [list(columns), *rows]:
        sys.stdout.write("  ".join(v.rjust(w) for v, w in zip(line, widths, strict=True)) + "\n")


def _simple(verb: str, act: Callable[[Any, int], Any]) -> Callable[[Path, argparse.Namespace], Any]:
    def action(directory: Path, args: argparse.Namespace) -> dict[str, Any]:
        act(_load(directory), args.node)
        return {"message": f"node {args.node}: {verb}", "node": args.node, "done": verb}

    return action


def _down(directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    _load(directory).down()
    return {"message": f"every node of {directory} stopped (data kept)", "dir": str(directory)}


def _partition(directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    _load(directory).partition(args.groups)
    text = " | ".join(",".join(map(str, g)) for g in args.groups)
    return {"message": f"partitioned: {text}", "groups": args.groups}


def _heal(directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    _load(directory).heal()
    return {"message": "healed: no network faults left"}


def _add(directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    node = _load(directory).add(learner_only=args.learner, max_lag=args.max_lag)
    role = "learner" if args.learner else "voter"
    return {"message": f"node {node} added as a {role}", "node": node, "role": role}


def _transfer(directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    leader = _load(directory).transfer(args.node)
    return {"message": f"node {leader} leads", "leader": leader}


ACTIONS: dict[str, Callable[[Path, argparse.Namespace], Any]] = {
    "up": _up,
    "status": _status,
    "down": _down,
    "kill": _simple("killed (SIGKILL)", lambda c, n: c.kill(n)),
    "pause": _simple("paused (SIGSTOP)", lambda c, n: c.pause(n)),
    "resume": _simple("resumed (SIGCONT)", lambda c, n: c.resume(n)),
    "restart": _simple("restarted", lambda c, n: c.restart(n)),
    "remove": _simple("removed and stopped", lambda c, n: c.remove(n)),
    "transfer": _transfer,
    "partition": _partition,
    "heal": _heal,
    "add": _add,
}
