"""Hand-written histories: every way to be rejected, unknown outcomes, budgets, both searches."""

from __future__ import annotations

import gc

import pytest

from checkers.linearizability import check, get_model, history_from_records
from checkers.linearizability.generate import Mix, generate, mutate
from checkers.linearizability.history import History
from checkers.linearizability.jit import search_jit
from checkers.linearizability.normalize import prepare
from checkers.linearizability.wgl import search_wgl, zobrist

from .helpers import history, op


def both(h: History, model: str = "kv") -> set[str]:
    """Verdicts of the two searches run separately on every partition."""
    m = get_model(model, h.initial)
    out = set()
    for search in (search_jit, search_wgl):
        verdicts = [search(p, m, None).verdict for p in prepare(h.ops, m)]
        out.add("not-linearizable" if "not-linearizable" in verdicts else "linearizable")
    return out


REJECT = {
    "stale read": history(
        op(0, "put", "x", "1", None, 0, 1),
        op(0, "put", "x", "2", None, 2, 3),
        op(1, "get", "x", None, "1", 4, 5),
    ),
    "read of a value never written": history(op(0, "get", "x", None, "9", 0, 1)),
    "read before the write began": history(
        op(1, "get", "x", None, "1", 0, 1), op(0, "put", "x", "1", None, 2, 3)
    ),
    "cas from a stale value": history(
        op(0, "put", "x", "1", None, 0, 1),
        op(0, "put", "x", "2", None, 2, 3),
        op(1, "cas", "x", ("1", "3"), None, 4, 5),
    ),
    "read after delete sees the old value": history(
        op(0, "put", "x", "1", None, 0, 1),
        op(0, "delete", "x", None, None, 2, 3),
        op(1, "get", "x", None, "1", 4, 5),
    ),
    "appends seen in two orders": history(
        op(0, "append", "x", "a", None, 0, 10),
        op(1, "append", "x", "b", None, 0, 10),
        op(2, "get", "x", None, "ab", 11, 12),
        op(3, "get", "x", None, "ba", 13, 14),
    ),
    "value goes back in time": history(
        op(0, "put", "x", "1", None, 0, 1),
        op(1, "put", "x", "2", None, 0, 10),
        op(2, "get", "x", None, "2", 2, 3),
        op(3, "get", "x", None, "1", 4, 5),
    ),
    "unknown write cannot explain a read it follows": history(
        op(1, "get", "x", None, "7", 0, 1),
        op(0, "put", "x", "7", None, 2, None, status="info"),
    ),
    "two swaps from the same value": history(
        op(0, "put", "x", "0", None, 0, 1),
        op(1, "cas", "x", ("0", "1"), None, 2, 5),
        op(2, "cas", "x", ("0", "2"), None, 2, 5),
    ),
}


@pytest.mark.parametrize("name", sorted(REJECT))
def test_rejected(name: str) -> None:
    h = REJECT[name]
    assert both(h) == {"not-linearizable"}
    result = check(h, workers=1)
    assert result.verdict == "not-linearizable"
    assert result.violations()


ACCEPT = {
    "concurrent write and read of either value": history(
        op(0, "put", "x", "1", None, 0, 1),
        op(0, "put", "x", "2", None, 2, 10),
        op(1, "get", "x", None, "1", 3, 4),
        op(2, "get", "x", None, "2", 5, 6),
    ),
    "unknown write that took effect late": history(
        op(0, "put", "x", "7", None, 0, 1, status="info"),
        op(1, "get", "x", None, None, 2, 3),
        op(1, "get", "x", None, "7", 4, 5),
    ),
    "unknown write that never happened": history(
        op(0, "put", "x", "7", None, 0, 1, status="info"),
        op(1, "get", "x", None, None, 2, 3),
    ),
    "failed cas has no effect": history(
        op(0, "put", "x", "1", None, 0, 1),
        op(1, "cas", "x", ("1", "2"), None, 2, 3, status="fail"),
        op(1, "get", "x", None, "1", 4, 5),
    ),
    "unknown cas that swapped": history(
        op(0, "put", "x", "1", None, 0, 1),
        op(1, "cas", "x", ("1", "2"), None, 2, None, status="info"),
        op(2, "get", "x", None, "2", 5, 6),
    ),
    "appends in one order": history(
        op(0, "append", "x", "a", None, 0, 10),
        op(1, "append", "x", "b", None, 0, 10),
        op(2, "get", "x", None, "ba", 11, 12),
        op(3, "get", "x", None, "ba", 13, 14),
    ),
    "keys are independent": history(
        op(0, "put", "x", "1", None, 0, 1),
        op(0, "put", "y", "1", None, 2, 3),
        op(1, "get", "x", None, "1", 4, 5),
        op(1, "get", "y", None, None, 0, 1),
    ),
}


@pytest.mark.parametrize("name", sorted(ACCEPT))
def test_accepted(name: str) -> None:
    h = ACCEPT[name]
    assert both(h) == {"linearizable"}
    result = check(h, workers=1)
    assert result.verdict == "linearizable", result.explain()


def test_register_model_on_jsonl() -> None:
    h = history(
        op(0, "write", None, 1, None, 0, 1),
        op(1, "read", None, None, 2, 2, 3),
    )
    assert check(h, model="register", workers=1).verdict == "not-linearizable"


def _hard(n: int, clients: int, keys: int, seed: int = 3) -> History:
    return history_from_records(
        generate(n, clients, keys, seed=seed, mix=Mix(cas=0.05, unknown=0.01))
    )


def test_time_budget_gives_unknown() -> None:
    h = _hard(3000, 20, 1)
    result = check(h, timeout=1e-6, workers=1)
    assert result.verdict == "unknown"
    assert "timed out after 1e-06 s" in result.explain()


def test_config_cap_hands_over_to_the_other_search() -> None:
    h = _hard(600, 8, 1)
    m = get_model("kv")
    [part] = prepare(h.ops, m)
    capped = search_jit(part, m, None, max_configs=1)
    assert capped.verdict in ("unknown", "linearizable")
    from checkers.linearizability.portfolio import solve

    assert solve(part, m, None).verdict == "linearizable"


def test_parallel_partitions_and_race_agree_with_inline() -> None:
    # Big enough to go to worker processes: several keys, then one hot key.
    for keys in (6, 1):
        recs = generate(5000, 10, keys, seed=11, mix=Mix(cas=0.05, unknown=0.01))
        bad, _ = mutate(recs, 5, "read")
        for records, want in ((recs, "linearizable"), (bad, "not-linearizable")):
            h = history_from_records(records)
            seen: list[tuple[object, ...]] = []

            def note(*a: object, seen: list[tuple[object, ...]] = seen) -> None:
                seen.append(a)

            result = check(h, workers=2, timeout=60, progress=note, race=True)
            assert result.verdict == want
            assert len(seen) == len(result.results)
            assert check(h, workers=1).verdict == want


def test_witness_is_a_real_linearization() -> None:
    h = _hard(400, 5, 2)
    result = check(h, workers=1)
    assert result.verdict == "linearizable"
    m = result.model
    by_id = {o.id: o for o in h.ops}
    for part, res in zip(result.parts, result.results, strict=True):
        assert res.order is not None
        state = m.init()
        for oid in res.order:
            ok, state = m.step(state, by_id[oid])
            assert ok
        # Real-time order: nothing placed before an op that returned before it began.
        pos = {oid: i for i, oid in enumerate(res.order)}
        rets = dict(zip((o.id for o in part.ops), part.ret, strict=True))
        for a in res.order:
            for b in res.order:
                ra = rets.get(a)
                if ra is not None and ra < by_id[b].call:
                    assert pos[a] < pos[b]


def _outcome(res: object) -> tuple[object, ...]:
    return tuple(
        getattr(res, f) for f in ("verdict", "order", "prefix", "blocked", "configurations")
    )


def test_shared_zobrist_numbers_change_no_result() -> None:
    # The portfolio draws one list for every partition; each search then
    # uses its first numbers, the same ones it would draw itself.
    assert zobrist(5) == zobrist(50)[:5]
    recs = generate(400, 6, 3, seed=4, mix=Mix(cas=0.05, unknown=0.02))
    bad, _ = mutate(recs, 4, "read")
    verdicts = set()
    for records in (recs, bad):
        h = history_from_records(records)
        m = get_model("kv", h.initial)
        parts = prepare(h.ops, m)
        shared = zobrist(max(len(p) for p in parts))
        for p in parts:
            alone = search_wgl(p, m)
            assert _outcome(search_wgl(p, m, zob=shared)) == _outcome(alone)
            assert _outcome(search_wgl(p, m, zob=shared[:1])) == _outcome(alone)  # too short
            verdicts.add(alone.verdict)
    assert verdicts == {"linearizable", "not-linearizable"}


def test_wgl_counts_every_configuration_reached() -> None:
    # Sequential operations: one configuration per operation placed, though
    # the cache only remembers configurations backed out of (none here).
    h = history(*(op(0, "put", "x", str(i), None, 2 * i, 2 * i + 1) for i in range(7)))
    m = get_model("kv")
    [part] = prepare(h.ops, m)
    res = search_wgl(part, m)
    assert res.verdict == "linearizable"
    assert res.configurations == 7


def test_wgl_cache_cap_gives_unknown() -> None:
    h = _hard(3000, 8, 1)
    m = get_model("kv")
    [part] = prepare(h.ops, m)
    res = search_wgl(part, m, None, max_cache=100)
    assert res.verdict == "unknown"
    assert res.reason == "more than 100 cached configurations"
    assert res.configurations > 100


def test_wgl_leaves_no_reference_cycles() -> None:
    # Its linked entries point at each other; they must be unlinked when the
    # search ends, since the checker runs with the cyclic collector paused.
    recs = generate(300, 5, 2, seed=9)
    bad, _ = mutate(recs, 9, "read")
    searched = []
    for records in (recs, bad):
        h = history_from_records(records)
        m = get_model("kv", h.initial)
        searched += [(p, m) for p in prepare(h.ops, m)]
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        verdicts = {search_wgl(p, m).verdict for p, m in searched}
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()
    assert verdicts == {"linearizable", "not-linearizable"}
