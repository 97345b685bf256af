"""Histories that are linearizable by construction, and mutations that break them.

Used by the property tests and by ``bench/lincheck.py``, so that both talk
about the same kind of history.  Each client runs a closed loop: invoke,
wait, complete, think, invoke again.  Every operation takes effect at one
instant strictly inside its interval (an unknown-outcome one at some instant
after its call, or never), and results are computed by applying effects in
time order to a real dictionary, so the history is linearizable with the
effect instants as witness.

Written values are unique (a global counter), as in Jepsen and Porcupine
workloads: that is what makes a stale read provably wrong, which
:func:`mutate` relies on to build histories that are *not* linearizable.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]


@dataclass(slots=True, frozen=True)
class Mix:
    """Operation mix (fractions of all operations; the rest are gets)."""

    put: float = 0.45
    delete: float = 0.05
    cas: float = 0.0
    append: float = 0.0
    unknown: float = 0.0


def generate(
    n_ops: int,
    clients: int,
    keys: int,
    seed: int,
    mix: Mix | None = None,
    latency: int = 50,
    think: int = 10,
    values: int | None = None,
) -> list[Record]:
    """``n_ops`` operations as project JSONL records, in time order.

    ``values``: draw written values from this many (``"0"``, ``"1"``, ...)
    instead of making each unique, as Jepsen's register tests do; such
    histories exercise the search without the unique-value reductions.
    """
    mix = mix or Mix()
    rng = random.Random(seed)
    names = [f"k{i}" for i in range(keys)]
    store: dict[str, str] = {}
    seen: dict[tuple[int, str], str | None] = {}  # what each client last saw of a key
    counter = 0
    # Plan every operation, then apply effects in time order.
    ready = [(rng.randrange(think + 1), k) for k in range(clients)]
    heapq.heapify(ready)
    plans: list[tuple[int, int, int, int | None, int, str, str, Any]] = []
    effects: list[tuple[int, int]] = []
    for i in range(n_ops):
        inv, c = heapq.heappop(ready)
        eff = inv + 1 + rng.randrange(latency)
        ret = eff + 1 + rng.randrange(latency)
        key = names[rng.randrange(keys)]
        x = rng.random()
        arg: Any
        if values is not None:
            counter = rng.randrange(values) - 1
        if x < mix.put:
            counter += 1
            f, arg = "put", str(counter)
        elif x < mix.put + mix.delete:
            f, arg = "delete", None
        elif x < mix.put + mix.delete + mix.cas:
            counter += 1
            f, arg = "cas", [seen.get((c, key), store.get(key)), str(counter)]
        elif x < mix.put + mix.delete + mix.cas + mix.append:
            counter += 1
            f, arg = "append", f"<{counter}>"
            if values is not None:
                arg = f"<{rng.randrange(values)}>"
        else:
            f, arg = "get", None
        unknown = rng.random() < mix.unknown
        effect: int | None = eff
        if unknown:
            # A timed-out call: it may land late, or never.
            effect = None if rng.random() < 0.5 else inv + 1 + rng.randrange(latency * 6)
        plans.append((i, c, inv, effect, ret, f, key, arg))
        if effect is not None:
            effects.append((effect, i))
        heapq.heappush(ready, (ret + rng.randrange(think + 1), c))
    effects.sort()
    results: dict[int, tuple[str, Any]] = {}
    for _t, i in effects:
        _i, c, _inv, _eff, _ret, f, key, arg = plans[i]
        if f == "get":
            results[i] = ("ok", store.get(key))
            seen[(c, key)] = store.get(key)
        elif f == "put":
            store[key] = arg
            results[i] = ("ok", arg)
        elif f == "delete":
            store.pop(key, None)
            results[i] = ("ok", None)
        elif f == "cas":
            if store.get(key) == arg[0]:
                store[key] = arg[1]
                results[i] = ("ok", arg)
            else:
                results[i] = ("fail", arg)
        else:
            store[key] = store.get(key, "") + arg
            results[i] = ("ok", arg)
    events: list[tuple[int, int, Record]] = []
    for i, c, inv, effect, ret, f, key, arg in plans:
        events.append((inv, 2 * i, _rec(c, "invoke", f, key, arg, inv)))
        if effect is None or effect > ret:
            events.append((ret, 2 * i + 1, _rec(c, "info", f, key, arg, ret)))
            continue
        typ, value = results[i]
        events.append((ret, 2 * i + 1, _rec(c, typ, f, key, value, ret)))
    events.sort(key=lambda e: (e[0], e[1]))
    return [e[2] for e in events]


def _rec(client: int, typ: str, f: str, key: str, value: Any, t: int) -> Record:
    r: Record = {"client": client, "type": typ, "f": f, "key": key, "value": value, "time": t}
    if f == "delete":
        del r["value"]
    if f == "get" and typ == "invoke":
        r["value"] = None
    return r


@dataclass(slots=True, frozen=True)
class _Op:
    call: int
    ret: int | None
    f: str
    key: str
    arg: Any
    status: str
    call_idx: int
    ret_idx: int | None


def _ops(records: list[Record]) -> list[_Op]:
    open_: dict[int, tuple[int, Record]] = {}
    out: list[_Op] = []
    for idx, r in enumerate(records):
        if r["type"] == "invoke":
            open_[r["client"]] = (idx, r)
            continue
        ci, call = open_.pop(r["client"])
        out.append(
            _Op(call["time"], r["time"], r["f"], r["key"], r.get("value"), r["type"], ci, idx)
        )
    return out


def mutate(records: list[Record], seed: int, kind: str = "read") -> tuple[list[Record], str]:
    """A copy of ``records`` made non-linearizable by changing one result.

    ``kind="read"``: a completed get now returns a stale value, one written by
    a put that was overwritten by a later completed put before the get was
    invoked.  ``kind="cas"``: a compare-and-set now claims to have swapped
    from such a stale value.  With unique values, no linearization can
    explain either: the stale value's only writer must precede the
    overwriting put, which precedes the reader.  Raises ``ValueError`` when
    the history has no suitable operation.
    """
    rng = random.Random(seed)
    ops = _ops(records)
    by_key: dict[str, list[_Op]] = {}
    for op in ops:
        by_key.setdefault(op.key, []).append(op)
    targets = [
        op for op in ops if op.status == "ok" and op.f == ("get" if kind == "read" else "cas")
    ]
    if kind != "read":
        targets += [op for op in ops if op.status == "fail" and op.f == "cas"]
    rng.shuffle(targets)
    for target in targets:
        stale = _stale_value(by_key[target.key], target)
        if stale is None:
            continue
        out = [dict(r) for r in records]
        assert target.ret_idx is not None
        done = out[target.ret_idx]
        if kind == "read":
            done["value"] = stale
            return out, f"get at line {target.ret_idx + 1} now returns the stale value {stale!r}"
        new = target.arg[1]
        out[target.call_idx]["value"] = [stale, new]
        done["value"] = [stale, new]
        done["type"] = "ok"
        return out, (f"cas at line {target.ret_idx + 1} now claims it swapped {stale!r} -> {new!r}")
    raise ValueError(f"no operation to mutate ({kind})")


def _stale_value(ops: list[_Op], target: _Op) -> str | None:
    """A value whose put was overwritten by a completed put before ``target`` began."""
    puts = [op for op in ops if op.f == "put" and op.status == "ok" and op.ret is not None]
    later = [p for p in puts if p.ret is not None and p.ret < target.call]
    if not later:
        return None
    # The overwriting put: the latest one that completed before target began.
    over = max(later, key=lambda p: p.ret or 0)
    older = [p for p in puts if p.ret is not None and p.ret < over.call]
    if not older:
        return None
    pick = max(older, key=lambda p: p.ret or 0)
    value = pick.arg
    return value if isinstance(value, str) else None


def records_to_jsonl(records: list[Record]) -> str:
    """Serialize records one per line."""
    import orjson

    return "".join(orjson.dumps(r).decode() + "\n" for r in records)


def _edn_value(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, list | tuple):
        return "[" + " ".join(_edn_value(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def records_to_edn(records: list[Record]) -> str:
    """Serialize records as Jepsen operation maps, one per line (``--format edn``).

    EDN has no times: the line order is the time order, which the records
    already have.  Keys and values keep their string form.  A Jepsen
    key-value history reads an unset key as ``""`` (and the reader assumes
    so), so an absent value (``null``: a get of an unset or deleted key, a
    cas expecting absence) is written as ``""``: the same history in that
    convention.
    """
    out: list[str] = []
    for r in records:
        value = r.get("value")
        if value is None and r["f"] == "get" and r["type"] != "invoke":
            r = {**r, "value": ""}
        elif r["f"] == "cas" and isinstance(value, list):
            r = {**r, "value": ["" if v is None else v for v in value]}
        parts = [f":process {r['client']}", f":type :{r['type']}", f":f :{r['f']}"]
        if r.get("key") is not None:
            parts.append(f":key {_edn_value(r['key'])}")
        parts.append(f":value {_edn_value(r.get('value'))}")
        out.append("{" + ", ".join(parts) + "}\n")
    return "".join(out)


#: The mix of Jepsen's and Porcupine's key-value tests: appends and gets, few puts.
APPEND_MIX = Mix(put=0.02, delete=0.0, append=0.6)


def appends_with_stale_read(
    n_ops: int = 2000, clients: int = 50, keys: int = 10, seed: int = 2
) -> tuple[list[Record], str]:
    """A not-linearizable history shaped like Porcupine's ``c50-bad`` test data.

    Many concurrent clients append to and read a few keys (:data:`APPEND_MIX`),
    and one read is made stale (:func:`mutate`).  Most keys are linearizable
    but, without the growth pruning of :mod:`.jit`, expensive: concurrent
    appends can be ordered in factorially many ways, and every order is a
    different value.  Returns the records and what was changed.
    """
    records = generate(n_ops, clients, keys, seed=seed, mix=APPEND_MIX)
    return mutate(records, seed, "read")
