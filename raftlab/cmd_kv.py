"""``raftlab kv``: one client operation against a local cluster (or any URL).

A thin shell over ``kv.client.KVClient``, which follows the leader and
retries with a session so that a write is applied once. The endpoints come
from the cluster's directory (``--dir``, as for ``raftlab cluster``) or
from ``--url`` (repeatable, any raftlab or peer node's HTTP API).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from raftlab.selfparsed import CONTEXT as SELF_PARSED

KV_HELP = """Read and write a raftlab cluster's keys: put, get, del, cas, list.

Reads are linearizable (confirmed by the leader) unless --stale asks any
node for its local copy. Writes return once applied; a write whose outcome
is unknown (a timeout during a leader change) says so and exits 2.

  raftlab kv put greeting hello --dir /tmp/c
  raftlab kv get greeting --dir /tmp/c
  raftlab kv cas greeting hello bye --dir /tmp/c      swap only if the value is hello
  raftlab kv cas counter --absent 1 --dir /tmp/c      create only if absent
  raftlab kv list --prefix user/ --json --dir /tmp/c

Exit codes: 0 done (get of a missing key prints nothing and exits 0 unless
--require), 1 a cas whose expectation failed, 2 bad usage or no answer.
"""

CONTEXT = SELF_PARSED


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="raftlab kv", description=KV_HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", type=Path, default=None, help="the cluster's directory")
    common.add_argument(
        "--url", action="append", default=[], help="a node's HTTP API base URL (repeatable)"
    )
    common.add_argument("--timeout", type=float, default=5.0, help="seconds for the operation")
    common.add_argument("--json", action="store_true", dest="as_json", help="print JSON")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    put = sub.add_parser("put", parents=[common], help="set a key")
    put.add_argument("key")
    put.add_argument("value")
    get = sub.add_parser("get", parents=[common], help="read a key")
    get.add_argument("key")
    get.add_argument("--stale", action="store_true", help="any node's local copy")
    get.add_argument("--require", action="store_true", help="exit 2 if the key is absent")
    delete = sub.add_parser("del", parents=[common], help="delete a key")
    delete.add_argument("key")
    cas = sub.add_parser("cas", parents=[common], help="compare and set")
    cas.add_argument("key")
    cas.add_argument("expected", nargs="?", help="the value it must have (omit with --absent)")
    cas.add_argument("new", help="the value to set")
    cas.add_argument("--absent", action="store_true", help="expect the key to be absent")
    listing = sub.add_parser("list", parents=[common], help="list keys in order")
    listing.add_argument("--prefix")
    listing.add_argument("--start")
    listing.add_argument("--end")
    listing.add_argument("--limit", type=int)
    listing.add_argument("--stale", action="store_true")
    return p


def main(argv: list[str]) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command == "cas" and args.absent == (args.expected is not None):
        sys.stderr.write("error: cas takes EXPECTED NEW, or --absent NEW\n")
        return 2
    from kv.client import ClientError

    try:
        endpoints = _endpoints(args)
        result, code = asyncio.run(_run(args, endpoints))
    except (ClientError, ValueError, OSError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    text = result.pop("text")
    if args.as_json:
        import orjson

        sys.stdout.write(orjson.dumps(result).decode() + "\n")
    elif text is not None:
        sys.stdout.write(text + "\n")
    return code


def _endpoints(args: argparse.Namespace) -> list[str]:
    if args.url:
        return list(args.url)
    from kv.clusterfile import read
    from raftlab.cmd_cluster import default_dir

    cluster = read(args.dir or default_dir())
    return [e.address.http for _, e in sorted(cluster.nodes.items())]


async def _run(args: argparse.Namespace, endpoints: list[str]) -> tuple[dict[str, Any], int]:
    from kv.client import ClientOptions, KVClient

    options = ClientOptions(op_timeout=args.timeout)
    async with KVClient(endpoints, options=options) as client:
        return await OPERATIONS[args.command](client, args)


async def _put(client: Any, args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    await client.put(args.key, args.value)
    return {"key": args.key, "value": args.value, "text": None}, 0


async def _get(client: Any, args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    value = await client.get(args.key, stale=args.stale)
    code = 2 if value is None and args.require else 0
    return {"key": args.key, "value": value, "text": value}, code


async def _del(client: Any, args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    previous = await client.delete(args.key)
    return {"key": args.key, "previous": previous, "text": None}, 0


async def _cas(client: Any, args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    swapped = await client.cas(args.key, None if args.absent else args.expected, args.new)
    text = None if swapped else f"not swapped: {args.key} did not hold the expected value"
    return {"key": args.key, "swapped": swapped, "text": text}, 0 if swapped else 1


async def _list(client: Any, args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    pairs = await client.list(
        prefix=args.prefix, start=args.start, end=args.end, limit=args.limit, stale=args.stale
    )
    text = "\n".join(f"{k}\t{v}" for k, v in pairs) if pairs else None
    return {"items": [{"key": k, "value": v} for k, v in pairs], "text": text}, 0


OPERATIONS: dict[str, Callable[[Any, argparse.Namespace], Any]] = {
    "put": _put,
    "get": _get,
    "del": _del,
    "cas": _cas,
    "list": _list,
}


def typer_command() -> Callable[..., None]:
    from raftlab.selfparsed import typer_command as passthrough

    return passthrough(main, "kv")
