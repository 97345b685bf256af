"""The spec checker's language: a subset of TLA+ read with a lark grammar,
and an evaluator over Python values (docs/spec-language.md).

Typical use::

    from checkers.spec import Spec
    spec = Spec.load("spec/Counter.tla")          # parse and resolve, once
    ev = spec.evaluator({"N": 3})                 # constants
    ev.holds("TypeOK", {"x": 1})                  # an invariant on a state
    ev.holds("Inc", {"x": 1}, {"x": 2})           # an action on a state pair
    ev.enabled("Inc", {"x": 3})                   # the action's guard
    ev.successors("Inc", {"x": 1})                # the next states it allows
    ev.value(ev.parse("x + 1"), {"x": 1})          # any expression

States are mappings from variable names to values (:mod:`values`): bool,
int, str, frozenset, tuple (sequences) and :class:`Fn` (functions and
records); :func:`from_python` converts JSON-like data.  Every error is a
:class:`SpecError` naming file, line, column and the offending text.
"""

from checkers.spec.errors import Span, SpecError
from checkers.spec.evaluator import Evaluator
from checkers.spec.parser import parse_expr, parse_module
from checkers.spec.spec import Spec
from checkers.spec.values import Fn, InfiniteSet, Value, format_value, from_python

__all__ = [
    "Evaluator",
    "Fn",
    "InfiniteSet",
    "Span",
    "Spec",
    "SpecError",
    "Value",
    "format_value",
    "from_python",
    "parse_expr",
    "parse_module",
]
