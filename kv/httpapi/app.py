"""The client HTTP API as an aiohttp application over any ``KVService``.

``make_app(service)`` is the whole HTTP layer: routing, validation (in
``kv.httpapi.validate``), the request timeout, forwarding to the leader,
the JSON error shape and the metrics. The contract is docs/http-api.md.

Forwarding: when the service raises ``NotLeader`` with a known leader, the
request is proxied to the leader (``forward="proxy"``, the default) or
answered ``307`` with a ``Location`` on the leader (``forward="redirect"``).
A proxied request carries ``X-Raftlab-Forwarded`` so that it is forwarded at
most once: a node that gets one and is not the leader answers 503
``not_leader`` instead of forwarding again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from yarl import URL

from kv.httpapi.service import KVService, NotLeader, ServiceError, Timeout
from kv.httpapi.validate import (
    CLIENT_HEADER,
    SEQ_HEADER,
    ApiError,
    Limits,
    bad,
    check_key,
    check_query_names,
    check_value,
    json_object,
    query_bool,
    query_limit,
    session_from,
    too_large,
)

log = logging.getLogger(__name__)

FORWARDED_HEADER = "X-Raftlab-Forwarded"
#: headers of the leader's answer that a proxying follower passes on
RELAYED_HEADERS = ("Retry-After", "Location")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True, frozen=True)
class Settings:
    limits: Limits
    request_timeout: float  #: seconds a request may wait for the service
    forward: str  #: "proxy" or "redirect"


class Metrics:
    """The app's own Prometheus registry: no global state, so several apps
    (several nodes in one test process) never share counters."""

    __slots__ = ("duration", "registry", "requests")

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "raftlab_http_requests",
            "HTTP requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "raftlab_http_request_duration_seconds",
            "Time to answer an HTTP request, by route and method.",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
        )


SERVICE = web.AppKey("service", KVService)
SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
PROXY = web.AppKey("proxy", aiohttp.ClientSession)


def make_app(
    service: KVService,
    *,
    limits: Limits | None = None,
    request_timeout: float = 5.0,
    forward: str = "proxy",
) -> web.Application:
    """The HTTP API over ``service``; ``forward`` is ``proxy`` or ``redirect``."""
    if forward not in ("proxy", "redirect"):
        raise ValueError(f"forward must be 'proxy' or 'redirect', not {forward!r}")
    limits = limits or Limits()
    app = web.Application(middlewares=[_errors_and_metrics], client_max_size=limits.max_body_bytes)
    app[SERVICE] = service
    app[SETTINGS] = Settings(limits, request_timeout, forward)
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(_proxy_session)
    app.router.add_get("/v1/kv", list_keys)
    app.router.add_put("/v1/kv/{key:.+}", put_key)
    app.router.add_get("/v1/kv/{key:.+}", get_key)
    app.router.add_delete("/v1/kv/{key:.+}", delete_key)
    app.router.add_post("/v1/cas/{key:.+}", cas_key)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def _proxy_session(app: web.Application) -> Any:
    async with aiohttp.ClientSession() as session:
        app[PROXY] = session
        yield


# -- responses -------------------------------------------------------------------


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


def error_response(
    status: int, code: str, message: str, *, outcome_unknown: bool = False, **extra: Any
) -> web.Response:
    """The one error shape: ``{"error": {"code", "message", "outcome_unknown", ...}}``."""
    error = {"code": code, "message": message, "outcome_unknown": outcome_unknown, **extra}
    headers = {"Retry-After": "1"} if status == 503 else None
    return json_response({"error": error}, status, headers)


# -- middleware --------------------------------------------------------------------


@web.middleware
async def _errors_and_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await _answer(request, handler)
    route = request.match_info.route.resource
    name = route.canonical if route is not None else "unmatched"
    m = request.app[METRICS]
    m.requests.labels(name, request.method, str(response.status)).inc()
    m.duration.labels(name, request.method).observe(time.perf_counter() - started)
    return response


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as err:
        return error_response(err.status, err.code, err.message)
    except NotLeader as err:
        return await _not_leader(request, err)
    except ServiceError as err:
        return error_response(
            err.status, err.code, err.message, outcome_unknown=err.outcome_unknown
        )
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[SETTINGS].limits.max_body_bytes
        return error_response(413, "too_large", f"the body is over {limit} bytes")
    except web.HTTPException as exc:  # routing: 404 unknown path, 405 wrong method
        code = {404: "no_route", 405: "bad_method"}.get(exc.status, "http_error")
        return error_response(exc.status, code, f"{request.method} {request.path}: {exc.reason}")
    except Exception:
        log.exception("internal error answering %s %s", request.method, request.path)
        return error_response(500, "internal", "internal error", outcome_unknown=_is_write(request))


def _is_write(request: web.Request) -> bool:
    return request.method in ("PUT", "POST", "DELETE")


async def _not_leader(request: web.Request, err: NotLeader) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    if err.leader is None or FORWARDED_HEADER in request.headers:
        return error_response(503, "not_leader", err.message, leader=err.leader)
    location = err.leader.rstrip("/") + request.rel_url.raw_path_qs
    if settings.forward == "redirect":
        return _redirect(location, err)
    return await _proxy(request, location)


def _redirect(location: str, err: NotLeader) -> web.Response:
    response = error_response(307, "not_leader", err.message, leader=err.leader)
    response.headers["Location"] = location
    return response


async def _proxy(request: web.Request, url: str) -> web.StreamResponse:
    """Send the request on to the leader once and relay its answer."""
    headers = {
        name: request.headers[name]
        for name in (CLIENT_HEADER, SEQ_HEADER)
        if name in request.headers
    }
    headers[FORWARDED_HEADER] = "1"
    if request.content_type:
        headers["Content-Type"] = request.content_type
    timeout = aiohttp.ClientTimeout(total=request.app[SETTINGS].request_timeout)
    try:
        async with request.app[PROXY].request(
            request.method,
            URL(url, encoded=True),
            data=await request.read(),
            headers=headers,
            timeout=timeout,
        ) as answer:
            body = await answer.read()
            relayed = {h: answer.headers[h] for h in RELAYED_HEADERS if h in answer.headers}
            return web.Response(
                body=body, status=answer.status, content_type=answer.content_type, headers=relayed
            )
    except (TimeoutError, aiohttp.ClientError) as exc:
        unknown = _is_write(request)
        return error_response(
            503,
            "timeout" if isinstance(exc, TimeoutError) else "forward_failed",
            f"forwarding to the leader at {url} failed: {exc!r}",
            outcome_unknown=unknown,
        )


# -- handlers ----------------------------------------------------------------------


async def _call(request: web.Request, work: Awaitable[Any]) -> Any:
    """Run a service call under the request timeout; a write that times out
    may still be applied, a read that times out had no effect."""
    seconds = request.app[SETTINGS].request_timeout
    try:
        async with asyncio.timeout(seconds):
            return await work
    except TimeoutError:
        write = _is_write(request)
        raise Timeout(
            f"no answer within {seconds}s" + ("; the write may still be applied" if write else ""),
            outcome_unknown=write,
        ) from None


def _key(request: web.Request) -> str:
    return check_key(request.match_info["key"], request.app[SETTINGS].limits)


async def _body(
    request: web.Request, allowed: tuple[str, ...], required: tuple[str, ...]
) -> dict[str, Any]:
    limit = request.app[SETTINGS].limits.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise too_large(f"the body is {request.content_length} bytes; the limit is {limit}")
    return json_object(await request.read(), allowed, required)


async def put_key(request: web.Request) -> web.Response:
    check_query_names(request.query, ())
    key, session = _key(request), session_from(request.headers)
    limits = request.app[SETTINGS].limits
    body = await _body(request, ("value",), ("value",))
    value = check_value(body["value"], "value", limits, nullable=False)
    assert value is not None
    await _call(request, request.app[SERVICE].put(key, value, session))
    return json_response({"key": key, "value": value})


async def get_key(request: web.Request) -> web.Response:
    check_query_names(request.query, ("stale",))
    key, stale = _key(request), query_bool(request.query, "stale")
    value = await _call(request, request.app[SERVICE].get(key, stale=stale))
    if value is None:
        raise ApiError(404, "not_found", f"key {key!r} is absent")
    return json_response({"key": key, "value": value})


async def delete_key(request: web.Request) -> web.Response:
    check_query_names(request.query, ())
    key, session = _key(request), session_from(request.headers)
    previous = await _call(request, request.app[SERVICE].delete(key, session))
    return json_response({"key": key, "previous": previous})


async def cas_key(request: web.Request) -> web.Response:
    check_query_names(request.query, ())
    key, session = _key(request), session_from(request.headers)
    limits = request.app[SETTINGS].limits
    body = await _body(request, ("expected", "new"), ("expected", "new"))
    expected = check_value(body["expected"], "expected", limits, nullable=True)
    new = check_value(body["new"], "new", limits, nullable=True)
    outcome = await _call(request, request.app[SERVICE].cas(key, expected, new, session))
    return json_response({"key": key, "swapped": outcome.swapped, "value": outcome.value})


async def list_keys(request: web.Request) -> web.Response:
    query = request.query
    check_query_names(query, ("prefix", "start", "end", "limit", "stale"))
    limits = request.app[SETTINGS].limits
    prefix = query.get("prefix")
    if prefix is not None and ("start" in query or "end" in query):
        raise bad("give either 'prefix' or 'start'/'end', not both", "bad_query")
    start, end = query.get("start", ""), query.get("end")
    for name, text in (("prefix", prefix), ("start", start), ("end", end)):
        if text:
            try:
                check_key(text, limits)
            except ApiError as err:
                raise bad(f"query parameter {name!r}: {err.message}", "bad_query") from None
    limit, stale = query_limit(query, limits), query_bool(query, "stale")
    pairs = await _call(
        request,
        request.app[SERVICE].list(start=start, end=end, prefix=prefix, limit=limit, stale=stale),
    )
    items = [{"key": k, "value": v} for k, v in pairs]
    return json_response({"items": items, "count": len(items)})


async def healthz(request: web.Request) -> web.Response:
    h = request.app[SERVICE].health()
    body = {"ready": h.ready, "role": h.role, "leader": h.leader, **h.details}
    return json_response(body, 200 if h.ready else 503)


async def metrics(request: web.Request) -> web.Response:
    data = generate_latest(request.app[METRICS].registry)
    response = web.Response(body=data)
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    response.charset = "utf-8"
    return response
