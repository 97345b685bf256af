"""Exporting raftlab traces for other tools: ITF JSON (Apalache, Quint), a
TLA+ module (TLC) and etcd-raft's trace NDJSON (etcd-io/raft's
``Traceetcdraft.tla``). docs/export.md describes each format.

``export_trace`` reads a trace (``traces.reader``: every bad line is a
``TraceError`` naming the file and line), builds the chosen format in
memory and returns its bytes with a summary; the caller writes them. A
trace whose file does not match its closing record (modified after
writing) is refused: an export would carry the changed events on as if
they were the run's. A cut or interrupted trace is exported up to its last
whole event, and the summary says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from traces.export.etcd import etcd_export
from traces.export.itf import itf_document
from traces.export.steps import spec_steps
from traces.export.tla import ModuleNameError, module_name, tla_module
from traces.reader import TraceError, open_trace

#: format name -> what it is (for --help and errors).
FORMATS: dict[str, str] = {
    "itf": "ITF JSON (Apalache ADR-015), for Apalache and Quint",
    "tla": "a TLA+ module defining Trace, a sequence of records, for TLC",
    "etcd-ndjson": "etcd-raft trace NDJSON, for etcd-io/raft's Traceetcdraft.tla",
}


class ExportError(ValueError):
    """An export that cannot be made; the message is one line."""


@dataclass(frozen=True, slots=True)
class Exported:
    data: bytes
    summary: dict[str, Any]


def export_trace(trace: str | Path, fmt: str, out: str | Path) -> Exported:
    """The export of ``trace`` in ``fmt``; ``out`` names the output (the
    TLA+ module takes its name from it). ``TraceError`` for a bad trace,
    ``ExportError`` for everything else."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    try:
        name = module_name(out) if fmt == "tla" else ""
    except ModuleNameError as error:
        raise ExportError(str(error)) from None
    header, events = open_trace(trace)
    source = str(trace)
    summary: dict[str, Any] = {"format": fmt, "trace": source, "out": str(out)}
    if fmt == "etcd-ndjson":
        export = etcd_export(events)
        data = b"".join(orjson.dumps(line) + b"\n" for line in export.lines)
        summary.update(
            lines=len(export.lines),
            written=dict(sorted(export.written.items())),
            skipped=dict(sorted(export.skipped.items())),
        )
    elif fmt == "itf":
        doc = itf_document(header, spec_steps(events), source)
        data = orjson.dumps(doc) + b"\n"
        summary["states"] = len(doc["states"])
    else:
        steps = list(spec_steps(events))
        data = tla_module(name, steps, source).encode()
        summary.update(module=name, records=len(steps))
    integrity = events.drain()
    if integrity.state == "tampered":
        raise TraceError(source, 0, f"not exported: {integrity.message}")
    summary["events"] = integrity.last_seq
    summary["integrity"] = integrity.to_json()
    return Exported(data, summary)


__all__ = ["FORMATS", "ExportError", "Exported", "export_trace"]
