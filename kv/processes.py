"""Server processes a launcher started: probing, reading their start line, stopping.

The local raftlab cluster (kv/localcluster.py), the PySyncObj peer's
cluster (kv/reference/cluster.py) and the benches' etcd targets
(bench/kvbench/targets.py) all start servers as child processes and need
the same three things: ask a node's ``/healthz``, wait for the ``listening
URL`` line a server prints once it serves, and stop every process by its
PID (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson


def healthz(base_url: str, timeout: float = 1.0) -> dict[str, Any] | None:
    """The node's ``/healthz`` answer (also when it is a 503: no leader
    known yet), None if it does not answer."""
    try:
        with urllib.request.urlopen(base_url + "/healthz", timeout=timeout) as answer:
            body: dict[str, Any] = orjson.loads(answer.read())
            return body
    except urllib.error.HTTPError as err:
        body = orjson.loads(err.read() or b"{}")
        return body
    except (OSError, ValueError):
        return None


def listening_url(
    process: subprocess.Popen[bytes],
    timeout: float,
    name: str,
    log: Path,
    error: type[Exception] = RuntimeError,
) -> str:
    """The URL of the ``listening <url>`` line ``process`` prints on its
    standard output once it serves, waited for at most ``timeout`` s; else
    ``error`` naming the process (``name``) and its ``log``."""
    stdout = process.stdout
    assert stdout is not None, "the process was started without stdout=PIPE"
    ready, _, _ = select.select([stdout], [], [], timeout)
    line = stdout.readline().decode().strip() if ready else ""
    if not line.startswith("listening "):
        raise error(f"{name} did not start ({line!r}); see {log}")
    return line.split(" ", 1)[1]


def stop_processes(processes: Iterable[subprocess.Popen[bytes]], grace: float = 10.0) -> None:
    """SIGTERM each running process by PID, wait, SIGKILL what is left
    after ``grace`` seconds; close the stdout pipes they were given."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(grace)
        if process.stdout is not None:
            process.stdout.close()
