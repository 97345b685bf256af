"""Normalization rules: what is set aside, bounded or marked invisible, and why."""

from __future__ import annotations

from checkers.linearizability import get_model
from checkers.linearizability.normalize import prepare

from .helpers import history, op


def _part(*ops):  # type: ignore[no-untyped-def]
    h = history(*ops)
    [p] = prepare(h.ops, get_model("kv"))
    return h, p


def test_failed_and_unknown_reads_are_set_aside() -> None:
    _h, p = _part(
        op(0, "cas", "x", ("1", "2"), None, 0, 1, status="fail"),
        op(1, "get", "x", None, None, 0, 1, status="info"),
        op(2, "put", "x", "5", None, 0, 1),
    )
    reasons = [why for _o, why in p.dropped]
    assert any("failed" in r for r in reasons)
    assert any("unknown-outcome read" in r for r in reasons)
    assert [o.f for o in p.ops] == ["put"]


def test_unobserved_unknown_write_is_dropped_and_observed_one_bounded() -> None:
    _h, p = _part(
        op(0, "put", "x", "1", None, 0, None, status="info"),
        op(1, "put", "x", "2", None, 0, None, status="info"),
        op(2, "get", "x", None, "2", 5, 9),
    )
    assert [o.arg for o, _ in p.dropped] == ["1"]
    [w, _r] = p.ops
    assert w.arg == "2" and p.ret[0] == 9  # must precede the read that saw it


def test_unobserved_completed_write_is_invisible() -> None:
    h, p = _part(
        op(0, "put", "x", "1", None, 0, 1),
        op(0, "put", "x", "2", None, 2, 3),
        op(1, "get", "x", None, "2", 4, 5),
    )
    assert p.invisible == {h.ops[0].id}


def test_no_value_rules_with_repeated_values() -> None:
    _h, p = _part(
        op(0, "put", "x", "1", None, 0, None, status="info"),
        op(1, "put", "x", "1", None, 2, 3),
    )
    assert not p.dropped and not p.invisible


def test_unknown_append_dropped_only_when_unobserved() -> None:
    _h, p = _part(
        op(0, "append", "x", "<a>", None, 0, None, status="info"),
        op(1, "append", "x", "<b>", None, 0, None, status="info"),
        op(2, "get", "x", None, "<b>", 5, 6),
    )
    assert [o.arg for o, _ in p.dropped] == ["<a>"]
