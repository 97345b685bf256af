"""The HTTP API end to end: real aiohttp servers on 127.0.0.1 (port 0) over a
real single-node store (``LocalService`` on ``KVStateMachine``), spoken to with
a plain aiohttp client, so every status, header and JSON body is the wire's."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson
import pytest

from kv.httpapi import (
    CLIENT_HEADER,
    FORWARDED_HEADER,
    SEQ_HEADER,
    KVService,
    Limits,
    LocalService,
    NotLeader,
    make_app,
)
from kv.httpapi.serve import serving
from kv.statemachine import Result

Body = Any


class Reply:
    def __init__(self, status: int, headers: Any, body: Body) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = self.body["error"]
        return error


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    json: Any = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    payload = orjson.dumps(json) if json is not None else data
    async with http.request(method, url, data=payload, headers=headers, allow_redirects=False) as r:
        raw = await r.read()
        body = orjson.loads(raw) if r.content_type == "application/json" else raw.decode()
        return Reply(r.status, r.headers, body)


def on_server(
    test: Callable[[aiohttp.ClientSession, str], Awaitable[None]],
    service: KVService | None = None,
    **app_options: Any,
) -> None:
    async def main() -> None:
        app = make_app(service if service is not None else LocalService(), **app_options)
        async with serving(app) as url, aiohttp.ClientSession() as http:
            await asyncio.wait_for(test(http, url), 30)

    asyncio.run(main())


def session(client: int, seq: int) -> dict[str, str]:
    return {CLIENT_HEADER: str(client), SEQ_HEADER: str(seq)}


# -- the operations ----------------------------------------------------------------


def test_put_get_delete_round_trip_and_absent_keys_are_404() -> None:
    async def test(http: aiohttp.ClientSession, url: str) -> None:
        r = await call(http, "PUT", f"{url}/v1/kv/a", json={"value": "1"})
        assert (r.status, r.body) == (200, {"key": "a", "value": "1"})
        r = await call(http, "GET", f"{url}/v1/kv/a")
        assert (r.status, r.body) == (200, {"key": "a", "value": "1"})
        r = await call(http, "DELETE", f"{url}/v1/kv/a")
        assert (r.status, r.body) == (200, {"key": "a", "previous": "1"})
        r = await call(http, "GET", f"{url}/v1/kv/a")
        assert r.status == 404 and r.error["code"] == "not_found"
        assert r.error["outcome_unknown"] is False
        r = await call(http, "DELETE", f"{url}/v1/kv/a")
        assert (r.status, r.body["previous"]) == (200, None)

    on_server(test)


def test_keys_with_slashes_spaces_and_unicode_survive_the_path() -> None:
    async def test(http: aiohttp.ClientSession, url: str) -> None:
        for key, quoted in (
            ("a/b/c", "a%2Fb%2Fc"),
            ("x y", "x%20y"),
            ("ключ", "%D0%BA%D0%BB%D1%8E%D1%87"),
        ):
            r = await call(http, "PUT", f"{url}/v1/kv/{quoted}", json={"value": key})
            assert r.status == 200 and r.body["key"] == key
            r = await call(http, "GET", f"{url}/v1/kv/{quoted}")
            assert r.body["value"] == key

    on_server(test)


def test_compare_and_set_swaps_only_on_the_expected_value() -> None:
    async def test(http: aiohttp.ClientSession, url: str) -> None:
        cas = f"{url}/v1/cas/k"
        r = await call(http, "POST", cas, json={"expected": None, "new": "1"})  # create if absent
        assert r.body == {"key": "k", "swapped": True, "value": "1"}
        r = await call(http, "POST", cas, json={"expected": "0", "new": "2"})
        assert r.status == 200 and r.body == {"key": "k", "swapped": False, "value": "1"}
        r = await call(http, "POST", cas, json={"expected": "1", "new": "2"})
        assert r.body["swapped"] is True
        r = await call(http, "POST", cas, json={"expected": "2", "new": None})  # delete
        assert r.body == {"key": "k", "swapped": True, "value": None}
        assert (await call(http, "GET", f"{url}/v1/kv/k")).status == 404

    on_server(test)


def test_listing_by_prefix_and_by_range_in_key_order_with_a_limit() -> None:
    async def test(http: aiohttp.ClientSession, url: str) -> None:
        for key in ("b2", "a", "b1", "c", "b3"):
            await call(http, "PUT", f"{url}/v1/kv/{key}", json={"value": key.upper()})

        async def keys(query: str) -> list[str]:
            r = await call(http, "GET", f"{url}/v1/kv?{query}")
            assert r.status == 200 and r.body["count"] == len(r.body["items"])
            return [item["key"] for item in r.body["items"]]

        assert await keys("prefix=b") == ["b1", "b2", "b3"]
        assert await keys("prefix=b&limit=2") == ["b1", "b2"]
        assert await keys("start=b2&end=c") == ["b2", "b3"]
        assert await keys("start=b2") == ["b2", "b3", "c"]
        assert await keys("") == ["a", "b1", "b2", "b3", "c"]
        assert await keys("prefix=b&stale=true") == ["b1", "b2", "b3"]
        r = await call(http, "GET", f"{url}/v1/kv?prefix=b")
        assert r.body["items"][0] == {"key": "b1", "value": "B1"}

    on_server(test)


def test_stale_reads_are_accepted_and_answer_from_the_local_state() -> None:
    async def test(http: aiohttp.ClientSession, url: str) -> None:
        await call(http, "PUT", f"{url}/v1/kv/a", json={"value": "1"})
        r = await call(http, "GET", f"{url}/v1/kv/a?stale=true")
        assert r.body["value"] == "1"

    on_server(test)


# -- exactly-once sessions --------------------------------------------------------------


def test_a_retried_write_with_the_same_session_is_applied_once() -> None:
    service = LocalService()

    async def test(http: aiohttp.ClientSession, url: str) -> None:
        cas = f"{url}/v1/cas/k"
        await call(http, "PUT", f"{url}/v1/kv/k", json={"value": "a"}, headers=session(7, 1))
        first = await call(
            http, "POST", cas, json={"expected": "a", "new": "b"}, headers=session(7, 2)
        )
        retry = await call(
            http, "POST", cas, json={"expected": "a", "new": "b"}, headers=session(7, 2)
        )
        # executed again, the compare would fail ("b" != "a"); the session answers the cached swap
        assert first.body["swapped"] is True and retry.body["swapped"] is True
        assert service.sm.sessions[7] == (2, Result(True, "b"))
        unsessioned = await call(http, "POST", cas, json={"expected": "a", "new": "b"})
        assert unsessioned.body["swapped"] is False

    on_server(test, service)


def test_an_older_sequence_number_is_refused_as_stale_with_outcome_unknown() -> None:
    async def test(http: aiohttp.ClientSession, url: str) -> None:
        await call(http, "PUT", f"{url}/v1/kv/k", json={"value": "a"}, headers=session(3, 5))
        r = await call(http, "PUT", f"{url}/v1/kv/k", json={"value": "b"}, headers=session(3, 4))
        assert r.status == 409 and r.error["code"] == "stale_sequence"
        assert r.error["outcome_unknown"] is True
        assert (await call(http, "GET", f"{url}/v1/kv/k")).body["value"] == "a"

    on_server(test)


# -- validation: every bad request is a 4xx JSON error naming what is wrong ----------------


BAD_REQUESTS = [
    # (method, path, body bytes, headers, status, code, words in the message)
    ("PUT", "/v1/kv/a", b"{not json", {}, 400, "bad_json", "not valid JSON"),
    ("PUT", "/v1/kv/a", b"[1, 2]", {}, 400, "bad_json", "JSON object, not list"),
    ("PUT", "/v1/kv/a", b"", {}, 400, "bad_request", "'value'"),
    ("PUT", "/v1/kv/a", b'{"value": 5}', {}, 400, "bad_value", "'value' must be a string, not int"),
    ("PUT", "/v1/kv/a", b'{"value": null}', {}, 400, "bad_value", "'value' must be a string"),
    ("PUT", "/v1/kv/a", b'{"val": "x"}', {}, 400, "bad_field", "'val'"),
    ("PUT", "/v1/kv/a", b'{"value": "x", "ttl": 3}', {}, 400, "bad_field", "'ttl'"),
    ("POST", "/v1/cas/a", b'{"expected": "x"}', {}, 400, "bad_field", "missing field 'new'"),
    ("POST", "/v1/cas/a", b'{"expected": 1, "new": "x"}', {}, 400, "bad_value", "'expected'"),
    ("POST", "/v1/cas/a", b'{"expected": "x", "new": ["y"]}', {}, 400, "bad_value", "'new'"),
    ("PUT", "/v1/kv/a", b'{"value": "x"}', {CLIENT_HEADER: "1"}, 400, "bad_session", "go together"),
    (
        "PUT",
        "/v1/kv/a",
        b'{"value": "x"}',
        {CLIENT_HEADER: "1", SEQ_HEADER: "x"},
        400,
        "bad_session",
        SEQ_HEADER,
    ),
    (
        "PUT",
        "/v1/kv/a",
        b'{"value": "x"}',
        {CLIENT_HEADER: "0", SEQ_HEADER: "1"},
        400,
        "bad_session",
        CLIENT_HEADER,
    ),
    (
        "PUT",
        "/v1/kv/a",
        b'{"value": "x"}',
        {CLIENT_HEADER: "-3", SEQ_HEADER: "1"},
        400,
        "bad_session",
        CLIENT_HEADER,
    ),
    ("PUT", "/v1/kv/a?stale=1", b'{"value": "x"}', {}, 400, "bad_query", "'stale'"),
    ("GET", "/v1/kv/a?stale=maybe", b"", {}, 400, "bad_query", "'stale' must be true or false"),
    ("GET", "/v1/kv/a?consistent=1", b"", {}, 400, "bad_query", "'consistent'"),
    ("GET", "/v1/kv?limit=0", b"", {}, 400, "bad_query", "'limit'"),
    ("GET", "/v1/kv?limit=ten", b"", {}, 400, "bad_query", "'limit'"),
    ("GET", "/v1/kv?limit=10001", b"", {}, 400, "bad_query", "10000"),
    ("GET", "/v1/kv?prefix=a&start=b", b"", {}, 400, "bad_query", "not both"),
    ("GET", "/v1/nothing", b"", {}, 404, "no_route", "/v1/nothing"),
    ("PATCH", "/v1/kv/a", b"", {}, 405, "bad_method", "PATCH"),
    ("POST", "/v1/kv/a", b"", {}, 405, "bad_method", "POST"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "code", "words"),
    BAD_REQUESTS,
    ids=[f"{m} {p} {c}" for m, p, _, _, _, c, _ in BAD_REQUESTS],
)
def test_bad_requests_get_a_4xx_json_error_naming_the_problem(
    method: str, path: str, body: bytes, headers: dict[str, str], status: int, code: str, words: str
) -> None:
    service = LocalService()

    async def test(http: aiohttp.ClientSession, url: str) -> None:
        r = await call(http, method, url + path, data=body or None, headers=headers)
        assert r.status == status, r.body
        assert r.error["code"] == code
        assert words in r.error["message"]
        assert r.error["outcome_unknown"] is False

    on_server(test, service)
    assert service.log == []  # nothing refused reached the store


async def chunked_put(http: aiohttp.ClientSession, url: str, body: bytes) -> Reply:
    async def chunks() -> Any:
        for i in range(0, len(body), 1024):
            yield body[i : i + 1024]

    async with http.put(url, data=chunks()) as r:
        assert r.request_info.headers.get("Transfer-Encoding") == "chunked"
        return Reply(r.status, r.headers, orjson.loads(await r.read()))


def test_oversized_keys_values_and_bodies_are_413() -> None:
    limits = Limits(max_key_bytes=8, max_value_bytes=16)
    service = LocalService()

    async def test(http: aiohttp.ClientSession, url: str) -> None:
        r = await call(http, "PUT", f"{url}/v1/kv/{'k' * 9}", json={"value": "x"})
        assert (r.status, r.error["code"]) == (413, "too_large") and "key is 9 bytes" in r.error[
            "message"
        ]
        r = await call(http, "PUT", f"{url}/v1/kv/k", json={"value": "é" * 9})  # 18 bytes of UTF-8
        assert r.status == 413 and "'value' is 18 bytes; the limit is 16" in r.error["message"]
        r = await call(http, "POST", f"{url}/v1/cas/k", json={"expected": "x" * 17, "new": "y"})
        assert r.status == 413 and "'expected'" in r.error["message"]
        r = await call(http, "PUT", f"{url}/v1/kv/k", data=b" " * (limits.max_body_bytes + 1))
        assert r.status == 413 and r.error["code"] == "too_large"
        r = await chunked_put(http, f"{url}/v1/kv/k", b" " * (limits.max_body_bytes + 1))
        assert r.status == 413 and r.error["code"] == "too_large"  # no Content-Length to go by
        r = await call(http, "PUT", f"{url}/v1/kv/{'k' * 8}", json={"value": "x" * 16})
        assert r.status == 200  # exactly at the limits is fine

    on_server(test, service, limits=limits)
    assert len(service.log) == 1


# -- timeouts ---------------------------------------------------------------------------


class StuckService(LocalService):
    """A store whose writes never commit (no quorum, say) and whose reads never
    get their ReadIndex confirmed: every call waits until cancelled."""

    async def submit(self, text: str) -> Result | None:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def get(self, key: str, *, stale: bool = False) -> str | None:
        if stale:
            return await super().get(key, stale=True)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def test_a_write_that_times_out_answers_503_with_outcome_unknown() -> None:
    async def test(http: aiohttp.ClientSession, url: str) -> None:
        for method, path, body in (
            ("PUT", "/v1/kv/a", {"value": "1"}),
            ("DELETE", "/v1/kv/a", None),
            ("POST", "/v1/cas/a", {"expected": None, "new": "1"}),
        ):
            r = await call(http, method, url + path, json=body)
            assert r.status == 503 and r.error["code"] == "timeout"
            assert (
                r.error["outcome_unknown"] is True and "may still be applied" in r.error["message"]
            )
            assert r.headers["Retry-After"] == "1"

    on_server(test, StuckService(), request_timeout=0.05)


def test_a_read_that_times_out_answers_503_with_a_known_outcome() -> None:
    async def test(http: aiohttp.ClientSession, url: str) -> None:
        r = await call(http, "GET", f"{url}/v1/kv/a")
        assert r.status == 503 and r.error["code"] == "timeout"
        assert r.error["outcome_unknown"] is False
        assert (await call(http, "GET", f"{url}/v1/kv/a?stale=true")).status == 404

    on_server(test, StuckService(), request_timeout=0.05)


# -- forwarding to the leader -------------------------------------------------------------


class FollowerService(LocalService):
    """A follower that knows its leader's HTTP URL (or none): it serves stale
    reads itself and refuses everything else with ``NotLeader``."""

    def __init__(self, leader: str | None) -> None:
        super().__init__()
        self.leader = leader

    async def submit(self, text: str) -> Result | None:
        raise NotLeader(self.leader)

    async def get(self, key: str, *, stale: bool = False) -> str | None:
        if stale:
            return await super().get(key, stale=True)
        raise NotLeader(self.leader)

    async def list(self, **query: Any) -> list[tuple[str, str]]:
        if query.get("stale"):
            return await super().list(**query)
        raise NotLeader(self.leader)


def on_leader_and_follower(
    test: Callable[[aiohttp.ClientSession, str, str, LocalService], Awaitable[None]],
    forward: str,
    *,
    leader_known: bool = True,
) -> None:
    async def main() -> None:
        leader = LocalService()
        async with serving(make_app(leader)) as leader_url:
            follower = FollowerService(leader_url if leader_known else None)
            async with (
                serving(make_app(follower, forward=forward)) as follower_url,
                aiohttp.ClientSession() as http,
            ):
                await asyncio.wait_for(test(http, leader_url, follower_url, leader), 30)

    asyncio.run(main())


def test_a_follower_proxies_requests_to_the_leader_with_their_session() -> None:
    async def test(
        http: aiohttp.ClientSession, leader_url: str, url: str, leader: LocalService
    ) -> None:
        r = await call(
            http, "PUT", f"{url}/v1/kv/a%2Fb", json={"value": "1"}, headers=session(9, 1)
        )
        assert (r.status, r.body) == (200, {"key": "a/b", "value": "1"})
        assert leader.sm.sessions[9][0] == 1  # the session travelled with the request
        r = await call(http, "GET", f"{url}/v1/kv/a%2Fb")
        assert r.body["value"] == "1"
        r = await call(http, "GET", f"{url}/v1/kv/a%2Fb?stale=true")
        assert r.status == 404  # the follower's own (empty) copy
        r = await call(http, "GET", f"{url}/v1/kv/zz")
        assert r.status == 404 and r.error["code"] == "not_found"  # the leader's answer, relayed
        r = await call(http, "POST", f"{url}/v1/cas/a%2Fb", json={"expected": "1", "new": "2"})
        assert r.body["swapped"] is True and leader.sm.read("a/b") == "2"
        r = await call(http, "PUT", f"{url}/v1/kv/50%25%3Fx%23", json={"value": "q"})
        assert r.body["key"] == "50%?x#" and leader.sm.read("50%?x#") == "q"

    on_leader_and_follower(test, "proxy")


def test_a_follower_in_redirect_mode_answers_307_to_the_leader() -> None:
    async def test(
        http: aiohttp.ClientSession, leader_url: str, url: str, leader: LocalService
    ) -> None:
        r = await call(http, "PUT", f"{url}/v1/kv/a?", json={"value": "1"})
        assert r.status == 307 and r.headers["Location"] == f"{leader_url}/v1/kv/a"
        assert r.error["code"] == "not_leader" and r.error["leader"] == leader_url
        assert leader.log == []
        r = await call(http, "GET", f"{url}/v1/kv?prefix=p&limit=3")
        assert r.headers["Location"] == f"{leader_url}/v1/kv?prefix=p&limit=3"
        r = await call(http, "GET", f"{url}/v1/kv/a%2Fb%3F")
        assert r.headers["Location"] == f"{leader_url}/v1/kv/a%2Fb%3F"

    on_leader_and_follower(test, "redirect")


def test_without_a_known_leader_a_follower_answers_503_not_leader() -> None:
    async def test(
        http: aiohttp.ClientSession, leader_url: str, url: str, leader: LocalService
    ) -> None:
        r = await call(http, "PUT", f"{url}/v1/kv/a", json={"value": "1"})
        assert r.status == 503 and r.error["code"] == "not_leader"
        assert r.error["leader"] is None and r.error["outcome_unknown"] is False
        assert r.headers["Retry-After"] == "1"

    on_leader_and_follower(test, "proxy", leader_known=False)


def test_a_forwarded_request_is_never_forwarded_again() -> None:
    async def test(
        http: aiohttp.ClientSession, leader_url: str, url: str, leader: LocalService
    ) -> None:
        r = await call(
            http, "PUT", f"{url}/v1/kv/a", json={"value": "1"}, headers={FORWARDED_HEADER: "1"}
        )
        assert r.status == 503 and r.error["code"] == "not_leader"
        assert r.error["leader"] == leader_url and leader.log == []

    on_leader_and_follower(test, "proxy")


def test_a_proxied_write_whose_leader_is_gone_answers_outcome_unknown() -> None:
    async def main() -> None:
        leader = LocalService()
        async with serving(make_app(leader)) as gone:
            pass  # the port is closed again: the "leader" is down
        async with (
            serving(make_app(FollowerService(gone))) as url,
            aiohttp.ClientSession() as http,
        ):
            r = await call(http, "PUT", f"{url}/v1/kv/a", json={"value": "1"})
            assert r.status == 503 and r.error["code"] == "forward_failed"
            assert r.error["outcome_unknown"] is True
            r = await call(http, "GET", f"{url}/v1/kv/a")
            assert r.status == 503 and r.error["outcome_unknown"] is False

    asyncio.run(main())


# -- /healthz and /metrics ----------------------------------------------------------------


def test_healthz_reports_the_service_health() -> None:
    async def test(http: aiohttp.ClientSession, url: str) -> None:
        r = await call(http, "GET", f"{url}/healthz")
        assert r.status == 200 and r.body["ready"] is True and r.body["role"] == "leader"

    on_server(test)


def test_metrics_count_requests_per_route_and_status_in_each_apps_own_registry() -> None:
    async def main() -> None:
        async with (
            serving(make_app(LocalService())) as one,
            serving(make_app(LocalService())) as two,
            aiohttp.ClientSession() as http,
        ):
            await call(http, "PUT", f"{one}/v1/kv/a", json={"value": "1"})
            await call(http, "PUT", f"{one}/v1/kv/b", json={"value": 1})
            await call(http, "GET", f"{one}/v1/kv/a")
            r = await call(http, "GET", f"{one}/metrics")
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
            text = r.body
            assert (
                'raftlab_http_requests_total{method="PUT",route="/v1/kv/{key}",status="200"} 1.0'
                in text
            )
            assert (
                'raftlab_http_requests_total{method="PUT",route="/v1/kv/{key}",status="400"} 1.0'
                in text
            )
            assert (
                'raftlab_http_requests_total{method="GET",route="/v1/kv/{key}",status="200"} 1.0'
                in text
            )
            assert "raftlab_http_request_duration_seconds_bucket" in text
            other = (await call(http, "GET", f"{two}/metrics")).body
            assert 'route="/v1/kv/{key}"' not in other  # no shared, global registry

    asyncio.run(main())


def test_make_app_refuses_an_unknown_forward_mode() -> None:
    with pytest.raises(ValueError, match="forward"):
        make_app(LocalService(), forward="teleport")


def test_a_proxying_follower_relays_the_leaders_timeout_unchanged() -> None:
    async def main() -> None:
        async with serving(make_app(StuckService(), request_timeout=0.05)) as leader_url:
            follower = make_app(FollowerService(leader_url), request_timeout=5.0)
            async with serving(follower) as url, aiohttp.ClientSession() as http:
                r = await call(http, "PUT", f"{url}/v1/kv/a", json={"value": "1"})
                assert r.status == 503 and r.error["code"] == "timeout"
                assert r.error["outcome_unknown"] is True and r.headers["Retry-After"] == "1"
                r = await call(http, "GET", f"{url}/v1/kv/a")
                assert r.status == 503 and r.error["outcome_unknown"] is False

    asyncio.run(main())
