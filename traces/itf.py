"""The Informal Trace Format (ITF, Apalache ADR-015): its values in Python,
encoding and decoding, and ``read_itf`` for whole trace files.

ITF is the JSON trace format of Apalache and Quint: a document with
``vars`` (the variable names), ``states`` (one object per state, a value per
variable), optional ``#meta``, ``params`` and ``loop``. Values are booleans,
strings, integers as ``{"#bigint": "digits"}``, sequences as JSON arrays,
records as JSON objects, and ``{"#tup": [...]}``, ``{"#set": [...]}``,
``{"#map": [[key, value], ...]}`` and ``{"#unserializable": "..."}`` for
tuples, sets, functions and values a tool could not write.

Python has no record or TLA+ function type, and sets need hashable
elements, so decoding yields hashable values that keep the distinctions
ITF makes: ``Record`` and ``FnMap`` (read-only dicts with a hash), ``Tup``
(a tuple subclass) for ``#tup``, plain ``tuple`` for sequences and
``frozenset`` for sets. ``encode`` is the inverse: ``encode(decode(doc))``
gives back ``doc`` (up to the order of set elements and map pairs, which
``encode`` sorts so its output is deterministic).

The 2023-09-14 revision of the ADR writes every integer as ``#bigint``;
earlier writers used plain JSON numbers within 2^53, so ``decode`` accepts
both and ``encode`` writes ``#bigint`` only. Errors are ``ItfError`` naming
the file and the JSON path of the bad value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import orjson

_BIGINT = re.compile(r"-?[0-9]+")


class ItfError(ValueError):
    """An ITF document that cannot be read: ``where: at PATH: what is wrong``."""


class _Frozen(dict[Any, Any]):
    """A dict that refuses changes and hashes by content, so that records and
    functions can be elements of sets and keys of functions, as in TLA+."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(f"{type(self).__name__} is immutable")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse


class Record(_Frozen):
    """A TLA+ record (an ITF JSON object): field name -> value."""

    __slots__ = ()


class FnMap(_Frozen):
    """A TLA+ function (an ITF ``#map``): argument -> value."""

    __slots__ = ()


class Tup(tuple[Any, ...]):
    """A TLA+ tuple (an ITF ``#tup``); a sequence is a plain ``tuple``."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Unserializable:
    """A value the writing tool could not express (``#unserializable``)."""

    text: str


@dataclass(frozen=True, slots=True)
class ItfTrace:
    """A decoded ITF document. ``states`` hold one dict per state, variable
    name -> value; ``state_meta`` the ``#meta`` of each state ({} if none)."""

    vars: tuple[str, ...]
    states: tuple[dict[str, Any], ...]
    meta: dict[str, Any] = field(default_factory=dict)
    params: tuple[str, ...] = ()
    loop: int | None = None
    state_meta: tuple[dict[str, Any], ...] = ()


# ---------------------------------------------------------------------------
# encoding


def encode(value: Any) -> Any:
    """The ITF JSON value (built of dicts, lists, str, bool) for ``value``.

    ``bool`` is a boolean, ``int`` a ``#bigint``, ``str`` a string, ``Tup`` a
    ``#tup``, other tuples and lists sequences, sets ``#set``, ``FnMap`` and
    dicts with a key that is not a string ``#map``, other dicts records."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return {"#bigint": str(value)}
    if isinstance(value, Tup):
        return {"#tup": [encode(item) for item in value]}
    if isinstance(value, tuple | list):
        return [encode(item) for item in value]
    if isinstance(value, frozenset | set):
        return {"#set": _sorted(encode(item) for item in value)}
    if isinstance(value, Unserializable):
        return {"#unserializable": value.text}
    if isinstance(value, dict):
        if isinstance(value, FnMap) or not all(isinstance(k, str) for k in value):
            pairs = ([encode(k), encode(v)] for k, v in value.items())
            return {"#map": sorted(pairs, key=lambda pair: _key(pair[0]))}
        for name in value:
            if name.startswith("#"):
                raise ValueError(f"a record field may not start with '#': {name!r}")
        return {name: encode(item) for name, item in value.items()}
    raise TypeError(f"no ITF encoding for a {type(value).__name__}: {value!r}")


def _key(encoded: Any) -> tuple[int, Any]:
    """Orders encoded values deterministically: numbers by value, the rest by JSON."""
    if isinstance(encoded, dict) and "#bigint" in encoded and len(encoded) == 1:
        return (0, int(encoded["#bigint"]))
    return (1, orjson.dumps(encoded, option=orjson.OPT_SORT_KEYS))


def _sorted(items: Iterable[Any]) -> list[Any]:
    return sorted(items, key=_key)


def encode_trace(
    vars: Iterable[str],
    states: Iterable[Mapping[str, Any]],
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An ITF document with ``vars`` and one state per item of ``states``
    (Python values, each encoded with ``encode``)."""
    names = list(vars)

    def encoded(index: int, state: Mapping[str, Any]) -> dict[str, Any]:
        missing = [name for name in names if name not in state]
        if missing:
            raise ValueError(f"state {index} has no value for {', '.join(missing)}")
        return {name: encode(state[name]) for name in names}

    return trace_document(names, (encoded(k, state) for k, state in enumerate(states)), meta)


def trace_document(
    vars: Iterable[str],
    encoded_states: Iterable[Mapping[str, Any]],
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An ITF document from states already encoded (variable -> ITF JSON
    value); each state gets ``#meta`` ``{"index": i}``."""
    doc: dict[str, Any] = {}
    if meta:
        doc["#meta"] = dict(meta)
    doc["vars"] = list(vars)
    doc["states"] = [
        {"#meta": {"index": index}, **state} for index, state in enumerate(encoded_states)
    ]
    return doc


# ---------------------------------------------------------------------------
# decoding


#: Where a value is, from the document's root: keys and indexes, in order.
#: Kept as a tuple and rendered (``$.states[3].x``) only for an error message.
JsonPath = tuple[str | int, ...]


def render_path(path: JsonPath) -> str:
    return "$" + "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)


class _Decoder:
    __slots__ = ("where",)

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, path: JsonPath, message: str) -> NoReturn:
        raise ItfError(f"{self.where}: at {render_path(path)}: {message}")

    def value(self, raw: Any, path: JsonPath) -> Any:
        kind = type(raw)
        if kind is str or kind is bool or kind is int:  # int: ADR-015 before 2023-09-14
            return raw
        if kind is dict:
            if len(raw) == 1:
                ((key, body),) = raw.items()
                if key[:1] == "#":
                    return self.tagged(key, body, path)
                return Record({key: self.value(body, (*path, key))})
            for key in raw:
                if key[:1] == "#":
                    self.fail(path, f"a {key} object must have no other field, got {sorted(raw)}")
            return Record({key: self.value(item, (*path, key)) for key, item in raw.items()})
        if kind is list:
            return tuple([self.value(item, (*path, k)) for k, item in enumerate(raw)])
        if kind is float:
            self.fail(path, f"a number that is not an integer: {raw!r}")
        self.fail(path, f"null is not an ITF value: {raw!r}")

    def tagged(self, tag: str, body: Any, path: JsonPath) -> Any:
        if tag == "#bigint":
            if type(body) is not str or not _BIGINT.fullmatch(body):
                self.fail(path, f"#bigint must be a string of decimal digits, got {body!r}")
            return int(body)
        if tag == "#unserializable":
            if type(body) is not str:
                self.fail(path, f"#unserializable must be a string, got {body!r}")
            return Unserializable(body)
        if tag not in _TAGS:
            self.fail(path, f"unknown ITF tag {tag!r} (a record field may not start with '#')")
        if type(body) is not list:
            self.fail(path, f"{tag} must hold an array, got {type(body).__name__}")
        here = (*path, tag)
        if tag == "#tup":
            return Tup([self.value(item, (*here, k)) for k, item in enumerate(body)])
        if tag == "#set":
            return frozenset([self.value(item, (*here, k)) for k, item in enumerate(body)])
        return self.fn_map(body, here)

    def fn_map(self, body: list[Any], path: JsonPath) -> FnMap:
        pairs: dict[Any, Any] = {}
        for k, pair in enumerate(body):
            if type(pair) is not list or len(pair) != 2:
                self.fail((*path, k), "a #map entry must be a [key, value] pair")
            key = self.value(pair[0], (*path, k, 0))
            if key in pairs:
                self.fail((*path, k, 0), f"key {key!r} appears twice")
            pairs[key] = self.value(pair[1], (*path, k, 1))
        return FnMap(pairs)


_TAGS = frozenset({"#bigint", "#tup", "#set", "#map", "#unserializable"})


def decode(raw: Any, where: str = "<itf>") -> Any:
    """The Python value of one ITF JSON value (see the module docstring)."""
    return _Decoder(where).value(raw, ())


def decode_trace(doc: Any, where: str = "<itf>") -> ItfTrace:
    """An ``ItfTrace`` from a parsed ITF document; ``ItfError`` if malformed."""
    decoder = _Decoder(where)
    if not isinstance(doc, dict):
        decoder.fail((), "an ITF trace must be a JSON object")
    names = _strings(decoder, doc, "vars", required=True)
    params = _strings(decoder, doc, "params", required=False)
    meta = doc.get("#meta", {})
    if not isinstance(meta, dict):
        decoder.fail(("#meta",), "#meta must be an object")
    loop = doc.get("loop")
    if loop is not None and (type(loop) is not int or loop < 0):
        decoder.fail(("loop",), f"loop must be a state index, got {loop!r}")
    raw_states = doc.get("states")
    if not isinstance(raw_states, list):
        decoder.fail(("states",), "states must be an array of objects")
    pairs = list(_states(decoder, raw_states, names))
    states = tuple(state for state, _ in pairs)
    metas = tuple(meta for _, meta in pairs)
    if loop is not None and loop >= len(states):
        decoder.fail(("loop",), f"loop {loop} is beyond the last state {len(states) - 1}")
    return ItfTrace(names, states, dict(meta), params, loop, metas)


def _states(
    decoder: _Decoder, raw_states: list[Any], names: tuple[str, ...]
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for index, raw in enumerate(raw_states):
        path: JsonPath = ("states", index)
        if not isinstance(raw, dict):
            decoder.fail(path, "a state must be a JSON object")
        meta = raw.get("#meta", {})
        if not isinstance(meta, dict):
            decoder.fail((*path, "#meta"), "#meta must be an object")
        missing = [name for name in names if name not in raw]
        if missing:
            decoder.fail(path, f"no value for variable(s) {', '.join(missing)}")
        state = {
            name: decoder.value(value, (*path, name))
            for name, value in raw.items()
            if name != "#meta"
        }
        yield state, dict(meta)


def _strings(decoder: _Decoder, doc: dict[str, Any], key: str, required: bool) -> tuple[str, ...]:
    value = doc.get(key)
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        decoder.fail((key,), f"{key} must be an array of strings")
    return tuple(value)


def read_itf(path: str | Path) -> ItfTrace:
    """Read and decode an ITF file; every problem is one ``ItfError`` line."""
    where = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise ItfError(f"{where}: cannot read: {err.strerror or err}") from None
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise ItfError(f"{where}: malformed JSON: {err}") from None
    return decode_trace(doc, where)


__all__ = [
    "FnMap",
    "ItfError",
    "ItfTrace",
    "Record",
    "Tup",
    "Unserializable",
    "decode",
    "decode_trace",
    "encode",
    "encode_trace",
    "read_itf",
    "render_path",
    "trace_document",
]
