"""The async client of the HTTP API (docs/http-api.md), with exactly-once retries.

A ``KVClient`` is one client session: a client id and a sequence number that
grows by one per write. A write that times out or loses its connection is
retried with the *same* sequence number, on the same or another endpoint,
until it gets an answer or its deadline passes; the state machine's session
table applies it at most once. Reads carry no session: they have no effect.

The client keeps at most one request outstanding, as the session table
requires, and follows the leader: a ``307`` or a ``not_leader`` error that
names the leader sends the next attempt there; any other failure tries the
next endpoint.

With a ``HistoryRecorder`` every key operation is recorded: ``invoke``,
then ``ok``, ``fail`` (it certainly had no effect, e.g. a CAS whose compare
failed or a request refused with 4xx) or ``info`` (it may have had an effect:
the client gave up on a write it may have delivered). Listings and stale
reads are not recorded: the linearizability checker has no model for them.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
from yarl import URL

from kv.history import HistoryRecorder
from kv.httpapi.validate import CLIENT_HEADER, MAX_ID, SEQ_HEADER


class ClientError(Exception):
    """An operation that did not succeed; ``code`` is the API's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


class Rejected(ClientError):
    """The server refused the request (4xx): it had no effect."""


class Unavailable(ClientError):
    """Gave up, and no attempt can have had an effect."""


class OutcomeUnknown(ClientError):
    """Gave up on a write that may have been applied (or may still be)."""


@dataclass(slots=True, frozen=True)
class ClientOptions:
    attempt_timeout: float = 1.0  #: seconds for one HTTP attempt
    op_timeout: float = 5.0  #: seconds for an operation, all its retries included
    backoff: float = 0.01  #: first pause between attempts; doubles up to max_backoff
    max_backoff: float = 0.2


@dataclass(slots=True)
class _Attempt:
    status: int
    body: dict[str, Any]


class KVClient:
    def __init__(
        self,
        endpoints: Sequence[str],
        *,
        client_id: int | None = None,
        history: HistoryRecorder | None = None,
        lane: int | str | None = None,
        options: ClientOptions | None = None,
        http: aiohttp.ClientSession | None = None,
    ) -> None:
        if not endpoints:
            raise ValueError("a client needs at least one endpoint")
        self.endpoints = [e.rstrip("/") for e in endpoints]
        #: random, so two runs never share a session (their sequence numbers would clash)
        self.client_id = client_id if client_id is not None else 1 + secrets.randbelow(MAX_ID)
        self.seq = 0
        self.history = history
        self.lane = lane if lane is not None else self.client_id
        self.options = options or ClientOptions()
        self._http = http
        self._owns_http = http is None
        self._target = 0  #: index into endpoints of the next attempt
        self.leader: str | None = None  #: where the last answer or redirect pointed

    async def __aenter__(self) -> KVClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_http and self._http is not None:
            await self._http.close()
        self._http = None

    # -- operations ------------------------------------------------------------------

    async def put(self, key: str, value: str) -> None:
        await self._op("put", key, value, "PUT", _kv_path(key), {"value": value})

    async def get(self, key: str, *, stale: bool = False) -> str | None:
        query = {"stale": "true"} if stale else None
        attempt = await self._op(
            "get", key, None, "GET", _kv_path(key), None, query, record=not stale
        )
        return attempt.body.get("value") if attempt.status == 200 else None

    async def delete(self, key: str) -> str | None:
        attempt = await self._op("delete", key, None, "DELETE", _kv_path(key), None)
        previous: str | None = attempt.body.get("previous")
        return previous

    async def cas(self, key: str, expected: str | None, new: str | None) -> bool:
        """True if the value was ``expected`` and is now ``new``."""
        body = {"expected": expected, "new": new}
        attempt = await self._op("cas", key, [expected, new], "POST", _cas_path(key), body)
        return bool(attempt.body.get("swapped"))

    async def list(
        self,
        *,
        prefix: str | None = None,
        start: str | None = None,
        end: str | None = None,
        limit: int | None = None,
        stale: bool = False,
    ) -> list[tuple[str, str]]:
        query = {
            name: str(v)
            for name, v in (("prefix", prefix), ("start", start), ("end", end), ("limit", limit))
            if v is not None
        }
        if stale:
            query["stale"] = "true"
        attempt = await self._request("GET", "/v1/kv", None, query, write=False)
        return [(item["key"], item["value"]) for item in attempt.body["items"]]

    # -- recording -------------------------------------------------------------------

    async def _op(
        self,
        f: str,
        key: str,
        value: Any,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        query: dict[str, str] | None = None,
        *,
        record: bool = True,
    ) -> _Attempt:
        history = self.history if record else None
        if history is not None:
            history.invoke(self.lane, f, key, value)
        try:
            attempt = await self._request(method, path, body, query, write=method != "GET")
        except OutcomeUnknown as err:
            if history is not None:
                history.complete(self.lane, "info", f, key, value, str(err))
            raise
        except ClientError as err:
            if history is not None:
                history.complete(self.lane, "fail", f, key, value, str(err))
            raise
        if history is not None:
            if f == "get":
                history.complete(self.lane, "ok", f, key, attempt.body.get("value"))
            elif f == "cas" and not attempt.body.get("swapped"):
                history.complete(self.lane, "fail", f, key, value, "compare failed")
            else:
                history.complete(self.lane, "ok", f, key, value)
        return attempt

    # -- transport -------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        query: dict[str, str] | None,
        *,
        write: bool,
    ) -> _Attempt:
        """One operation: attempts until an answer or the deadline.

        A write gets the next sequence number once; every retry reuses it.
        """
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if write:
            self.seq += 1
            headers[CLIENT_HEADER], headers[SEQ_HEADER] = str(self.client_id), str(self.seq)
        data = orjson.dumps(body) if body is not None else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.op_timeout
        pause, maybe_applied, last = self.options.backoff, False, "no attempt made"
        while True:
            base = self.leader or self.endpoints[self._target]
            url = URL(base + path, encoded=True)
            if query:
                url = url.with_query(query)
            timeout = min(deadline - loop.time(), self.options.attempt_timeout)
            try:
                attempt = await self._send(method, url, data, headers, timeout)
            except aiohttp.ClientConnectorError as exc:  # never reached the server
                last = f"cannot connect to {base}: {exc.os_error}"
                self._next_endpoint()
            except (TimeoutError, aiohttp.ClientError) as exc:
                maybe_applied |= write
                last = f"no answer from {base}: {exc!r}"
                self._next_endpoint()
            else:
                if _is_answer(attempt, method):
                    self.leader = base
                    return attempt
                error = _error_of(attempt)
                code, message = str(error.get("code")), str(error.get("message"))
                last = f"{base}: {code}: {message}"
                maybe_applied |= write and bool(error.get("outcome_unknown"))
                if attempt.status == 409:
                    raise OutcomeUnknown(code, message)
                if 400 <= attempt.status < 500:
                    raise Rejected(code, message)
                leader = error.get("leader")
                if isinstance(leader, str) and leader.rstrip("/") != base:
                    self.leader = leader.rstrip("/")
                    if attempt.status == 307:
                        continue  # redirected to a known leader: go there at once
                else:
                    self._next_endpoint()
            if loop.time() + pause >= deadline:
                break
            await asyncio.sleep(pause)
            pause = min(2 * pause, self.options.max_backoff)
        seconds = self.options.op_timeout
        if maybe_applied:
            raise OutcomeUnknown("timeout", f"gave up after {seconds}s; last: {last}")
        raise Unavailable("unavailable", f"gave up after {seconds}s; last: {last}")

    def _next_endpoint(self) -> None:
        """Forget the leader and move to the next endpoint in the list."""
        self.leader = None
        self._target = (self._target + 1) % len(self.endpoints)

    async def _send(
        self, method: str, url: URL, data: bytes | None, headers: dict[str, str], timeout: float
    ) -> _Attempt:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        async with self._http.request(
            method,
            url,
            data=data,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=max(timeout, 0.001)),
        ) as response:
            raw = await response.read()
        try:
            body = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            body = {}
        if response.status == 307 and isinstance(body, dict):
            location = response.headers.get("Location", "")
            error = body.setdefault("error", {"code": "not_leader", "message": "redirect"})
            if isinstance(error, dict) and location:
                error["leader"] = str(URL(location).origin())
        return _Attempt(response.status, body if isinstance(body, dict) else {})


def _is_answer(attempt: _Attempt, method: str) -> bool:
    """A success, or the definite answer "absent" to a read."""
    if attempt.status < 300:
        return True
    return (
        attempt.status == 404 and method == "GET" and _error_of(attempt).get("code") == "not_found"
    )


def _error_of(attempt: _Attempt) -> dict[str, Any]:
    error = attempt.body.get("error")
    if isinstance(error, dict):
        return error
    return {"code": "bad_answer", "message": f"HTTP {attempt.status} without a JSON error"}


def _kv_path(key: str) -> str:
    return "/v1/kv/" + quote(key, safe="")


def _cas_path(key: str) -> str:
    return "/v1/cas/" + quote(key, safe="")
