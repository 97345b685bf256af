"""Shared helpers for the spec-language tests: a module that extends every
standard module the subset knows, and a way to evaluate text in it."""

from __future__ import annotations

from checkers.spec import Spec, Value

PRELUDE = """---- MODULE Prelude ----
EXTENDS Naturals, Integers, Sequences, FiniteSets, TLC
CONSTANTS N
VARIABLES x, y
RECURSIVE Fact(_), Sum(_)
Fact(k) == IF k = 0 THEN 1 ELSE k * Fact(k - 1)
Sum(S) == IF S = {} THEN 0 ELSE LET e == CHOOSE v \\in S : TRUE IN e + Sum(S \\ {e})
Double(k) == 2 * k
Twice == Double(N)
====
"""

SPEC = Spec.from_text(PRELUDE, "Prelude.tla")


def ev(
    text: str, state: dict[str, Value] | None = None, nxt: dict[str, Value] | None = None
) -> Value:
    """The value of ``text`` in the prelude with N = 3."""
    evaluator = SPEC.evaluator({"N": 3})
    return evaluator.value(evaluator.parse(text), state, nxt)
