"""Request validation for the HTTP API, once, as pure functions.

Every check names what is wrong (the field, the header, the query parameter)
so that a 4xx answer tells the caller what to fix. Nothing here does I/O;
``kv.httpapi.app`` feeds it the pieces of a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from kv.httpapi.service import NO_SESSION, Session

CLIENT_HEADER = "X-Raftlab-Client"
SEQ_HEADER = "X-Raftlab-Seq"
MAX_ID = 2**63 - 1


@dataclass(slots=True, frozen=True)
class Limits:
    """Size limits; a request over them is answered 413."""

    max_key_bytes: int = 1024
    max_value_bytes: int = 64 * 1024
    max_list_limit: int = 10_000
    default_list_limit: int = 1000

    @property
    def max_body_bytes(self) -> int:
        """A CAS body holds two values, plus JSON quoting and field names."""
        return 2 * (2 * self.max_value_bytes) + 1024


class ApiError(Exception):
    """A request the API refuses: ``status`` 4xx, ``code`` a stable word."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad(message: str, code: str = "bad_request") -> ApiError:
    return ApiError(400, code, message)


def too_large(message: str) -> ApiError:
    return ApiError(413, "too_large", message)


def check_key(key: str, limits: Limits) -> str:
    if not key:
        raise bad("the key must not be empty", "bad_key")
    if key.startswith("\x00"):
        raise bad("keys starting with a NUL character are reserved for raftlab", "bad_key")
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > limits.max_key_bytes:
        raise too_large(f"key is {size} bytes; the limit is {limits.max_key_bytes}")
    return key


def check_value(value: Any, name: str, limits: Limits, *, nullable: bool) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        want = "a string or null" if nullable else "a string"
        raise bad(f"{name!r} must be {want}, not {type(value).__name__}", "bad_value")
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > limits.max_value_bytes:
        raise too_large(f"{name!r} is {size} bytes; the limit is {limits.max_value_bytes}")
    return value


def json_object(body: bytes, allowed: tuple[str, ...], required: tuple[str, ...]) -> dict[str, Any]:
    """The body as a JSON object with only ``allowed`` fields and all of ``required``."""
    if not body:
        raise bad(f"the body must be a JSON object with {', '.join(map(repr, required))}")
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise bad(f"the body is not valid JSON: {err}", "bad_json") from None
    if not isinstance(obj, dict):
        raise bad(f"the body must be a JSON object, not {type(obj).__name__}", "bad_json")
    extra = sorted(set(obj) - set(allowed))
    if extra:
        raise bad(
            f"unknown field(s) {', '.join(map(repr, extra))}; allowed: "
            + ", ".join(map(repr, allowed)),
            "bad_field",
        )
    for name in required:
        if name not in obj:
            raise bad(f"missing field {name!r}", "bad_field")
    return obj


def session_from(headers: Mapping[str, str]) -> Session:
    """The request's session headers: both or neither, positive integers."""
    raw_client, raw_seq = headers.get(CLIENT_HEADER), headers.get(SEQ_HEADER)
    if raw_client is None and raw_seq is None:
        return NO_SESSION
    if raw_client is None or raw_seq is None:
        raise bad(f"{CLIENT_HEADER} and {SEQ_HEADER} go together", "bad_session")
    return Session(_positive(raw_client, CLIENT_HEADER), _positive(raw_seq, SEQ_HEADER))


def _positive(text: str, name: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise bad(f"{name} must be an integer from 1 to {MAX_ID}, not {text!r}", "bad_session")
    return int(text)


def query_bool(query: Mapping[str, str], name: str) -> bool:
    raw = query.get(name)
    if raw is None:
        return False
    value = {"": True, "true": True, "1": True, "false": False, "0": False}.get(raw.lower())
    if value is None:
        raise bad(f"query parameter {name!r} must be true or false, not {raw!r}", "bad_query")
    return value


def query_limit(query: Mapping[str, str], limits: Limits) -> int:
    raw = query.get("limit")
    if raw is None:
        return limits.default_list_limit
    if not raw.isdigit() or not 0 < int(raw) <= limits.max_list_limit:
        raise bad(
            f"query parameter 'limit' must be an integer from 1 to {limits.max_list_limit}, "
            f"not {raw!r}",
            "bad_query",
        )
    return int(raw)


def check_query_names(query: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    extra = sorted(set(query) - set(allowed))
    if extra:
        raise bad(
            f"unknown query parameter(s) {', '.join(map(repr, extra))}; allowed: "
            + ", ".join(map(repr, allowed)),
            "bad_query",
        )
