"""Exports of a merged trace, as `raftlab trace merge` makes one from the
per-node files of real processes (here written by a faulty simulation split
per node at level ``state``: no message payloads in receives, crashes as
SIGKILLs, pauses, partitions, a membership change)."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.traces.pernode import split_run
from traces.export import export_trace
from traces.itf import read_itf
from traces.merge import merge_traces, write_merged
from traces.schema import INPUT_ACTIONS


def merged_trace(tmp_path: Path) -> tuple[Path, list[dict[str, object]]]:
    files = tmp_path / "traces"
    split_run(files, seed=5, level="state", membership=True)
    header, events = merge_traces([files], files / "history.jsonl")
    return write_merged(tmp_path / "merged.jsonl", header, events), events


def test_a_merged_trace_exports_in_every_format(tmp_path: Path) -> None:
    trace, events = merged_trace(tmp_path)
    steps = [
        e["seq"]
        for e in events
        if (e["act"] in INPUT_ACTIONS and str(e["n"]).startswith("n"))
        or (e["n"] == "env" and e["act"] == "crash")
    ]
    assert any(e["act"] == "restart" for e in events), "the run crashes and restarts nodes"
    itf = tmp_path / "merged.itf.json"
    itf.write_bytes(export_trace(trace, "itf", itf).data)
    assert [state["step"]["seq"] for state in read_itf(itf).states] == steps

    tla = export_trace(trace, "tla", tmp_path / "Merged.tla")
    assert tla.summary["records"] == len(steps)

    etcd = export_trace(trace, "etcd-ndjson", tmp_path / "merged.ndjson")
    lines = [orjson.loads(line) for line in etcd.data.splitlines()]
    received = [x for x in lines if x["event"]["name"].startswith("Receive")]
    assert received, "receives are exported from the senders' send events"
    assert etcd.summary["written"]["ChangeConf"] >= 1
    missing = {k: n for k, n in etcd.summary["skipped"].items() if "(no message)" in k}
    recvs = sum(e["act"] == "recv" for e in events)
    assert sum(missing.values()) < recvs / 20, "only receives whose sender was killed first"
