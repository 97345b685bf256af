"""KV commands as they travel in the Raft log: compact JSON text.

Every write carries the client id and the client's request number, so that a
retried request (the client timed out, the leader changed) is applied at most
once: the state machine remembers each client's last request and its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

OPS = ("put", "get", "delete", "cas", "append")


class CommandError(ValueError):
    """Log data that is not a valid KV command."""


@dataclass(slots=True, frozen=True)
class Command:
    op: str
    key: str
    value: Any = None  # put/append: str; cas: [expected, new]; get/delete: None
    client: int = 0
    seq: int = 0


def encode_command(cmd: Command) -> str:
    body: dict[str, Any] = {"op": cmd.op, "key": cmd.key}
    if cmd.value is not None:
        body["value"] = cmd.value
    if cmd.client:
        body["client"] = cmd.client
        body["seq"] = cmd.seq
    return orjson.dumps(body).decode()


def decode_command(text: str) -> Command:
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError as err:
        raise CommandError(f"command is not JSON: {err}") from None
    if not isinstance(body, dict):
        raise CommandError("command must be a JSON object")
    op, key = body.get("op"), body.get("key")
    if op not in OPS:
        raise CommandError(f"unknown op {op!r} (expected one of {', '.join(OPS)})")
    if not isinstance(key, str):
        raise CommandError("command key must be a string")
    value = body.get("value")
    if op in ("put", "append") and not isinstance(value, str):
        raise CommandError(f"{op} needs a string value")
    if op == "cas" and not (isinstance(value, list) and len(value) == 2):
        raise CommandError("cas needs value [expected, new]")
    client, seq = body.get("client", 0), body.get("seq", 0)
    if not isinstance(client, int) or not isinstance(seq, int):
        raise CommandError("client and seq must be integers")
    return Command(op, key, value, client, seq)
