"""The key-value model, partitioned per key, and the reductions it licenses.

A key's state is its value; a key never written holds the source's
``initial`` value (``None`` in the project's JSONL, ``""`` in Jepsen's
key-value histories), and ``delete`` puts it back there.  Operations:

- ``get``: legal iff the value read equals the state.
- ``put``: always legal; the state becomes the value written.
- ``delete``: always legal; the state becomes ``initial``.
- ``cas [expected, new]``: legal iff the state equals ``expected``; the state
  becomes ``new``.  Only swaps that happened reach the model: a ``fail``
  completion means the operation had no effect and is dropped beforehand.
- ``append suffix``: always legal; the state becomes the old string (``""``
  when absent) followed by ``suffix``.

Keys are independent objects, so the history is linearizable iff each key's
sub-history is (Herlihy & Wing's locality; Horn & Kroening's
P-compositionality).  That is what ``partition`` exploits.

:func:`reduce_values` implements the value-based reductions described in
``docs/linearizability.md``; each rule carries its proof in a comment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from checkers.linearizability.history import Operation, Value
from checkers.linearizability.model import ANY, Model, Reduction, State, mypyc_attr

KV_FUNCTIONS = ("get", "put", "delete", "cas", "append")
_ALIASES = {"read": "get", "write": "put"}


def canonical_f(f: str, allowed: Sequence[str], aliases: dict[str, str]) -> str | None:
    """Map a function name to the model's own name, or ``None`` if unknown."""
    f = aliases.get(f, f)
    return f if f in allowed else None


def cas_arg(op: Operation) -> tuple[Value, Value]:
    """``(expected, new)`` of a compare-and-set (the parsers check the shape)."""
    arg = op.arg
    assert isinstance(arg, tuple) and len(arg) == 2
    return arg[0], arg[1]


def _show(value: object) -> str:
    if value is None:
        return "absent"
    return repr(value)


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(slots=True, frozen=True)
class KVModel(Model):
    """Per-key registers with get, put, delete, compare-and-set and append."""

    initial: Value = None
    name: str = "kv"

    def init(self) -> State:
        return self.initial

    def step(self, state: State, op: Operation) -> tuple[bool, State]:
        f = op.f
        if f == "get" or f == "read":
            return state == op.result, state
        if f == "put" or f == "write":
            return True, op.arg
        if f == "cas":
            expected, new = cas_arg(op)
            if state == expected:
                return True, new
            return False, state
        if f == "delete":
            return True, self.initial
        if f == "append":
            base = "" if state is None else state
            if not isinstance(base, str) or not isinstance(op.arg, str):
                return False, state
            return True, base + op.arg
        return False, state

    def partition(self, ops: Sequence[Operation]) -> list[tuple[str, list[Operation]]]:
        parts: dict[str, list[Operation]] = {}
        for op in ops:
            key = op.key
            part = parts.get("" if key is None else key)
            if part is None:  # (``setdefault`` would build a list for every operation)
                part = parts["" if key is None else key] = []
            part.append(op)
        return sorted(parts.items())

    def describe_op(self, op: Operation) -> str:
        return describe(op)

    def describe_state(self, state: State) -> str:
        return _show(state)

    def why_illegal(self, state: State, op: Operation) -> str:
        return why(state, op)

    def readonly(self, op: Operation) -> bool:
        return op.f in ("get", "read")

    def required_state(self, op: Operation) -> object:
        if op.f in ("get", "read"):
            return op.result
        if op.f == "cas":
            return cas_arg(op)[0]
        return ANY

    def result_state(self, op: Operation) -> object:
        if op.f in ("put", "write"):
            return op.arg
        if op.f == "cas":
            return cas_arg(op)[1]
        if op.f == "delete":
            return self.initial
        return ANY

    def blind(self, op: Operation) -> bool:
        return op.f in ("put", "write", "delete")

    def may_reach(self, state: State, target: object) -> bool:
        # Without puts, deletes and swaps, only appends change a value, and an
        # append only ever adds to the end of a string.
        if state == target or state is None:
            return True
        if isinstance(state, str):
            return isinstance(target, str) and target.startswith(state)
        return False

    def reduce(self, ops: list[Operation]) -> Reduction:
        return reduce_values(ops, self.initial)


def describe(op: Operation) -> str:
    """A short human description such as ``get(x) -> '3'``."""
    key = "" if op.key is None else f"{op.key}"
    sep = ", " if key else ""
    f = op.f
    if f in ("get", "read"):
        res = "?" if op.status == "info" else _show(op.result)
        return f"{f}({key}) -> {res}"
    if f in ("put", "write", "append"):
        return f"{f}({key}{sep}{op.arg!r})"
    if f == "delete":
        return f"delete({key})"
    if f == "cas":
        expected, new = cas_arg(op)
        return f"cas({key}{sep}{_show(expected)} -> {_show(new)})"
    return f"{f}({key}{sep}{op.arg!r}) -> {op.result!r}"


def why(state: State, op: Operation) -> str:
    """Plain words for why ``op`` cannot take effect in ``state``."""
    f = op.f
    if f in ("get", "read"):
        return f"{f} returned {_show(op.result)} but the value is {_show(state)}"
    if f == "cas":
        expected = cas_arg(op)[0]
        if op.status == "ok":
            return f"cas succeeded expecting {_show(expected)} but the value is {_show(state)}"
        return f"cas needs the value {_show(expected)} but it is {_show(state)}"
    if f == "append":
        return f"cannot append {op.arg!r} to the non-string value {_show(state)}"
    return f"{describe(op)} is not possible when the value is {_show(state)}"


def reduce_values(ops: list[Operation], initial: Value) -> Reduction:
    """Value-based reductions for one key (or one register).

    "Unique" value: written by exactly one operation and different from
    ``initial``, so observing it proves that operation took effect first.
    "Observers" of a value: completed gets returning it, and swaps (ok or
    unknown) expecting it.  Three rules, each sound for any linearization:

    1. An unknown-outcome put/cas whose unique value has no observer is
       dropped.  If it took effect, the op right after it must be legal in
       its state without observing it, i.e. a put or delete (no appends on
       this key), so removing it leaves a valid linearization; and "never
       took effect" is one of its allowed outcomes.
    2. An unknown-outcome put/cas whose unique value is observed by a
       completed op must precede that observer, so it gets a return bound:
       the earliest observer's return.  It is then placed like a completed
       op instead of staying open forever.
    3. A completed put whose unique value has no observer is *invisible*:
       the search may place it just before any blind write (a put or
       delete) while it is pending, since nothing can tell it was there;
       a configuration that has absorbed it dominates one that has not.

    With appends on the key, values are not installed whole, so only rule
    1' applies: an unknown-outcome append whose suffix occurs in no read
    value and no expected value of a swap is dropped (anything that read
    past it would contain the suffix, until a put or delete resets the key).
    """
    # One pass gathers what the three rules need: which values more than one
    # operation writes, which values are observed, and the earliest return
    # of a completed observer.  (Written with the functions inline: on a
    # 100k-operation history a call per operation and per rule was a fifth
    # of the whole check.)  A value is written again when adding it to
    # ``written`` leaves the set's size unchanged: one hash look-up per write,
    # where a count per value cost two and a boxed count.
    written: set[Value] = set()  # values that puts and swaps write
    rewritten: set[Value] = set()  # ... more than one of them
    completed_obs: dict[Value, int] = {}  # value -> earliest return of a completed observer
    any_obs: set[Value] = set()
    for op in ops:
        f = op.f
        if f == "get" or f == "read":
            if op.status != "ok":
                continue
            v = op.result
        elif f == "put" or f == "write":
            v = op.arg
            seen = len(written)
            written.add(v)
            if len(written) == seen:
                rewritten.add(v)
            continue
        elif f == "cas":
            v, new = cas_arg(op)
            seen = len(written)
            written.add(new)
            if len(written) == seen:
                rewritten.add(new)
        elif f == "append":
            return _reduce_appends(ops)
        else:
            continue
        try:
            any_obs.add(v)
        except TypeError:  # pragma: no cover - values are frozen upstream
            continue
        if op.status == "ok" and op.ret is not None:
            prev = completed_obs.get(v)
            if prev is None or op.ret < prev:
                completed_obs[v] = op.ret

    dropped: list[tuple[Operation, str]] = []
    kept: list[Operation] = []
    ret_bound: dict[int, int] = {}
    invisible: set[int] = set()
    for op in ops:
        f = op.f
        if f == "put" or f == "write":
            v = op.arg
        elif f == "cas":
            v = cas_arg(op)[1]
        else:
            kept.append(op)
            continue
        if v is None or v == initial or v in rewritten:  # not a unique value
            kept.append(op)
            continue
        if op.status == "info":
            if v not in any_obs:
                dropped.append((op, f"unknown-outcome {f} of {v!r}, a value nobody observed"))
                continue
            bound = completed_obs.get(v)
            if bound is not None and bound >= op.call:
                ret_bound[op.id] = bound
            kept.append(op)
            continue
        if f != "cas" and v not in any_obs:
            invisible.add(op.id)
        kept.append(op)
    return Reduction(ops=kept, dropped=dropped, ret_bound=ret_bound, invisible=frozenset(invisible))


def _reduce_appends(ops: list[Operation]) -> Reduction:
    """Rule 1' of :func:`reduce_values`, for a key with appends."""
    texts = [op.result for op in ops if op.f in ("get", "read") and op.status == "ok"]
    texts += [cas_arg(op)[0] for op in ops if op.f == "cas"]
    strings = [t for t in texts if isinstance(t, str)]
    opaque = len(strings) != len(texts) - texts.count(None)
    dropped: list[tuple[Operation, str]] = []
    kept: list[Operation] = []
    for op in ops:
        if (
            op.status == "info"
            and op.f == "append"
            and isinstance(op.arg, str)
            and op.arg
            and not opaque
            and not any(op.arg in s for s in strings)
        ):
            dropped.append((op, "unknown-outcome append never observed by any read"))
        else:
            kept.append(op)
    return Reduction(ops=kept, dropped=dropped)
