"""bench/kv.py: its etcd adapter, its summary and plot, and a short real run.

etcd is not installed here, so the adapter's mapping is checked against
answers in the shapes etcd's v3 JSON gateway gives (64-bit integers as
strings, zero values left out, base64 bytes), and then end to end through
the real HTTP API against a small in-process stand-in that answers in those
shapes. The short run starts the PySyncObj peer for real and checks the
JSON lines' fields; no test asserts a speed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bench.kvbench import etcd, profile, report
from kv.client import ClientOptions, KVClient
from kv.httpapi import make_app
from kv.httpapi.serve import serving
from kv.httpapi.service import CasOutcome, Timeout, Unavailable
from kv.loadgen import Workload, run_load

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "kv.py"

# -- recorded gateway answers ----------------------------------------------------------

HEADER = {
    "cluster_id": "12585971608760269493",
    "member_id": "13847567121247652255",
    "revision": "2",
    "raft_term": "3",
}
FOO_BAR = {
    "key": "Zm9v",  # foo
    "create_revision": "2",
    "mod_revision": "2",
    "version": "1",
    "value": "YmFy",  # bar
}
RANGE_FOUND = {"header": HEADER, "kvs": [FOO_BAR], "count": "1"}
RANGE_EMPTY = {"header": HEADER}  # no kvs, no count: both are at their zero value
EMPTY_VALUE = {"header": HEADER, "kvs": [{"key": "Zm9v", "create_revision": "2"}], "count": "1"}
DELETED = {"header": HEADER, "deleted": "1", "prev_kvs": [FOO_BAR]}
DELETED_NOTHING = {"header": HEADER}
TXN_SUCCEEDED = {
    "header": HEADER,
    "succeeded": True,
    "responses": [{"response_put": {"header": {"revision": "3"}}}],
}
TXN_FAILED = {  # no "succeeded": false is its zero value
    "header": HEADER,
    "responses": [
        {"response_range": {"header": {"revision": "3"}, "kvs": [FOO_BAR], "count": "1"}}
    ],
}
TXN_FAILED_ABSENT = {
    "header": HEADER,
    "responses": [{"response_range": {"header": {"revision": "3"}}}],
}
ERROR_34 = {
    "error": "etcdserver: request timed out",
    "code": 14,
    "message": "etcdserver: request timed out",
}
ERROR_35 = {"code": 3, "message": "etcdserver: key is not provided", "details": []}


def decoded(field: str) -> str:
    return base64.b64decode(field).decode()


def test_requests_carry_base64_keys_and_values() -> None:
    assert etcd.put_request("foo", "bar") == ("kv/put", {"key": "Zm9v", "value": "YmFy"})
    assert etcd.get_request("foo", stale=False) == ("kv/range", {"key": "Zm9v"})
    assert etcd.get_request("foo", stale=True)[1]["serializable"] is True
    assert etcd.delete_request("foo") == ("kv/deleterange", {"key": "Zm9v", "prev_kv": True})
    assert decoded(etcd.put_request("ключ/☃", "v")[1]["key"]) == "ключ/☃"


def test_range_answers_map_to_values() -> None:
    assert etcd.value_of(RANGE_FOUND) == "bar"
    assert etcd.value_of(RANGE_EMPTY) is None
    assert etcd.value_of(EMPTY_VALUE) == ""  # an empty value is left out of the answer
    assert etcd.pairs_of(RANGE_FOUND) == [("foo", "bar")]
    assert etcd.pairs_of(RANGE_EMPTY) == []


def test_delete_answers_map_to_the_previous_value() -> None:
    assert etcd.previous_of(DELETED) == "bar"
    assert etcd.previous_of(DELETED_NOTHING) is None


def test_cas_is_a_txn_on_value_or_on_absence() -> None:
    path, body = etcd.cas_request("foo", "bar", "baz")
    assert path == "kv/txn"
    assert body["compare"] == [
        {"key": "Zm9v", "target": "VALUE", "result": "EQUAL", "value": "YmFy"}
    ]
    assert body["success"] == [{"request_put": {"key": "Zm9v", "value": "YmF6"}}]
    assert body["failure"] == [{"request_range": {"key": "Zm9v"}}]
    _, create = etcd.cas_request("foo", None, "bar")
    assert create["compare"] == [
        {"key": "Zm9v", "target": "CREATE", "result": "EQUAL", "create_revision": "0"}
    ]
    _, remove = etcd.cas_request("foo", "bar", None)
    assert remove["success"] == [{"request_delete_range": {"key": "Zm9v"}}]


def test_txn_answers_map_to_cas_outcomes() -> None:
    assert etcd.cas_outcome_of(TXN_SUCCEEDED, "baz") == CasOutcome(True, "baz")
    assert etcd.cas_outcome_of(TXN_FAILED, "baz") == CasOutcome(False, "bar")
    assert etcd.cas_outcome_of(TXN_FAILED_ABSENT, "baz") == CasOutcome(False, None)


def test_listing_ranges() -> None:
    _, by_prefix = etcd.list_request("", None, "fo", 10, stale=False)
    assert decoded(by_prefix["key"]) == "fo" and decoded(by_prefix["range_end"]) == "fp"
    assert by_prefix["limit"] == "10"
    _, everything = etcd.list_request("", None, None, 0, stale=True)
    assert decoded(everything["key"]) == "\0" and decoded(everything["range_end"]) == "\0"
    assert "limit" not in everything and everything["serializable"] is True
    _, bounded = etcd.list_request("a", "c", None, 0, stale=False)
    assert (decoded(bounded["key"]), decoded(bounded["range_end"])) == ("a", "c")


def test_gateway_errors_map_to_what_a_client_may_conclude() -> None:
    timeout = etcd.error_of(503, ERROR_34)
    assert (timeout.code, timeout.message) == (14, "etcdserver: request timed out")
    refused = etcd.error_of(400, ERROR_35)
    assert refused.code == 3
    assert etcd.error_of(502, "<html>").code == 2
    write = etcd.service_error(timeout, write=True)
    assert isinstance(write, Timeout) and write.outcome_unknown
    read = etcd.service_error(timeout, write=False)
    assert isinstance(read, Timeout) and not read.outcome_unknown
    assert isinstance(etcd.service_error(refused, write=True), Unavailable)


# -- the adapter end to end, over a stand-in gateway -----------------------------------


def fake_gateway() -> web.Application:
    """Just enough of etcd's gateway, answering in its shapes (zero values
    left out, integers as strings), over a dict of base64 key -> base64 value."""
    data: dict[str, str] = {}

    def kvs(keys: list[str]) -> dict[str, Any]:
        if not keys:
            return {"header": HEADER}
        items = [{"key": k, "create_revision": "2", "value": data[k]} for k in keys]
        return {"header": HEADER, "kvs": items, "count": str(len(items))}

    def in_range(body: dict[str, Any]) -> list[str]:
        if "range_end" not in body:
            return [body["key"]] if body["key"] in data else []
        low, high = base64.b64decode(body["key"]), base64.b64decode(body["range_end"])
        keys = sorted(
            k
            for k in data
            if low <= base64.b64decode(k) and (high == b"\0" or base64.b64decode(k) < high)
        )
        return keys[: int(body["limit"])] if "limit" in body else keys

    async def put(request: web.Request) -> web.Response:
        body = await request.json()
        data[body["key"]] = body["value"]
        return web.json_response({"header": HEADER})

    async def range_(request: web.Request) -> web.Response:
        return web.json_response(kvs(in_range(await request.json())))

    async def deleterange(request: web.Request) -> web.Response:
        key = (await request.json())["key"]
        if key not in data:
            return web.json_response({"header": HEADER})
        value = data.pop(key)
        return web.json_response(
            {"header": HEADER, "deleted": "1", "prev_kvs": [{"key": key, "value": value}]}
        )

    async def txn(request: web.Request) -> web.Response:
        body = await request.json()
        (compare,) = body["compare"]
        key = compare["key"]
        holds = (
            key not in data if compare["target"] == "CREATE" else data.get(key) == compare["value"]
        )
        if not holds:
            return web.json_response(
                {"header": HEADER, "responses": [{"response_range": kvs(in_range({"key": key}))}]}
            )
        (op,) = body["success"]
        if "request_put" in op:
            data[key] = op["request_put"]["value"]
        else:
            data.pop(key, None)
        return web.json_response({"header": HEADER, "succeeded": True, "responses": [{}]})

    app = web.Application()
    app.add_routes(
        [
            web.post("/v3/kv/put", put),
            web.post("/v3/kv/range", range_),
            web.post("/v3/kv/deleterange", deleterange),
            web.post("/v3/kv/txn", txn),
        ]
    )
    return app


def test_the_adapter_serves_the_http_api_and_the_load_generator() -> None:
    async def main() -> None:
        options = ClientOptions(attempt_timeout=1.0, op_timeout=3.0)
        async with (
            serving(fake_gateway()) as gateway,
            aiohttp.ClientSession() as http,
            serving(make_app(etcd.EtcdService(gateway, http))) as url,
        ):
            async with KVClient([url], options=options) as c:
                await c.put("fo/1", "a")
                assert await c.get("fo/1") == "a"
                assert await c.get("absent") is None
                assert await c.cas("fo/1", "a", "b") is True
                assert await c.cas("fo/1", "a", "c") is False
                assert await c.cas("fo/2", None, "x") is True
                assert await c.list(prefix="fo/") == [("fo/1", "b"), ("fo/2", "x")]
                assert await c.delete("fo/2") == "x"
                assert await c.delete("fo/2") is None
            result = await run_load([url], Workload(clients=4, ops=200, client_options=options))
            assert result.ops == 200 and result.info == 0
            assert result.ok + result.fail == 200

    asyncio.run(asyncio.wait_for(main(), 60))


# -- the summary and the plot ----------------------------------------------------------


def load(target: str, clients: int, throughput: float, p50: float, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "load",
        "target": target,
        "nodes": 3,
        "fsync": target != "pysyncobj",
        "clients": clients,
        "throughput": throughput,
        "p50_ms": p50,
        "p99_ms": 2 * p50,
        **extra,
    }


def failover(target: str, samples: list[float | None], **extra: Any) -> dict[str, Any]:
    acked = sorted(s for s in samples if s is not None)
    return {
        "kind": "failover",
        "target": target,
        "nodes": 3,
        "fsync": target != "pysyncobj",
        "trials": len(samples),
        "failed_trials": len(samples) - len(acked),
        "samples_ms": samples,
        "p50_ms": acked[(len(acked) + 1) // 2 - 1],
        "p99_ms": acked[-1],
        "max_ms": acked[-1],
        **extra,
    }


ROWS = [
    load("raftlab", 1, 900.0, 1.5, trace_level="state"),
    load("raftlab", 1, 1100.0, 1.7, trace_level="state"),  # a repeat: the median is taken
    load("raftlab", 1, 1000.0, 2.5, trace_level="state"),
    load("raftlab", 64, 3000.0, 20.0, trace_level="state"),
    load("pysyncobj", 1, 500.0, 2.0),
    load("pysyncobj", 64, 4000.0, 15.0),
    failover("raftlab", [200.0, 250.0, 700.0], trace_level="state"),
    failover("pysyncobj", [400.0, None, 500.0]),
    {"kind": "unavailable", "target": "etcd n3", "reason": "no etcd binary on PATH"},
]


def test_summary_takes_medians_and_ratios() -> None:
    s = report.summary(ROWS, "plot.png")
    assert s["throughput"]["raftlab n3 state"] == {"1": 1000.0, "64": 3000.0}
    assert s["p50_ms"]["raftlab n3 state"]["1"] == 1.7
    ratios = s["ratios"]["raftlab n3 state / pysyncobj n3"]
    assert ratios["throughput"] == {"1": 2.0, "64": 0.75}
    assert ratios["p50"] == {"1": 0.85, "64": 1.333}
    assert ratios["failover_median"] == round(250 / 400, 3)
    assert s["failover"]["pysyncobj n3"]["failed_trials"] == 1
    assert s["unavailable"] == {"etcd n3": "no etcd binary on PATH"}


def test_aims_are_judged_and_missing_rows_are_undecided() -> None:
    aims = {(a["aim"], a["config"]): a for a in report.summary(ROWS, None)["aims"]}
    name = "raftlab n3 state"
    assert aims[("throughput above the peer's at 1 clients (ops/s)", name)]["met"] is True
    assert aims[("throughput above the peer's at 64 clients (ops/s)", name)]["met"] is False
    assert aims[("single-client p50 at most 2 ms", name)]["met"] is True
    assert aims[("throughput at 64 clients within 2x of etcd's (ops/s)", name)]["met"] is None
    assert aims[("failover median at most 300 ms", name)]["met"] is True
    assert aims[("failover p99 at most 600 ms", name)]["met"] is False


def test_plot_is_written(tmp_path: Path) -> None:
    path = tmp_path / "kv.png"
    report.plot(ROWS, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- folding a profile -----------------------------------------------------------------

RAW = """\
_bootstrap (threading.py:1002);_worker (concurrent/futures/thread.py:83) 10
main (kv/server.py:300);run (asyncio/runners.py:118);NodeRuntime.step (kv/runtime.py:200);RaftCore.step (consensus/core.py:90) 30
main (kv/server.py:300);run (asyncio/runners.py:118);WriteAheadLog.finish_sync (kv/wal.py:400) 40
main (kv/server.py:300);run (asyncio/runners.py:118);EpollSelector.select (selectors.py:468) 20
py-spy> a line that is not a stack
"""  # noqa: E501


def test_a_profile_folds_into_shares_by_area_and_function() -> None:
    folded = profile.fold(RAW, top=2)
    assert folded["samples"] == 100
    assert folded["self_by_area"] == {
        "kv WAL and snapshots": 0.4,
        "consensus (Raft core)": 0.3,
        "event loop polling": 0.2,
        "thread pool": 0.1,
    }
    inclusive = folded["inclusive_by_area"]
    assert inclusive["kv runtime and server"] == 0.9  # kv/server.py and kv/runtime.py frames
    assert inclusive["asyncio"] == 0.9 and inclusive["consensus (Raft core)"] == 0.3
    assert folded["top_self"] == {
        "WriteAheadLog.finish_sync (kv/wal.py)": 0.4,
        "RaftCore.step (consensus/core.py)": 0.3,
    }
    assert profile.fold("")["samples"] == 0 and profile.fold("")["self_by_area"] == {}


def test_frames_are_placed_by_their_file() -> None:
    assert profile.area_of("/home/x/raftlab/consensus/log.py") == "consensus (Raft core)"
    assert profile.area_of("kv/httpapi/app.py") == "kv HTTP API"
    assert profile.area_of("kv/statemachine.py") == "kv runtime and server"
    assert profile.area_of("aiohttp/web_protocol.py") == "aiohttp"
    assert profile.area_of("json/encoder.py") == "python stdlib and other"


# -- a short real run ------------------------------------------------------------------


def run_bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )


def test_a_quick_run_prints_every_kind_of_line(tmp_path: Path) -> None:
    """raftlab (3 nodes, trace level state) and the peer for real, etcd
    pointed at a binary that is not there: every row kind, every field."""
    plot = tmp_path / "kv.png"
    done = run_bench(
        tmp_path,
        "--quick",
        "--targets", "raftlab", "peer", "etcd",
        "--nodes", "3",
        "--trace-levels", "state",
        "--etcd", str(tmp_path / "no-etcd-here"),
        "--clients", "1", "4",
        "--duration", "0.3",
        "--warmup", "0.1",
        "--failover-trials", "2",
        "--plot", str(plot),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    kinds = [r["kind"] for r in rows]
    assert kinds == ["meta", *["load", "load", "failover"] * 2, "unavailable", "summary"]
    assert {"mix", "keys", "value_size", "duration_s", "cores"} <= set(rows[0])
    loads = [r for r in rows if r["kind"] == "load"]
    assert [(r["target"], r["clients"]) for r in loads] == [
        ("raftlab", 1), ("raftlab", 4), ("pysyncobj", 1), ("pysyncobj", 4),
    ]  # fmt: skip
    for r in loads:
        assert r["nodes"] == 3 and r["fsync"] is (r["target"] == "raftlab") and r["round"] == 1
        assert r["ops"] == r["ok"] + r["fail"] + r["info"] and r["ops"] > 0
        assert {"throughput", "p50_ms", "p99_ms", "latency_ms", "by_op"} <= set(r)
    assert loads[0]["trace_level"] == "state" and "never fsyncs" in loads[2]["note"]
    for fo in (r for r in rows if r["kind"] == "failover"):
        assert fo["trials"] == 2 and len(fo["samples_ms"]) == 2
        assert fo["election_ms"] == [150, 300]
        assert {"p50_ms", "p99_ms", "max_ms", "failed_trials"} <= set(fo)
    assert rows[-2]["target"] == "etcd n3" and "no etcd binary" in rows[-2]["reason"]
    summary = rows[-1]
    assert set(summary["throughput"]) == {"raftlab n3 state", "pysyncobj n3"}
    assert set(summary["throughput"]["pysyncobj n3"]) == {"1", "4"}
    ratios = summary["ratios"]["raftlab n3 state / pysyncobj n3"]
    assert set(ratios) == {"throughput", "p50", "failover_median", "failover_p99"}
    assert {a["aim"] for a in summary["aims"]} >= {
        "single-client p50 at most 2 ms",
        "failover median at most 300 ms",
    }
    assert summary["plot"] == str(plot) and plot.exists()
    assert "[bench/kv]" in done.stderr  # progress goes to stderr

    saved = tmp_path / "kv.jsonl"
    saved.write_text(done.stdout)
    again = run_bench(tmp_path, "--from", str(saved), "--plot", str(tmp_path / "again.png"))
    assert again.returncode == 0, again.stderr
    (resummed,) = [json.loads(line) for line in again.stdout.splitlines()]
    for field in ("throughput", "p50_ms", "p99_ms", "failover", "ratios", "aims", "unavailable"):
        assert resummed[field] == summary[field]
    assert (tmp_path / "again.png").exists()


def test_bad_options_get_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_bench(tmp_path, "--clients", "0")
    assert done.returncode == 2
    assert "--clients" in done.stderr and "at least 1" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"kind": "load"\n', "kv.jsonl:1: not JSON"),
        ('{"kind": "meta"}\n[1]\n', "kv.jsonl:2: not a row of bench/kv.py"),
        ('{"kind": "load", "target": "x"}\n', "kv.jsonl:1: a load row without nodes"),
    ],
)
def test_a_bad_saved_run_gets_one_line_and_exit_2(tmp_path: Path, text: str, says: str) -> None:
    saved = tmp_path / "kv.jsonl"
    saved.write_text(text)
    done = run_bench(tmp_path, "--from", str(saved), "--plot", str(tmp_path / "p.png"))
    assert done.returncode == 2
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "p.png").exists()
