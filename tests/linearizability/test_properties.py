"""Generated histories: linearizable by construction, and broken by one changed result.

The generator (``checkers.linearizability.generate``) applies each
operation's effect at an instant inside its interval, so its histories are
linearizable; :func:`mutate` changes one read or compare-and-set result to a
value that was provably overwritten before the operation began.  Both
searches must agree with the construction.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from checkers.linearizability import check, get_model, history_from_records
from checkers.linearizability.generate import Mix, generate, mutate
from checkers.linearizability.jit import search_jit
from checkers.linearizability.normalize import prepare
from checkers.linearizability.wgl import search_wgl

mixes = st.builds(
    Mix,
    put=st.sampled_from([0.2, 0.35, 0.5]),
    delete=st.sampled_from([0.0, 0.05, 0.15]),
    cas=st.sampled_from([0.0, 0.1, 0.25]),
    append=st.sampled_from([0.0, 0.0, 0.15]),
    unknown=st.sampled_from([0.0, 0.02, 0.1]),
)
shapes = st.tuples(
    st.integers(10, 160),  # operations
    st.integers(1, 7),  # clients
    st.integers(1, 3),  # keys
    st.integers(0, 2**31),  # seed
    mixes,
)


def _verdicts(records: list[dict[str, object]]) -> tuple[str, str, str]:
    h = history_from_records(records)
    m = get_model("kv")
    parts = prepare(h.ops, m)
    out = []
    for search in (search_jit, search_wgl):
        vs = [search(p, m, None).verdict for p in parts]
        out.append("not-linearizable" if "not-linearizable" in vs else "linearizable")
    return out[0], out[1], check(h, workers=1).verdict


@settings(max_examples=120)
@given(shapes)
def test_constructed_histories_are_accepted(shape: tuple[int, int, int, int, Mix]) -> None:
    n, clients, keys, seed, mix = shape
    recs = generate(n, clients, keys, seed, mix)
    assert _verdicts(recs) == ("linearizable",) * 3


@settings(max_examples=100)
@given(shapes, st.sampled_from(["read", "cas"]))
def test_one_mutated_result_is_rejected(shape: tuple[int, int, int, int, Mix], kind: str) -> None:
    n, clients, keys, seed, mix = shape
    if kind == "cas":
        mix = Mix(
            put=mix.put,
            delete=mix.delete,
            cas=max(mix.cas, 0.2),
            append=mix.append,
            unknown=mix.unknown,
        )
    recs = generate(max(n, 40), clients, keys, seed, mix)
    try:
        bad, _why = mutate(recs, seed, kind)
    except ValueError:
        return  # nothing suitable to break in so small a history
    assert _verdicts(bad) == ("not-linearizable",) * 3


def test_mutation_is_found_in_a_busy_history() -> None:
    recs = generate(3000, 30, 1, seed=5, mix=Mix(cas=0.05, unknown=0.01))
    for kind in ("read", "cas"):
        bad, why = mutate(recs, 9, kind)
        result = check(history_from_records(bad), workers=1)
        assert result.verdict == "not-linearizable", why
        assert result.violations()[0].candidates


@settings(max_examples=150)
@given(shapes, st.integers(2, 4), st.integers(0, 2**31))
def test_searches_agree_with_repeated_values(
    shape: tuple[int, int, int, int, Mix], values: int, salt: int
) -> None:
    """Repeated values switch the value reductions off: both searches must still agree.

    The constructed history must be accepted; after one read result is
    replaced by another value (which may or may not break it), the two
    searches must give the same verdict.
    """
    n, clients, keys, seed, mix = shape
    recs = generate(n, clients, keys, seed, mix, values=values)
    assert _verdicts(recs) == ("linearizable",) * 3
    reads = [i for i, r in enumerate(recs) if r["f"] == "get" and r["type"] == "ok"]
    if not reads:
        return
    changed = [dict(r) for r in recs]
    i = reads[salt % len(reads)]
    changed[i]["value"] = str(salt % (values + 1))
    jit, wgl, portfolio = _verdicts(changed)
    assert jit == wgl == portfolio
