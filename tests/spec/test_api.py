"""The evaluator's Python API: constants, parameters, conversions."""

from __future__ import annotations

import pytest

from checkers.spec import Fn, Spec, SpecError, format_value, from_python

TEXT = r"""---- MODULE Api ----
EXTENDS Naturals, Sequences
CONSTANTS Max
VARIABLES n, names
Step(k) == /\ n + k <= Max
           /\ n' = n + k
           /\ names' = names
Big == n > Max \div 2
====
"""


def test_constants_parameters_and_states_bind_from_outside() -> None:
    ev = Spec.from_text(TEXT, "Api.tla").evaluator({"Max": 10})
    assert ev.holds("Step", {"n": 1, "names": ()}, {"n": 4, "names": ()}, {"k": 3})
    assert not ev.holds("Step", {"n": 9, "names": ()}, {"n": 12, "names": ()}, {"k": 3})
    assert ev.value(ev.parse("n + k", names=["k"]), {"n": 2}, None, {"k": 5}) == 7
    with pytest.raises(SpecError, match="unknown name k"):
        ev.parse("n + k")
    assert ev.holds("Big", {"n": 6}) and not ev.holds("Big", {"n": 5})


def test_an_unknown_constant_or_parameter_is_refused() -> None:
    spec = Spec.from_text(TEXT, "Api.tla")
    with pytest.raises(SpecError, match="no CONSTANT named Min"):
        spec.evaluator({"Min": 1})
    with pytest.raises(SpecError, match="Step: no parameter j"):
        spec.evaluator({"Max": 1}).holds("Step", {"n": 0}, {"n": 0}, {"k": 0, "j": 1})
    with pytest.raises(SpecError, match="no definition named Nope"):
        spec.evaluator({"Max": 1}).holds("Nope", {})


def test_json_like_data_becomes_values() -> None:
    value = from_python({"term": 2, "log": [1, 2], "voters": {"n1", "n2"}, "ok": True})
    assert isinstance(value, Fn)
    assert (
        format_value(value)
        == '[log |-> <<1, 2>>, ok |-> TRUE, term |-> 2, voters |-> {"n1", "n2"}]'
    )
    assert from_python({1: "a", 2: "b"}) == ("a", "b")  # a function on 1..n is a sequence
    with pytest.raises(SpecError, match=r"float 1.5 has no TLA\+ value"):
        from_python({"x": 1.5}, "state of n1")
