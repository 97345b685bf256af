"""The HTTP API (docs/http-api.md) served over etcd's v3 JSON gateway.

``bench/kv.py`` drives every store with one load generator, which speaks
only raftlab's HTTP API; etcd speaks gRPC, and since 3.4 the same gRPC
through a JSON gateway at ``<client-url>/v3/...``. This adapter is a
``KVService`` whose operations are gateway calls, served by the shared
``make_app``; one adapter process runs per etcd member, as the PySyncObj
peer runs one HTTP server per node, and a member forwards to its leader
itself.

The mapping is a set of pure functions (request bodies out, answers in) so
that it is tested offline against recorded gateway answers; etcd is not
needed for the tests. What the gateway does that matters here:

- keys and values are bytes, hence base64 in JSON;
- 64-bit integers are JSON strings, and fields at their zero value are
  left out: an empty range has no ``kvs``, a failed ``txn`` no
  ``succeeded``;
- errors are ``{"error"|"message": text, "code": grpc-code}`` with an HTTP
  status derived from the gRPC code.

What differs from raftlab, and is said in the bench output:

- etcd has no session table: a write retried after a lost answer runs
  again (the load generator's written values are unique, so a rerun put
  changes nothing a later read could tell apart; a rerun CAS fails its
  compare);
- a linearizable read is etcd's default range (ReadIndex); ``stale=true``
  is a serializable range on the member that receives it.

Run ``python -m bench.kvbench.etcd --gateway http://127.0.0.1:2379`` (with
the checkout on ``PYTHONPATH``); it prints ``listening <url>`` when up.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import signal
import sys
from typing import Any

import aiohttp

from kv.httpapi import make_app
from kv.httpapi.serve import start
from kv.httpapi.service import CasOutcome, Health, Session, Timeout, Unavailable

#: gRPC codes after which a write certainly did not happen (the request was
#: refused before it was proposed): INVALID_ARGUMENT, NOT_FOUND,
#: ALREADY_EXISTS, PERMISSION_DENIED, FAILED_PRECONDITION, OUT_OF_RANGE,
#: UNIMPLEMENTED, UNAUTHENTICATED.
_REFUSED_CODES = frozenset({3, 5, 6, 7, 9, 11, 12, 16})


class GatewayError(Exception):
    """An error answer of the gateway: its gRPC ``code`` and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"etcd: HTTP {status}, gRPC code {code}: {message}")
        self.status, self.code, self.message = status, code, message


# -- the mapping: pure functions ------------------------------------------------------


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def unb64(field: str) -> str:
    return base64.b64decode(field).decode()


def prefix_end(prefix: str) -> str:
    """etcd's ``range_end`` for every key that starts with a non-empty
    ``prefix``, base64: the prefix with its last byte incremented. UTF-8
    never contains the byte 0xff, so the increment never carries."""
    raw = bytearray(prefix.encode())
    raw[-1] += 1
    return base64.b64encode(bytes(raw)).decode("ascii")


def put_request(key: str, value: str) -> tuple[str, dict[str, Any]]:
    return "kv/put", {"key": b64(key), "value": b64(value)}


def get_request(key: str, *, stale: bool) -> tuple[str, dict[str, Any]]:
    body: dict[str, Any] = {"key": b64(key)}
    if stale:
        body["serializable"] = True
    return "kv/range", body


def delete_request(key: str) -> tuple[str, dict[str, Any]]:
    return "kv/deleterange", {"key": b64(key), "prev_kv": True}


def cas_request(key: str, expected: str | None, new: str | None) -> tuple[str, dict[str, Any]]:
    """A txn: if the value is ``expected`` (None: the key does not exist,
    i.e. its create revision is 0) then put ``new`` (None: delete), else
    read the current value so the answer can name it."""
    k = b64(key)
    if expected is None:
        compare = {"key": k, "target": "CREATE", "result": "EQUAL", "create_revision": "0"}
    else:
        compare = {"key": k, "target": "VALUE", "result": "EQUAL", "value": b64(expected)}
    if new is None:
        success: dict[str, Any] = {"request_delete_range": {"key": k}}
    else:
        success = {"request_put": {"key": k, "value": b64(new)}}
    body = {"compare": [compare], "success": [success], "failure": [{"request_range": {"key": k}}]}
    return "kv/txn", body


def list_request(
    start: str, end: str | None, prefix: str | None, limit: int, *, stale: bool
) -> tuple[str, dict[str, Any]]:
    """A range in key order. etcd sorts by key bytes, which for UTF-8 is
    code-point order, the order the HTTP API promises. ``range_end`` ``\\0``
    means no upper bound; a first key of ``\\0`` with it means every key."""
    no_bound = base64.b64encode(b"\0").decode("ascii")
    if prefix is not None:
        body: dict[str, Any] = {"key": b64(prefix) if prefix else no_bound}
        body["range_end"] = prefix_end(prefix) if prefix else no_bound
    else:
        body = {"key": b64(start) if start else no_bound}
        body["range_end"] = b64(end) if end is not None else no_bound
    if limit > 0:
        body["limit"] = str(limit)
    if stale:
        body["serializable"] = True
    return "kv/range", body


def pairs_of(answer: dict[str, Any]) -> list[tuple[str, str]]:
    """The (key, value) pairs of a range answer; no ``kvs`` means none."""
    return [(unb64(kv["key"]), unb64(kv.get("value", ""))) for kv in answer.get("kvs", [])]


def value_of(answer: dict[str, Any]) -> str | None:
    pairs = pairs_of(answer)
    return pairs[0][1] if pairs else None


def previous_of(answer: dict[str, Any]) -> str | None:
    """The value a deleterange with ``prev_kv`` removed (None: was absent)."""
    prev = answer.get("prev_kvs", [])
    return unb64(prev[0].get("value", "")) if prev else None


def cas_outcome_of(answer: dict[str, Any], new: str | None) -> CasOutcome:
    """``succeeded`` is left out when false; the failure branch's range
    answer then holds the current value."""
    if answer.get("succeeded", False):
        return CasOutcome(True, new)
    responses = answer.get("responses", [])
    current = value_of(responses[0].get("response_range", {})) if responses else None
    return CasOutcome(False, current)


def error_of(status: int, answer: Any) -> GatewayError:
    """The gateway's error body: 3.4 sends ``error`` and ``message``, 3.5
    only ``message``; anything else is named by its status."""
    if isinstance(answer, dict):
        message = answer.get("message") or answer.get("error") or f"HTTP {status}"
        code = answer.get("code", 2)
        return GatewayError(status, code if isinstance(code, int) else 2, str(message))
    return GatewayError(status, 2, f"HTTP {status} without a JSON error")


def service_error(err: GatewayError | OSError | TimeoutError, *, write: bool) -> Exception:
    """What the HTTP API answers for a failed gateway call: a write may have
    been proposed unless etcd refused it outright, so it is
    ``outcome_unknown``; a read never is."""
    if isinstance(err, GatewayError) and err.code in _REFUSED_CODES:
        return Unavailable(str(err))
    return Timeout(str(err), outcome_unknown=write)


# -- the service ----------------------------------------------------------------------


class EtcdService:
    """A ``KVService`` over one etcd member's gateway. Sessions are ignored:
    etcd has none (see the module docstring)."""

    def __init__(self, gateway: str, http: aiohttp.ClientSession, timeout: float = 5.0) -> None:
        self.gateway = gateway.rstrip("/")
        self.http = http
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def _call(self, rpc: tuple[str, dict[str, Any]], *, write: bool) -> dict[str, Any]:
        path, body = rpc
        try:
            async with self.http.post(
                f"{self.gateway}/v3/{path}", json=body, timeout=self.timeout
            ) as response:
                answer = await response.json(content_type=None)
                if response.status != 200:
                    raise error_of(response.status, answer)
        except GatewayError as err:
            raise service_error(err, write=write) from err
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            raise Timeout(f"etcd gateway {self.gateway}: {err!r}", outcome_unknown=write) from err
        return answer if isinstance(answer, dict) else {}

    async def put(self, key: str, value: str, session: Session) -> None:
        await self._call(put_request(key, value), write=True)

    async def get(self, key: str, *, stale: bool = False) -> str | None:
        return value_of(await self._call(get_request(key, stale=stale), write=False))

    async def delete(self, key: str, session: Session) -> str | None:
        return previous_of(await self._call(delete_request(key), write=True))

    async def cas(
        self, key: str, expected: str | None, new: str | None, session: Session
    ) -> CasOutcome:
        return cas_outcome_of(await self._call(cas_request(key, expected, new), write=True), new)

    async def list(
        self,
        *,
        start: str = "",
        end: str | None = None,
        prefix: str | None = None,
        limit: int = 0,
        stale: bool = False,
    ) -> list[tuple[str, str]]:
        rpc = list_request(start, end, prefix, limit, stale=stale)
        return pairs_of(await self._call(rpc, write=False))

    def health(self) -> Health:
        """The adapter cannot ask etcd synchronously; the bench waits for
        etcd's own status before it starts the adapters."""
        return Health(ready=True, role="etcd-adapter", details={"gateway": self.gateway})


async def serve(gateway: str, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        runner, url = await start(make_app(EtcdService(gateway, http)), host, port)
        sys.stdout.write(f"listening {url}\n")
        sys.stdout.flush()
        try:
            await stop.wait()
        finally:
            await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.kvbench.etcd", description=__doc__.split("\n")[0]
    )
    p.add_argument("--gateway", required=True, help="an etcd member's client URL")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = a free port")
    args = p.parse_args(argv)
    asyncio.run(serve(args.gateway, args.host, args.port))


if __name__ == "__main__":
    main()
