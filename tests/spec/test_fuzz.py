"""Fuzzing the grammar and the evaluator: whatever the text, the only error
that escapes is SpecError; and every value printed in TLA+ syntax reads
back as the same value."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkers.spec import Spec, SpecError, format_value
from tests.spec.helpers import SPEC

TOKENS = [
    "/\\", "\\/", "~", "=>", "<=>", "=", "#", "<", "<=", ">=", "\\in", "\\notin", "\\subseteq",
    "\\cup", "\\cap", "\\", "..", "+", "-", "*", "\\div", "%", "\\o", ":>", "@@", "(", ")", "[",
    "]", "{", "}", "<<", ">>", ",", ":", "|->", "->", "!", ".", "'", "@", "[]", "]_", ">>_",
    "IF", "THEN", "ELSE", "CASE", "OTHER", "LET", "IN", "==", "EXCEPT", "CHOOSE", "\\A", "\\E",
    "DOMAIN", "SUBSET", "UNION", "UNCHANGED", "TRUE", "FALSE", "x", "y", "N", "k", "a",
    "Len", "Append", "Head", "Tail", "SubSeq", "Cardinality", "Fact", "Double", "Twice",
    "0", "1", "2", "17", '"s"', "BOOLEAN", "Nat", "\\* c", "(* c *)",
]  # fmt: skip

SPACES = st.sampled_from([" ", "  ", "\n", "\n  ", "\n     ", ""])
STATE = {"x": 1, "y": (1, 2)}


def tokens_text() -> st.SearchStrategy[str]:
    pair = st.tuples(st.sampled_from(TOKENS), SPACES).map("".join)
    return st.lists(pair, min_size=1, max_size=25).map(lambda parts: " " + "".join(parts))


def evaluate(text: str) -> object:
    evaluator = SPEC.evaluator({"N": 3})
    return evaluator.value(evaluator.parse(text), STATE, STATE)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tokens_text())
def test_token_soup_only_ever_raises_spec_error(text: str) -> None:
    try:
        evaluate(text)
    except SpecError as error:
        assert str(error) and "\n" not in str(error)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_module_text_only_ever_raises_spec_error(body: str) -> None:
    try:
        Spec.from_text("---- MODULE F ----\nEXTENDS Naturals\n" + body + "\n====\n")
    except SpecError as error:
        assert str(error).startswith("<spec>")


def expressions() -> st.SearchStrategy[str]:
    """Well-formed expressions (mostly; ill-typed ones must fail cleanly)."""
    leaves = st.sampled_from(["0", "1", "2", "TRUE", "FALSE", '"a"', "x", "N", "{}", "<<>>"])

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.sampled_from(
            ["+", "-", "*", "\\div", "%", "=", "#", "<", "\\in", "\\cup", "\\", "..", "\\o", "/\\"]
        )
        return st.one_of(
            st.tuples(inner, binary, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.lists(inner, max_size=3).map(lambda xs: "{" + ", ".join(xs) + "}"),
            st.lists(inner, max_size=3).map(lambda xs: "<<" + ", ".join(xs) + ">>"),
            inner.map(lambda e: f"[k \\in 1..2 |-> {e}]"),
            st.tuples(inner, inner).map(lambda t: f"[a |-> {t[0]}, b |-> {t[1]}]"),
            st.tuples(inner, inner, inner).map(lambda t: f"IF {t[0]} THEN {t[1]} ELSE {t[2]}"),
            inner.map(lambda e: f"{{k \\in {e} : k # 1}}"),
            inner.map(lambda e: f"\\E k \\in {e} : k = 1"),
            inner.map(lambda e: f"Cardinality({e})"),
            inner.map(lambda e: f"DOMAIN {e}"),
            inner.map(lambda e: f"SUBSET {e}"),
            inner.map(lambda e: f"Len({e})"),
            inner.map(lambda e: f"{e}[1]"),
            inner.map(lambda e: f"[{e} EXCEPT ![1] = @]"),
            inner.map(lambda e: f"{e}'"),
            inner.map(lambda e: f"~{e}"),
        )

    return st.recursive(leaves, grow, max_leaves=12)


@settings(max_examples=500, deadline=None)
@given(expressions())
def test_generated_expressions_evaluate_or_fail_cleanly_and_print_back(text: str) -> None:
    try:
        value = evaluate(text)
    except SpecError:
        return
    printed = format_value(value)
    assert evaluate(printed) == value, printed
