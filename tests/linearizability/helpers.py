"""Small builders for hand-written histories."""

from __future__ import annotations

from typing import Any

from checkers.linearizability import History, history_from_records

Rec = dict[str, Any]


def op(
    client: int,
    f: str,
    key: str | None,
    arg: Any,
    result: Any,
    call: int,
    ret: int | None,
    status: str = "ok",
) -> list[Rec]:
    """Invocation and completion records for one operation (``ret=None``: info, no line)."""
    inv: Rec = {"client": client, "type": "invoke", "f": f, "key": key, "time": call}
    if f != "delete":
        inv["value"] = None if f == "get" else arg
    out = [inv]
    if ret is not None:
        done: Rec = {"client": client, "type": status, "f": f, "key": key, "time": ret}
        if f != "delete":
            done["value"] = result if f == "get" else arg
        out.append(done)
    return out


def history(*ops: list[Rec]) -> History:
    """Records of several operations, merged in time order."""
    recs = [r for o in ops for r in o]
    recs.sort(key=lambda r: (r["time"], r["type"] != "invoke"))
    return history_from_records(recs)
