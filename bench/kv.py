"""Throughput, latency and failover of raftlab, the PySyncObj peer and etcd, as JSON lines.

Every store runs on this machine on 127.0.0.1 (free ports, a temporary
directory, every process stopped by PID) and is driven through the one
HTTP API (docs/http-api.md) by the one load generator (kv/loadgen.py),
with the same workload: a get/put/cas/delete mix of 50/30/15/5 % over 64
keys and 64-byte values, closed loop (each client sends its next
operation when its last is answered), clients pointed at the leader first.

  load       for each configuration and client count: operations/s and the
             p50/p99 latency (ms) of a --duration run after a --warmup.
             raftlab: --nodes x --trace-levels, fsync on. The peer: 3 nodes;
             PySyncObj never fsyncs, so it does less work per write (each row
             says so). etcd: 3 members through its v3 JSON gateway, only when
             an `etcd` binary is on PATH (docs/benchmarks.md says how).
  failover   SIGKILL of the leader, then writes to the survivors from three
             probe clients; the time from the kill to the first acknowledged
             write, --failover-trials times, as a distribution (raftlab at 3
             nodes and --failover-level; the peer, restarted fresh per trial).
             Election timeouts 150-300 ms for both.
  profile    with --profile: py-spy samples of the leader through the row at the
             most clients, folded by area (Raft core, traces, WAL, HTTP, ...).
  summary    the last line: medians per configuration and client count,
             failover medians and p99, the ratios raftlab / peer and raftlab /
             etcd, and issue 8's aims each with measured, bound and met.

Progress goes to stderr, JSON to stdout; the plot (throughput, latency,
failover CDF and histogram) to --plot. The load generator runs in this
process on the same cores as the nodes: compare rows of one run, not runs
of different machines.

examples:
  python bench/kv.py --quick                         # about a minute, fewer trials
  python bench/kv.py > kv.jsonl                      # the full matrix, ~5 minutes
  python bench/kv.py --targets peer --clients 1 16   # the peer alone
  python bench/kv.py --targets raftlab --nodes 3 --trace-levels state --failover-trials 50
  python bench/kv.py --from kv.jsonl --plot kv.png   # summarise and plot a saved run again
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

# Python puts this script's folder first on sys.path, where this very file
# would shadow the kv package; use the checkout's root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench.kvbench import report  # noqa: E402
from bench.kvbench.measure import (  # noqa: E402
    LoadSettings,
    ProbeSettings,
    failover_row,
    failover_trial,
    load_row,
)
from bench.kvbench.profile import Profiler  # noqa: E402
from bench.kvbench.targets import (  # noqa: E402
    EtcdTarget,
    PeerTarget,
    RaftlabTarget,
    Target,
    TargetUnavailable,
)
from kv.loadgen import DEFAULT_MIX  # noqa: E402

TARGETS = ("raftlab", "peer", "etcd")
TRACE_LEVELS = ("full", "state")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {value}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python bench/kv.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--targets",
        nargs="+",
        choices=TARGETS,
        default=list(TARGETS),
        help="stores to measure (default: all; etcd only if found)",
    )
    p.add_argument(
        "--clients",
        nargs="+",
        type=_positive_int,
        default=[1, 16, 64],
        help="concurrent clients per load row (default: 1 16 64)",
    )
    p.add_argument(
        "--nodes",
        nargs="+",
        type=_positive_int,
        default=[3, 5],
        help="raftlab cluster sizes (default: 3 5; the peer and etcd run 3)",
    )
    p.add_argument(
        "--trace-levels",
        nargs="+",
        choices=TRACE_LEVELS,
        default=list(TRACE_LEVELS),
        help="raftlab trace levels (default: full state)",
    )
    p.add_argument(
        "--duration",
        type=_seconds,
        default=None,
        help="measured seconds per load row (default 5; --quick 1)",
    )
    p.add_argument(
        "--warmup",
        type=_seconds,
        default=None,
        help="unmeasured seconds of load before each row (default 0.5; --quick 0.2)",
    )
    p.add_argument(
        "--repeats",
        type=_positive_int,
        default=1,
        help="run the load matrix this many times, round by round (each configuration"
        " started afresh); the summary takes medians",
    )
    p.add_argument(
        "--failover-trials",
        type=int,
        default=None,
        help="kills of the leader per target (default 20; --quick 5; 0: none)",
    )
    p.add_argument(
        "--failover-level",
        choices=TRACE_LEVELS,
        default="state",
        help="raftlab's trace level in the failover trials (3 nodes)",
    )
    p.add_argument("--keys", type=_positive_int, default=64)
    p.add_argument("--value-size", type=_positive_int, default=64, help="bytes per written value")
    p.add_argument("--etcd", default=None, help="the etcd binary (default: `etcd` on PATH)")
    p.add_argument(
        "--from",
        dest="saved",
        type=Path,
        default=None,
        metavar="JSONL",
        help="measure nothing: summarise and plot the rows a run printed to this file",
    )
    p.add_argument(
        "--plot",
        type=Path,
        default=None,
        help="where to write the PNG (default: runs/bench-kv-<time>.png)",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the leader through the first row at the most clients of each raftlab and"
        " peer configuration (needs `pip install py-spy`)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a short run: 1 s rows, 0.2 s warm-ups, 5 failover trials",
    )
    args = p.parse_args(argv)
    if args.failover_trials is not None and args.failover_trials < 0:
        p.error(f"--failover-trials must not be negative, not {args.failover_trials}")
    if args.duration == 0:
        p.error("--duration must be above 0")
    quick = args.quick
    args.duration = args.duration if args.duration is not None else (1.0 if quick else 5.0)
    args.warmup = args.warmup if args.warmup is not None else (0.2 if quick else 0.5)
    if args.failover_trials is None:
        args.failover_trials = 5 if quick else 20
    if args.plot is None:
        args.plot = Path("runs") / time.strftime("bench-kv-%Y%m%dT%H%M%SZ.png", time.gmtime())
    return args


def progress(message: str) -> None:
    sys.stderr.write(f"[bench/kv] {message}\n")
    sys.stderr.flush()


def emit(row: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(row) + "\n")
    sys.stdout.flush()


def meta(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "kind": "meta",
        "bench": "kv",
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "mix": dict(DEFAULT_MIX),
        "keys": args.keys,
        "value_size": args.value_size,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "repeats": args.repeats,
        "election_ms": [150, 300],
        "load_generator": "kv.loadgen closed loop in the bench process, on the nodes' cores",
        "quick": args.quick,
        # other work on the machine shows up in every row; this says how much there was
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
    }


class Configuration(NamedTuple):
    name: str
    start: Callable[[], Target]
    failover: bool  #: run the failover trials on it
    profile: bool  #: a Python process py-spy can profile (with --profile)


def _configurations(args: argparse.Namespace, tmp: Path) -> Iterator[Configuration]:
    """Every configuration asked for, in run order, each in its own directory of ``tmp``."""
    election = (150, 300)
    if "raftlab" in args.targets:
        for nodes in args.nodes:
            for level in args.trace_levels:
                where = tmp / f"raftlab-n{nodes}-{level}"
                yield Configuration(
                    f"raftlab n{nodes} {level}",
                    lambda w=where, n=nodes, lv=level: RaftlabTarget(w, n, lv, election),
                    failover=nodes == 3 and level == args.failover_level,
                    profile=True,
                )
    if "peer" in args.targets:
        yield Configuration("pysyncobj n3", lambda: PeerTarget(tmp / "pysyncobj"), True, True)
    if "etcd" in args.targets:
        start = lambda: EtcdTarget(_fresh(tmp / "etcd"), args.etcd)  # noqa: E731
        yield Configuration("etcd n3", start, failover=False, profile=False)


def _fresh(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@contextmanager
def _started(start: Callable[[], Target]) -> Iterator[Target]:
    """The started target, closed (every process stopped by PID) on the way out.
    A target that fails to start is reported as unavailable, with why."""
    try:
        target = start()
    except RuntimeError as err:  # ClusterError and friends name the node and its log
        raise TargetUnavailable(f"did not start: {err}") from err
    try:
        yield target
    finally:
        target.close()


def measure(
    name: str,
    target: Target,
    failover: bool,
    profiler: Profiler | None,
    round_: int,
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    settings = LoadSettings(args.duration, args.warmup, args.keys, args.value_size)
    rows = []
    for clients in args.clients:
        progress(f"{name}: {clients} client(s)")
        profiled = profiler if clients == max(args.clients) else None
        row, profile = load_row(target, clients, settings, profiled)
        for line in (row, profile):
            if line is not None:
                line["round"] = round_
                rows.append(line)
                emit(line)
    if failover and args.failover_trials:
        samples: list[float | None] = []
        for t in range(args.failover_trials):
            try:
                samples.append(failover_trial(target, ProbeSettings()))
                outcome = f"{samples[-1]} ms"
            except RuntimeError as err:  # TrialError, or the cluster code's ClusterError
                samples.append(None)
                outcome = f"failed: {err}"
            progress(f"{name}: failover trial {t + 1}/{args.failover_trials}: {outcome}")
        rows.append({**failover_row(target, samples), "round": round_})
        emit(rows[-1])
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The matrix ``--repeats`` times, round by round: a drift in the other
    work on the machine then spreads over every configuration instead of
    landing on one. Failover trials and profiles are in the first round."""
    emit(meta(args))
    rows: list[dict[str, Any]] = []
    unavailable: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="bench-kv-") as tmp:
        profiler = Profiler.find(Path(tmp)) if args.profile else None
        if args.profile and profiler is None:
            why = "py-spy is not on PATH nor beside this Python (pip install py-spy)"
            rows.append({"kind": "unavailable", "target": "profile", "reason": why})
            emit(rows[-1])
        for round_ in range(1, args.repeats + 1):
            where = Path(tmp) / f"round-{round_}"
            for c in _configurations(args, where):
                if c.name in unavailable:
                    continue
                progress(f"{c.name}: starting (round {round_}/{args.repeats})")
                first = round_ == 1
                try:
                    with _started(c.start) as target:
                        profiled = profiler if c.profile and first else None
                        failover = c.failover and first
                        rows.extend(measure(c.name, target, failover, profiled, round_, args))
                except TargetUnavailable as why:
                    unavailable.add(c.name)
                    rows.append({"kind": "unavailable", "target": c.name, "reason": str(why)})
                    emit(rows[-1])
                    progress(f"{c.name}: not available: {why}")
    plot = None
    if any(r["kind"] in ("load", "failover") for r in rows):
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        report.plot(rows, args.plot)
        plot = str(args.plot)
        progress(f"plot: {plot}")
    final = {**report.summary(rows, plot), "loadavg_1m_at_end": round(os.getloadavg()[0], 2)}
    emit(final)
    return final


#: the fields the summary and the plot read, by row kind
NEEDED = {
    "load": ("target", "nodes", "fsync", "clients", "throughput", "p50_ms", "p99_ms"),
    "failover": ("target", "nodes", "fsync", "trials", "failed_trials", "samples_ms", "p50_ms",
                 "p99_ms", "max_ms"),
    "profile": ("target", "nodes"),
    "unavailable": ("target", "reason"),
    "meta": (),
    "summary": (),
}  # fmt: skip


def _bad_input(message: str) -> SystemExit:
    sys.stderr.write(f"bench/kv.py: {message}\n")
    return SystemExit(2)


def saved_rows(path: Path) -> list[dict[str, Any]]:
    """The measured rows of a saved run; a bad file is one line on stderr, exit 2."""
    try:
        lines = path.read_text().splitlines()
    except OSError as err:
        raise _bad_input(f"cannot read {path}: {err.strerror}") from None
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except ValueError:
            raise _bad_input(f"{path}:{number}: not JSON") from None
        kind = row.get("kind") if isinstance(row, dict) else None
        if kind not in NEEDED:
            raise _bad_input(f"{path}:{number}: not a row of bench/kv.py (kind {kind!r})")
        missing = [f for f in NEEDED[kind] if f not in row]
        if missing:
            raise _bad_input(f"{path}:{number}: a {kind} row without {', '.join(missing)}")
        if kind not in ("meta", "summary"):
            rows.append(row)
    return rows


def replot(args: argparse.Namespace) -> dict[str, Any]:
    rows = saved_rows(args.saved)
    plot = None
    if any(r["kind"] in ("load", "failover") for r in rows):
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        report.plot(rows, args.plot)
        plot = str(args.plot)
    final = report.summary(rows, plot)
    emit(final)
    return final


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    final = replot(args) if args.saved is not None else run(args)
    return 0 if final["throughput"] or final["failover"] else 2


if __name__ == "__main__":
    sys.exit(main())
