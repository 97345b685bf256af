"""Values of the TLA+ subset as Python values, and how they print.

BOOLEAN is ``bool``, integers ``int``, strings ``str``, finite sets
``frozenset``, tuples and sequences ``tuple``.  Every other function
(records included) is a :class:`Fn`; a function whose domain is ``1..n``
is always the tuple, so that Python equality is TLA+ equality
(``<<a, b>> = [i \\in 1..2 |-> ...]``).  ``Nat``, ``Int`` and ``Seq(S)``
are :class:`InfiniteSet`: membership only.

Python's ``True == 1`` is not TLA+'s: the evaluator refuses to compare a
boolean with an integer, and a set may not hold both (docs/spec-language.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from checkers.spec.errors import SpecError

__all__ = ["Fn", "InfiniteSet", "Value", "format_value", "from_python", "kind", "sort_key"]

#: A value of the subset (bool, int, str, frozenset, tuple, Fn or InfiniteSet).
Value = Any

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class Fn:
    """A function with a finite domain, hashable; records are Fns with string keys.

    Build with :func:`Fn.of`, which gives the canonical value (a tuple when
    the domain is ``1..n``).
    """

    __slots__ = ("_hash", "_map")

    def __init__(self, mapping: dict[Value, Value]) -> None:
        self._map = mapping
        self._hash: int | None = None

    @staticmethod
    def of(mapping: dict[Value, Value]) -> Value:
        """The canonical value for ``mapping``: a tuple if the keys are 1..n."""
        size = len(mapping)
        if size and type(next(iter(mapping))) is not int:
            return Fn(mapping)
        if all(type(k) is int and 1 <= k <= size for k in mapping):  # distinct keys: 1..size
            return tuple(mapping[i] for i in range(1, size + 1))
        return Fn(mapping)

    def domain(self) -> frozenset[Value]:
        return frozenset(self._map)

    def items(self) -> Iterator[tuple[Value, Value]]:
        return iter(self._map.items())

    def get(self, key: Value, default: Value = None) -> Value:
        return self._map.get(key, default)

    def updated(self, key: Value, value: Value) -> Value:
        """This function with ``key`` mapped to ``value`` (key already in the domain)."""
        mapping = dict(self._map)
        mapping[key] = value
        return Fn(mapping)

    def as_dict(self) -> dict[Value, Value]:
        return dict(self._map)

    def __contains__(self, key: object) -> bool:
        return key in self._map

    def __len__(self) -> int:
        return len(self._map)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fn) and self._map == other._map

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._map.items()))
        return self._hash

    def __repr__(self) -> str:
        return format_value(self)


class InfiniteSet:
    """``Nat``, ``Int`` or ``Seq(S)``: a set that can only be asked for membership."""

    __slots__ = ("contains", "name")

    def __init__(self, name: str, contains: Callable[[Value], bool]) -> None:
        self.name = name
        self.contains = contains

    def __repr__(self) -> str:
        return self.name


def kind(value: Value) -> str:
    """What a value is, in words, for error messages."""
    if type(value) is bool:
        return "a boolean"
    if type(value) is int:
        return "an integer"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, frozenset | InfiniteSet):
        return "a set"
    if isinstance(value, tuple):
        return "a sequence"
    if isinstance(value, Fn):
        return "a record" if all(isinstance(k, str) for k in value.domain()) else "a function"
    return "not a value"


def sort_key(value: Value) -> tuple[Any, ...]:
    """A total order on values: printing and CHOOSE are deterministic by it."""
    if type(value) is bool:
        return (0, value)
    if type(value) is int:
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, frozenset):
        return (3, tuple(sorted(sort_key(v) for v in value)))
    if isinstance(value, tuple):
        return (4, tuple(sort_key(v) for v in value))
    if isinstance(value, Fn):
        return (5, tuple(sorted((sort_key(k), sort_key(v)) for k, v in value.items())))
    return (6, repr(value))


def format_value(value: Value) -> str:
    """The value in TLA+ syntax (TLC's style: records as ``[a |-> 1]``, other
    functions as ``(k :> v @@ ...)``), sets and records in value order."""
    if type(value) is bool:
        return "TRUE" if value else "FALSE"
    if type(value) is int:
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'
    if isinstance(value, frozenset):
        return "{" + ", ".join(format_value(v) for v in sorted(value, key=sort_key)) + "}"
    if isinstance(value, tuple):
        return "<<" + ", ".join(format_value(v) for v in value) + ">>"
    if isinstance(value, Fn):
        pairs = sorted(value.items(), key=lambda kv: sort_key(kv[0]))
        if all(isinstance(k, str) and IDENT.match(k) for k, _ in pairs):
            return "[" + ", ".join(f"{k} |-> {format_value(v)}" for k, v in pairs) + "]"
        body = " @@ ".join(f"{format_value(k)} :> {format_value(v)}" for k, v in pairs)
        return f"({body})"
    if isinstance(value, InfiniteSet):
        return value.name
    raise SpecError(f"not a value of the subset: {value!r}")


def from_python(obj: object, where: str = "value") -> Value:
    """A value from plain Python/JSON data: lists become sequences, dicts
    records (or functions), sets sets.  Anything else is a SpecError."""
    if isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, list | tuple):
        return tuple(from_python(v, where) for v in obj)
    if isinstance(obj, set | frozenset):
        return frozenset(from_python(v, where) for v in obj)
    if isinstance(obj, Mapping):
        return Fn.of({from_python(k, where): from_python(v, where) for k, v in obj.items()})
    if isinstance(obj, Fn | InfiniteSet):
        return obj
    raise SpecError(f"{where}: {type(obj).__name__} {obj!r} has no TLA+ value")
