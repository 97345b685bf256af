"""Network addresses on loopback: free ports, and ``host:port`` text.

One place for what the node process, the local cluster, the PySyncObj peer
and the tests all need: ports that are free right now (bound together, read,
released: the OS does not hand out a port that is still bound), and parsing
of the ``host:port`` and ``http://host:port`` forms the cluster file uses.
"""

from __future__ import annotations

import socket


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports that were free a moment ago."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for s in sockets:
            s.bind((host, 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def split_host_port(address: str) -> tuple[str, int]:
    """``"127.0.0.1:7000"`` -> ``("127.0.0.1", 7000)``; ValueError naming it otherwise."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"bad address {address!r}: expected host:port")
    return host, int(port)


def url_host_port(url: str) -> tuple[str, int]:
    """``http://127.0.0.1:8000`` -> ``("127.0.0.1", 8000)``."""
    return split_host_port(url.split("://", 1)[-1].rstrip("/"))
