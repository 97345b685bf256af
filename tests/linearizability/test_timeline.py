"""The searches' timeline: invocations and returns in the order of ``(time, kind, op)``.

The timeline merges the returns, sorted, into the invocations, which come
in operation order; the reference here is the plain sort of one tuple per
entry, with invocations before returns at equal times.
"""

from __future__ import annotations

import pytest

from checkers.linearizability import get_model
from checkers.linearizability.generate import Mix, generate
from checkers.linearizability.history import Operation
from checkers.linearizability.normalize import Partition, prepare
from checkers.linearizability.parse import history_from_records
from checkers.linearizability.timeline import timeline


def _reference(part: Partition) -> list[int]:
    entries = [(op.call, 0, i) for i, op in enumerate(part.ops)]
    entries += [(r, 1, i) for i, r in enumerate(part.ret) if r is not None]
    return [i if kind == 0 else ~i for _t, kind, i in sorted(entries)]


def _part(spans: list[tuple[int, int | None]]) -> Partition:
    ops = tuple(
        Operation(i, i, "put", "x", str(i), None, "ok", c, r, i + 1, None)
        for i, (c, r) in enumerate(spans)
    )
    return Partition(
        key="x",
        ops=ops,
        ret=tuple(r for _c, r in spans),
        invisible=frozenset(),
        dropped=(),
        total=len(ops),
    )


@pytest.mark.parametrize("seed", range(4))
def test_generated_partitions_in_sorted_order(seed: int) -> None:
    mix = Mix(put=0.4, delete=0.05, cas=0.05, unknown=0.05)
    h = history_from_records(generate(600, 8, 3, seed=seed, mix=mix))
    for part in prepare(h.ops, get_model("kv", h.initial)):
        assert timeline(part) == _reference(part)


def test_ties_put_invocations_first_and_keep_operation_order() -> None:
    # Op 1 returns when op 2 is invoked; ops 0 and 3 return at the same time.
    part = _part([(0, 10), (1, 5), (5, 10), (6, None), (7, 8)])
    assert timeline(part) == [0, 1, 2, ~1, 3, 4, ~4, ~0, ~2]
    assert timeline(part) == _reference(part)


def test_invocations_out_of_operation_order_are_sorted_too() -> None:
    part = _part([(4, 9), (0, 3), (2, None), (2, 6)])
    assert timeline(part) == _reference(part) == [1, 2, 3, ~1, 0, ~3, ~0]


def test_an_empty_partition_has_an_empty_timeline() -> None:
    assert timeline(_part([])) == []


def test_negative_and_huge_times_keep_their_order() -> None:
    # Returns sort as ``time * n + i``: negative times and times past 64 bits too.
    part = _part([(-5, -3), (-4, 2**70), (-3, -3), (0, 1), (2**69, 2**70)])
    assert timeline(part) == _reference(part)
