"""The client library and the load generator against real servers on
127.0.0.1 (port 0) over a real single-node store: exactly-once retries,
endpoint failover, leader following, and histories that ``raftlab lincheck``
reads and judges."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from kv.addresses import free_ports
from kv.client import ClientOptions, KVClient, OutcomeUnknown, Rejected, Unavailable
from kv.history import HistoryRecorder
from kv.httpapi import Limits, LocalService, NotLeader, make_app
from kv.httpapi.serve import serving
from kv.loadgen import Workload, percentiles, run_load
from kv.statemachine import Result
from raftlab.cli import app as cli

FAST = ClientOptions(attempt_timeout=0.5, op_timeout=2.0, backoff=0.005, max_backoff=0.05)


def lincheck(path: Path) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["lincheck", str(path), "--json"])
    summary: dict[str, Any] = orjson.loads(result.stdout) if result.exit_code in (0, 1) else {}
    return result.exit_code, summary


def history_lines(history: HistoryRecorder) -> list[tuple[Any, ...]]:
    return [(x["type"], x["f"], x["key"], x["value"]) for x in history.lines]


def on_server(
    test: Callable[[str], Awaitable[None]], service: LocalService | None = None, **options: Any
) -> None:
    async def main() -> None:
        async with serving(make_app(service or LocalService(), **options)) as url:
            await asyncio.wait_for(test(url), 30)

    asyncio.run(main())


def dead_url() -> str:
    """An address where nothing listens (a port that was free a moment ago)."""
    return f"http://127.0.0.1:{free_ports(1)[0]}"


# -- operations and their history ------------------------------------------------------


def test_operations_are_recorded_and_the_history_is_linearizable(tmp_path: Path) -> None:
    history = HistoryRecorder(test="client")

    async def test(url: str) -> None:
        async with KVClient([url], history=history, lane="c1", options=FAST) as c:
            await c.put("x", "1")
            assert await c.get("x") == "1"
            assert await c.get("absent") is None
            assert await c.cas("x", "1", "2") is True
            assert await c.cas("x", "1", "3") is False
            assert await c.delete("x") == "2"
            assert await c.get("x", stale=True) is None  # not recorded
            await c.put("p/1", "a")
            assert await c.list(prefix="p/") == [("p/1", "a")]  # not recorded

    on_server(test)
    assert history_lines(history) == [
        ("invoke", "put", "x", "1"),
        ("ok", "put", "x", "1"),
        ("invoke", "get", "x", None),
        ("ok", "get", "x", "1"),
        ("invoke", "get", "absent", None),
        ("ok", "get", "absent", None),
        ("invoke", "cas", "x", ["1", "2"]),
        ("ok", "cas", "x", ["1", "2"]),
        ("invoke", "cas", "x", ["1", "3"]),
        ("fail", "cas", "x", ["1", "3"]),
        ("invoke", "delete", "x", None),
        ("ok", "delete", "x", None),
        ("invoke", "put", "p/1", "a"),
        ("ok", "put", "p/1", "a"),
    ]
    times = [x["time"] for x in history.lines]
    assert times == sorted(times)
    path = history.write(tmp_path / "history.jsonl")
    code, summary = lincheck(path)
    assert (code, summary["verdict"]) == (0, "linearizable")

    # the same history with one read that saw a value never written must be rejected
    lines = path.read_bytes().splitlines()
    lied = [orjson.loads(x) for x in lines]
    lied[4]["value"] = "9"  # ok get x -> "9"
    path.write_bytes(b"\n".join(orjson.dumps(x) for x in lied) + b"\n")
    code, summary = lincheck(path)
    assert (code, summary["verdict"]) == (1, "not-linearizable")


def test_writes_carry_the_client_id_and_consecutive_sequence_numbers() -> None:
    service = LocalService()

    async def test(url: str) -> None:
        async with KVClient([url], client_id=42, options=FAST) as c:
            await c.put("a", "1")
            await c.get("a")
            await c.cas("a", "1", "2")
            await c.delete("a")

    on_server(test, service)
    commands = [orjson.loads(x) for x in service.log]
    assert [(x["op"], x["client"], x["seq"]) for x in commands] == [
        ("put", 42, 1),
        ("cas", 42, 2),
        ("delete", 42, 3),
    ]


# -- exactly-once retries --------------------------------------------------------------------


class LosesFirstReply(LocalService):
    """Applies every command, but the first answer is lost: that request waits
    until the HTTP layer's timeout answers 503 with the outcome unknown (or the
    client's own attempt timeout fires first)."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0

    async def submit(self, text: str) -> Result | None:
        result = await super().submit(text)
        if self.lost == 0:
            self.lost += 1
            await asyncio.Event().wait()
        return result


@pytest.mark.parametrize(
    ("request_timeout", "attempt_timeout"),
    [(0.05, 1.0), (0.4, 0.1)],
    ids=["server-503-outcome-unknown", "client-attempt-timeout"],
)
def test_a_write_whose_reply_is_lost_is_retried_with_the_same_seq_and_applied_once(
    request_timeout: float, attempt_timeout: float, tmp_path: Path
) -> None:
    service = LosesFirstReply()
    history = HistoryRecorder()
    options = ClientOptions(attempt_timeout=attempt_timeout, op_timeout=5.0, backoff=0.005)

    async def test(url: str) -> None:
        service.sm.apply(0, '{"op":"put","key":"k","value":"a"}')
        async with KVClient([url], history=history, options=options) as c:
            # applied twice, the compare of the second would fail ("b" != "a")
            assert await c.cas("k", "a", "b") is True
            assert await c.get("k") == "b"

    on_server(test, service, request_timeout=request_timeout)
    cas = [x for x in service.log if '"cas"' in x]
    assert len(cas) == 2 and cas[0] == cas[1]  # the retry: same command, same seq
    assert service.sm.read("k") == "b"
    assert history_lines(history)[:2] == [
        ("invoke", "cas", "k", ["a", "b"]),
        ("ok", "cas", "k", ["a", "b"]),
    ]


def test_the_client_moves_past_an_endpoint_that_refuses_connections() -> None:
    service = LocalService()

    async def test(url: str) -> None:
        async with KVClient([dead_url(), url], options=FAST) as c:
            await c.put("a", "1")
            assert c.leader == url
            assert await c.get("a") == "1"

    on_server(test, service)
    assert len(service.log) == 1


def test_with_every_endpoint_down_operations_fail_without_an_unknown_outcome() -> None:
    history = HistoryRecorder()
    options = ClientOptions(attempt_timeout=0.2, op_timeout=0.3, backoff=0.01)

    async def main() -> None:
        async with KVClient([dead_url(), dead_url()], history=history, options=options) as c:
            with pytest.raises(Unavailable, match="cannot connect"):
                await c.put("a", "1")  # never reached a server: certainly not applied
            with pytest.raises(Unavailable):
                await c.get("a")

    asyncio.run(main())
    assert [t for t, *_ in history_lines(history)] == ["invoke", "fail", "invoke", "fail"]


class NeverCommits(LocalService):
    async def submit(self, text: str) -> Result | None:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def get(self, key: str, *, stale: bool = False) -> str | None:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def test_a_write_that_never_commits_is_recorded_info_and_a_read_fail(tmp_path: Path) -> None:
    history = HistoryRecorder()
    options = ClientOptions(attempt_timeout=0.1, op_timeout=0.3, backoff=0.01)

    async def test(url: str) -> None:
        async with KVClient([url], history=history, options=options) as c:
            with pytest.raises(OutcomeUnknown, match="timeout"):
                await c.put("a", "1")
            with pytest.raises(Unavailable):
                await c.get("a")

    on_server(test, NeverCommits(), request_timeout=0.05)
    assert [t for t, *_ in history_lines(history)] == ["invoke", "info", "invoke", "fail"]
    code, summary = lincheck(history.write(tmp_path / "h.jsonl"))
    assert (code, summary["verdict"]) == (0, "linearizable")


def test_a_refused_request_is_rejected_at_once_and_recorded_as_failed() -> None:
    history = HistoryRecorder()
    service = LocalService()

    async def test(url: str) -> None:
        async with KVClient([url], history=history, options=FAST) as c:
            with pytest.raises(Rejected, match="too_large"):
                await c.put("a", "x" * 9)

    on_server(test, service, limits=Limits(max_value_bytes=8))
    assert [t for t, *_ in history_lines(history)] == ["invoke", "fail"]
    assert service.log == []


class Follower(LocalService):
    def __init__(self, leader: str) -> None:
        super().__init__()
        self.leader = leader

    async def submit(self, text: str) -> Result | None:
        raise NotLeader(self.leader)

    async def get(self, key: str, *, stale: bool = False) -> str | None:
        raise NotLeader(self.leader)


def test_the_client_follows_a_redirect_to_the_leader_and_stays_there() -> None:
    leader = LocalService()

    async def main() -> None:
        async with serving(make_app(leader)) as leader_url:
            follower = Follower(leader_url)
            async with (
                serving(make_app(follower, forward="redirect")) as follower_url,
                KVClient([follower_url], options=FAST) as c,
            ):
                await c.put("a", "1")
                assert c.leader == leader_url
                assert await c.get("a") == "1"

    asyncio.run(main())
    assert leader.sm.read("a") == "1"


# -- the load generator -------------------------------------------------------------------------


def test_the_load_generator_runs_its_mix_and_its_history_is_linearizable(tmp_path: Path) -> None:
    history = HistoryRecorder()
    service = LocalService()
    results: list[Any] = []

    async def test(url: str) -> None:
        workload = Workload(clients=4, keys=3, ops=200, seed=5, client_options=FAST)
        results.append(await run_load([url], workload, history))

    on_server(test, service)
    (result,) = results
    body = orjson.loads(orjson.dumps(result.to_json()))
    assert body["ops"] == 200 and body["ok"] + body["fail"] + body["info"] == 200
    assert body["info"] == 0
    assert set(body["by_op"]) == {"get", "put", "cas", "delete"}
    assert sum(v["count"] for v in body["by_op"].values()) == 200
    assert body["latency_ms"]["p50"] <= body["latency_ms"]["p99"] <= body["latency_ms"]["max"]
    assert body["throughput"] > 0
    invokes = [x for x in history.lines if x["type"] == "invoke"]
    assert len(invokes) == 200 and {x["client"] for x in invokes} == {0, 1, 2, 3}
    assert any(x["type"] == "ok" and x["f"] == "cas" for x in history.lines)  # some CAS swap
    code, summary = lincheck(history.write(tmp_path / "h.jsonl"))
    assert (code, summary["verdict"]) == (0, "linearizable")


def test_an_open_loop_rate_spaces_the_operations_out() -> None:
    results: list[Any] = []

    async def test(url: str) -> None:
        workload = Workload(clients=4, ops=40, rate=200.0, client_options=FAST)
        results.append(await run_load([url], workload))

    on_server(test)
    # each client sends 10 operations 4/200 s apart: at least 9 intervals
    assert results[0].ops == 40 and results[0].seconds >= 9 * 4 / 200


def test_a_duration_bounds_a_run_without_an_op_count() -> None:
    results: list[Any] = []

    async def test(url: str) -> None:
        workload = Workload(clients=2, ops=None, duration=0.2, client_options=FAST)
        results.append(await run_load([url], workload))

    on_server(test)
    assert results[0].ops > 0 and results[0].seconds >= 0.2


def test_percentiles_use_the_nearest_rank() -> None:
    samples = [float(x) for x in range(1, 101)]
    assert percentiles(samples) == {"p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0}
    assert percentiles([3.0]) == {"p50": 3.0, "p90": 3.0, "p99": 3.0, "max": 3.0}
    assert percentiles([])["p50"] == 0.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ops": None, "duration": None}, "op count or a duration"),
        ({"clients": 0}, "at least one client"),
        ({"mix": (("get", 1.0), ("scan", 1.0))}, "scan"),
    ],
)
def test_a_workload_refuses_nonsense(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Workload(**options)
