"""Write-ahead log throughput with and without group commit, as JSON.

Each run appends ``Persist`` records of one 100-byte entry to a fresh WAL on
this machine's disk (a temporary directory, or ``--dir``) for a fixed wall
time, and reports records committed per second, fsyncs per record and the
median and p99 commit latency. The configurations:

- ``sync_each``: one writer, one fsync per record (no batching at all);
- ``batch_64``: one writer appends 64 records, then syncs once;
- ``locked_N``: N threads, each commit appends and fsyncs alone under a lock
  (concurrency without group commit);
- ``group_N``: N threads committing through ``GroupCommit`` (concurrent
  commits share fsyncs).

fsync cost is a property of the disk and of whoever else is using it: on a
shared machine the numbers are noisy, so compare ratios within one run.

    python bench/wal.py                 # about 12 s
    python bench/wal.py --seconds 0.5   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

# Python puts this script's folder first on sys.path; keep it from shadowing packages.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from consensus import DurableState, Entry, HardState, Membership, Persist  # noqa: E402
from kv.groupcommit import GroupCommit  # noqa: E402
from kv.wal import WriteAheadLog  # noqa: E402

PAYLOAD = "x" * 100


class Counter:
    """os.fsync, counted."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, fd: int) -> None:
        self.count += 1
        os.fsync(fd)


class Writes:
    """Persist records with increasing indexes, safe to take from threads."""

    def __init__(self) -> None:
        self._next = 1
        self._lock = threading.Lock()

    def take(self) -> Persist:
        with self._lock:
            self._next += 1
            i = self._next
        return Persist(i, HardState(1, 1, i - 1), (Entry(i, 1, PAYLOAD),))


def open_wal(root: Path, name: str, fsync: Counter) -> WriteAheadLog:
    boot = DurableState.bootstrap(Membership((1, 2, 3)))
    wal = WriteAheadLog.open(root / name, boot, fsync=fsync)
    fsync.count = 0
    return wal


def single_writer(root: Path, name: str, seconds: float, batch: int) -> dict[str, float]:
    fsync = Counter()
    wal, writes = open_wal(root, name, fsync), Writes()
    latencies: list[float] = []
    records = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        t0 = time.perf_counter()
        for _ in range(batch):
            wal.append(writes.take())
        wal.sync()
        latencies.extend([time.perf_counter() - t0] * batch)
        records += batch
    wall = time.perf_counter() - started
    wal.close()
    return summary(records, fsync.count, wall, latencies)


def threaded(root: Path, name: str, seconds: float, threads: int, group: bool) -> dict[str, float]:
    fsync = Counter()
    wal, writes = open_wal(root, name, fsync), Writes()
    committer = GroupCommit(wal)
    lock = threading.Lock()

    def alone(persist: Persist) -> None:
        with lock:
            wal.append(persist)
            wal.sync()

    commit: Callable[[Persist], object] = committer.commit if group else alone
    deadline = time.perf_counter() + seconds
    per_thread: list[list[float]] = [[] for _ in range(threads)]

    def client(mine: list[float]) -> None:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            commit(writes.take())
            mine.append(time.perf_counter() - t0)

    started = time.perf_counter()
    workers = [threading.Thread(target=client, args=(lat,)) for lat in per_thread]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - started
    wal.close()
    latencies = [x for lat in per_thread for x in lat]
    return summary(len(latencies), fsync.count, wall, latencies)


def summary(records: int, fsyncs: int, wall: float, latencies: list[float]) -> dict[str, float]:
    latencies.sort()
    return {
        "records": records,
        "appends_per_s": round(records / wall, 1),
        "fsyncs_per_append": round(fsyncs / max(records, 1), 4),
        "p50_ms": round(statistics.median(latencies) * 1000, 3) if latencies else 0.0,
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 3) if latencies else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="wall time per configuration")
    parser.add_argument("--threads", type=int, default=16, help="writers in the threaded runs")
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to write (default: a temp dir)"
    )
    a = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=a.dir, prefix="bench-wal-") as tmp:
        root = Path(tmp)
        n = a.threads
        results = {
            "sync_each": single_writer(root, "each", a.seconds, 1),
            "batch_64": single_writer(root, "batch", a.seconds, 64),
            f"locked_{n}": threaded(root, "locked", a.seconds, n, group=False),
            f"group_{n}": threaded(root, "group", a.seconds, n, group=True),
        }
        out = {
            "bench": "wal",
            "python": platform.python_version(),
            "seconds_per_config": a.seconds,
            "payload_bytes": len(PAYLOAD),
            "directory": str(root.parent),
            "note": "fsync-bound; noisy on a shared machine: compare ratios within one run",
            "group_speedup": round(
                results[f"group_{n}"]["appends_per_s"]
                / max(results[f"locked_{n}"]["appends_per_s"], 1e-9),
                2,
            ),
            "results": results,
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
