"""A plain Python checker in the spirit of Porcupine's algorithm, for comparison.

Written from the published description (Wing & Gong's search with Lowe's
memo cache, as Porcupine does it), not from Porcupine's code: per-key
partitions, a doubly linked list of call and return entries, depth-first
search that lifts an entry when its step is legal and the configuration is
new, backtracking at a return entry, and a cache of ``(bitset of linearized
operations, state)`` that keeps a full copy of the bitset for every
configuration visited.  No normalization beyond dropping failed operations,
no pruning by read, no configuration sets: this is what the checker in
``checkers.linearizability`` is measured against, in the same language, on
the same machine.

Unknown-outcome operations get a return at the end of the history (after
every real event) and a step that never rejects them, which is how
Porcupine's own etcd model treats them.
"""

from __future__ import annotations

import time
from typing import Any

from checkers.linearizability.history import History, Operation


def _step(state: Any, op: Operation, initial: Any) -> tuple[bool, Any]:
    f = op.f
    unknown = op.status == "info"
    if f in ("get", "read"):
        return unknown or state == op.result, state
    if f in ("put", "write"):
        return True, op.arg
    if f == "delete":
        return True, initial
    if f == "cas":
        expected, new = op.arg
        if state == expected:
            return True, new
        return unknown, state
    if f == "append":
        return True, ("" if state is None else state) + op.arg
    return False, state


def check_partition(ops: list[Operation], initial: Any, deadline: float | None) -> str:
    """``linearizable``, ``not-linearizable`` or ``unknown`` for one key's operations."""
    end = max(max(op.call, op.ret or 0) for op in ops) + 1
    events: list[tuple[int, int, int]] = []
    for i, op in enumerate(ops):
        events.append((op.call, 0, i))
        events.append((op.ret if op.ret is not None else end, 1, i))
    events.sort()
    size = len(events) + 1
    is_call = [False] * size
    op_of = [0] * size
    nxt = list(range(1, size + 1))
    nxt[-1] = 0
    prv = list(range(-1, size - 1))
    ret_of_op = [0] * len(ops)
    for e, (_t, kind, i) in enumerate(events, start=1):
        is_call[e] = kind == 0
        op_of[e] = i
        if kind:
            ret_of_op[i] = e
    cache: dict[int, list[tuple[int, Any]]] = {}
    linearized = 0  # a bitset over operations, copied into the cache at every step
    state: Any = initial
    stack: list[tuple[int, Any]] = []
    entry = nxt[0]
    ticks = 0
    while nxt[0] != 0:
        ticks += 1
        if deadline is not None and not ticks & 4095 and time.monotonic() > deadline:
            return "unknown"
        if is_call[entry]:
            i = op_of[entry]
            ok, s2 = _step(state, ops[i], initial)
            if ok:
                bits = linearized | (1 << i)
                bucket = cache.setdefault(hash((bits, s2)), [])
                if not any(b == bits and s == s2 for b, s in bucket):
                    bucket.append((bits, s2))
                    stack.append((entry, state))
                    linearized = bits
                    state = s2
                    r = ret_of_op[i]
                    for x in (entry, r):
                        nxt[prv[x]] = nxt[x]
                        prv[nxt[x]] = prv[x]
                    entry = nxt[0]
                    continue
            entry = nxt[entry]
            continue
        if not stack:
            return "not-linearizable"
        entry, state = stack.pop()
        i = op_of[entry]
        linearized &= ~(1 << i)
        r = ret_of_op[i]
        for x in (r, entry):
            nxt[prv[x]] = x
            prv[nxt[x]] = x
        entry = nxt[entry]
    return "linearizable"


def check(history: History, per_key: bool = True, timeout: float | None = None) -> str:
    """Check every partition in turn; the first violation decides."""
    deadline = None if timeout is None else time.monotonic() + timeout
    parts: dict[Any, list[Operation]] = {}
    for op in history.ops:
        if op.status == "fail":
            continue
        parts.setdefault(op.key if per_key else None, []).append(op)
    verdict = "linearizable"
    for key in sorted(parts, key=str):
        v = check_partition(parts[key], history.initial, deadline)
        if v == "not-linearizable":
            return v
        if v == "unknown":
            verdict = v
    return verdict
