"""The PySyncObj peer's throughput and latency through the HTTP API, as JSON.

A smoke bench until bench/kv.py arrives with the node runtime: it starts a
3-node PySyncObj peer cluster on 127.0.0.1 (three OS processes, free ports,
in a temporary directory), then for each client count runs the load
generator closed-loop for ``--duration`` seconds (after a short warm-up) and
prints operations per second and latency percentiles in milliseconds. The
load generator runs in this process, on the same two cores as the nodes, so
compare runs on one machine, not across machines. Linearizable reads go
through PySyncObj's log (see kv/reference/pysyncobj_server.py).

    python bench/kv_peer.py                 # 1 and 16 clients, 5 s each
    python bench/kv_peer.py --quick         # 1 s each
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from kv.client import ClientOptions
from kv.loadgen import DEFAULT_MIX, Workload, run_load
from kv.reference.cluster import start_cluster


def run(args: argparse.Namespace) -> dict[str, Any]:
    options = ClientOptions(attempt_timeout=2.0, op_timeout=10.0)
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="kv-peer-bench-") as tmp,
        start_cluster(Path(tmp), 3, ready_timeout=60, batch=args.batch) as cluster,
    ):
        for clients in args.clients:
            warm = Workload(clients=clients, ops=None, duration=0.3, client_options=options)
            asyncio.run(run_load(cluster.urls, warm))
            workload = Workload(
                clients=clients,
                keys=args.keys,
                value_size=args.value_size,
                ops=None,
                duration=args.duration,
                seed=clients,
                client_options=options,
            )
            result = asyncio.run(run_load(cluster.urls, workload))
            results.append(
                {
                    "clients": clients,
                    "ops": result.ops,
                    "throughput": result.throughput,
                    "p50_ms": result.latency_ms["p50"],
                    "p99_ms": result.latency_ms["p99"],
                    # fail: certainly no effect (mostly CAS whose compare failed)
                    "fail": result.fail,
                    "info": result.info,
                    "by_op": result.by_op,
                }
            )
    return {
        "bench": "kv_peer",
        "peer": "pysyncobj",
        "pysyncobj": version("pysyncobj"),
        "nodes": 3,
        "batched_appends": args.batch,
        "fsync": False,
        "mix": dict(DEFAULT_MIX),
        "keys": args.keys,
        "value_size": args.value_size,
        "duration_s": args.duration,
        "python": platform.python_version(),
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per client count")
    parser.add_argument("--keys", type=int, default=64)
    parser.add_argument("--value-size", type=int, default=64)
    parser.add_argument("--batch", action="store_true", help="PySyncObj's batched appends")
    parser.add_argument("--quick", action="store_true", help="1 s per client count")
    args = parser.parse_args()
    if args.quick:
        args.duration = 1.0
    json.dump(run(args), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
