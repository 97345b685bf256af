"""JSON forms of the core's values, for traces.

Encoding is on the simulator's hot path, so each message type has a plain
function rather than a reflective one. Decoding validates as it goes: a
malformed field raises ``CodecError`` naming the field, which the trace
reader turns into an error with a line number.
"""

from __future__ import annotations

from typing import Any

from consensus.confchange import ConfChange
from consensus.errors import ConfChangeError
from consensus.inputs import (
    Applied,
    Campaign,
    Compact,
    Input,
    Persisted,
    Propose,
    ProposeConfChange,
    ReadIndex,
    Receive,
    Tick,
    TransferLeader,
)
from consensus.membership import Membership
from consensus.messages import (
    AppendRequest,
    AppendResponse,
    Heartbeat,
    HeartbeatResponse,
    InstallSnapshot,
    Message,
    TimeoutNow,
    VoteRequest,
    VoteResponse,
)
from consensus.records import Entry, Snapshot

Json = dict[str, Any]


class CodecError(ValueError):
    """A JSON value that does not describe a valid core value."""


# -- records ---------------------------------------------------------------


def encode_entry(e: Entry) -> list[Any]:
    if e.conf is not None:
        return [e.index, e.term, e.data, e.conf.to_json()]
    return [e.index, e.term, e.data]


def decode_entry(raw: Any) -> Entry:
    if not isinstance(raw, list) or len(raw) not in (3, 4):
        raise CodecError(f"entry must be [index, term, data] or [index, term, data, conf]: {raw!r}")
    index, term, data = raw[0], raw[1], raw[2]
    if not (isinstance(index, int) and isinstance(term, int) and isinstance(data, str)):
        raise CodecError(f"entry fields have wrong types: {raw!r}")
    conf = None
    if len(raw) == 4:
        if not isinstance(raw[3], dict):
            raise CodecError(f"entry conf must be an object: {raw!r}")
        try:
            conf = ConfChange.from_json(raw[3])
        except ConfChangeError as err:
            raise CodecError(str(err)) from None
    return Entry(index, term, data, conf)


def encode_snapshot(s: Snapshot) -> Json:
    return {
        "index": s.index,
        "term": s.term,
        "conf": s.membership.to_json(),
        "data": s.data,
        "hash": s.log_hash,
    }


def decode_snapshot(raw: Any) -> Snapshot:
    obj = _obj(raw, "snapshot")
    try:
        membership = Membership.from_json(_obj(obj.get("conf"), "snapshot conf"))
    except ConfChangeError as err:
        raise CodecError(str(err)) from None
    return Snapshot(
        _int(obj, "index"), _int(obj, "term"), membership, _str(obj, "data"), _int(obj, "hash")
    )


# -- messages --------------------------------------------------------------


def encode_message(m: Message) -> Json:
    """A message as its trace JSON.

    Dispatched by ``isinstance`` in the order of how often each is sent
    (appends and heartbeats and their answers are nearly all of them), to
    encoders typed with their message class: compiled, each then reads its
    fields natively and is called directly, rather than looked up by type and
    called through a function object with fields read by name."""
    if isinstance(m, AppendRequest):
        return _enc_append_req(m)
    if isinstance(m, AppendResponse):
        return _enc_append_resp(m)
    if isinstance(m, Heartbeat):
        return _enc_heartbeat(m)
    if isinstance(m, HeartbeatResponse):
        return _enc_heartbeat_resp(m)
    if isinstance(m, VoteRequest):
        return _enc_vote_req(m)
    if isinstance(m, VoteResponse):
        return _enc_vote_resp(m)
    if isinstance(m, InstallSnapshot):
        return _enc_snapshot(m)
    if isinstance(m, TimeoutNow):
        return _enc_timeout_now(m)
    raise CodecError(f"cannot encode message {m!r}")


def _enc_vote_req(m: VoteRequest) -> Json:
    return {
        "type": "vote_req",
        "term": m.term,
        "src": m.src,
        "dst": m.dst,
        "last_index": m.last_index,
        "last_term": m.last_term,
        "pre": m.pre,
        "transfer": m.transfer,
    }


def _enc_vote_resp(m: VoteResponse) -> Json:
    return {
        "type": "vote_resp",
        "term": m.term,
        "src": m.src,
        "dst": m.dst,
        "granted": m.granted,
        "pre": m.pre,
    }


def _enc_append_req(m: AppendRequest) -> Json:
    return {
        "type": "append_req",
        "term": m.term,
        "src": m.src,
        "dst": m.dst,
        "prev_index": m.prev_index,
        "prev_term": m.prev_term,
        "entries": [encode_entry(e) for e in m.entries],
        "commit": m.commit,
    }


def _enc_append_resp(m: AppendResponse) -> Json:
    return {
        "type": "append_resp",
        "term": m.term,
        "src": m.src,
        "dst": m.dst,
        "success": m.success,
        "index": m.index,
        "hint_index": m.hint_index,
        "hint_term": m.hint_term,
    }


def _enc_heartbeat(m: Heartbeat) -> Json:
    return {
        "type": "heartbeat",
        "term": m.term,
        "src": m.src,
        "dst": m.dst,
        "commit": m.commit,
        "round": m.round,
    }


def _enc_heartbeat_resp(m: HeartbeatResponse) -> Json:
    return {"type": "heartbeat_resp", "term": m.term, "src": m.src, "dst": m.dst, "round": m.round}


def _enc_snapshot(m: InstallSnapshot) -> Json:
    return {
        "type": "snapshot",
        "term": m.term,
        "src": m.src,
        "dst": m.dst,
        "snapshot": encode_snapshot(m.snapshot),
    }


def _enc_timeout_now(m: TimeoutNow) -> Json:
    return {"type": "timeout_now", "term": m.term, "src": m.src, "dst": m.dst}


def decode_message(raw: Any) -> Message:
    obj = _obj(raw, "message")
    kind = obj.get("type")
    head = (_int(obj, "term"), _int(obj, "src"), _int(obj, "dst"))
    if kind == "vote_req":
        return VoteRequest(
            *head,
            _int(obj, "last_index"),
            _int(obj, "last_term"),
            _bool(obj, "pre"),
            _bool(obj, "transfer"),
        )
    if kind == "vote_resp":
        return VoteResponse(*head, _bool(obj, "granted"), _bool(obj, "pre"))
    if kind == "append_req":
        entries = obj.get("entries")
        if not isinstance(entries, list):
            raise CodecError("append_req field 'entries' must be a list")
        return AppendRequest(
            *head,
            _int(obj, "prev_index"),
            _int(obj, "prev_term"),
            tuple(decode_entry(e) for e in entries),
            _int(obj, "commit"),
        )
    if kind == "append_resp":
        return AppendResponse(
            *head,
            _bool(obj, "success"),
            _int(obj, "index"),
            _int(obj, "hint_index"),
            _int(obj, "hint_term"),
        )
    if kind == "heartbeat":
        return Heartbeat(*head, _int(obj, "commit"), _int(obj, "round"))
    if kind == "heartbeat_resp":
        return HeartbeatResponse(*head, _int(obj, "round"))
    if kind == "snapshot":
        return InstallSnapshot(*head, decode_snapshot(obj.get("snapshot")))
    if kind == "timeout_now":
        return TimeoutNow(*head)
    raise CodecError(f"unknown message type {kind!r}")


# -- inputs ----------------------------------------------------------------


def encode_input(inp: Input) -> tuple[str, Json | None]:
    """The trace action of an input and its ``in`` payload (None if empty).

    ``Receive`` is encoded by the tracer (it refers to the send event)."""
    if isinstance(inp, Tick):
        return "tick", None
    if isinstance(inp, Propose):
        return "propose", {"data": inp.data}
    if isinstance(inp, ProposeConfChange):
        return "propose_conf", {"change": inp.change.to_json()}
    if isinstance(inp, TransferLeader):
        return "transfer", {"target": inp.target}
    if isinstance(inp, ReadIndex):
        return "read", {"ctx": inp.ctx}
    if isinstance(inp, Persisted):
        return "persisted", {"id": inp.id}
    if isinstance(inp, Applied):
        return "applied", {"index": inp.index}
    if isinstance(inp, Compact):
        return "compact", {"index": inp.index, "data": inp.data}
    if isinstance(inp, Campaign):
        return "campaign", None
    raise CodecError(f"cannot encode input {inp!r}")


def decode_input(action: str, payload: Json | None, message: Message | None = None) -> Input:
    obj: Json = payload or {}
    if action == "tick":
        return Tick()
    if action == "recv":
        if message is None:
            raise CodecError("recv without its message")
        return Receive(message)
    if action == "propose":
        return Propose(_str(obj, "data"))
    if action == "propose_conf":
        try:
            return ProposeConfChange(ConfChange.from_json(_obj(obj.get("change"), "change")))
        except ConfChangeError as err:
            raise CodecError(str(err)) from None
    if action == "transfer":
        return TransferLeader(_int(obj, "target"))
    if action == "read":
        return ReadIndex(_int(obj, "ctx"))
    if action == "persisted":
        return Persisted(_int(obj, "id"))
    if action == "applied":
        return Applied(_int(obj, "index"))
    if action == "compact":
        return Compact(_int(obj, "index"), _str(obj, "data"))
    if action == "campaign":
        return Campaign()
    raise CodecError(f"not a core input action: {action!r}")


# -- field helpers -----------------------------------------------------------


def _obj(raw: Any, what: str) -> Json:
    if not isinstance(raw, dict):
        raise CodecError(f"{what} must be an object, got {type(raw).__name__}")
    return raw


def _int(obj: Json, key: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise CodecError(f"field {key!r} must be an integer, got {value!r}")
    return value


def _bool(obj: Json, key: str) -> bool:
    value = obj.get(key, False)
    if not isinstance(value, bool):
        raise CodecError(f"field {key!r} must be true or false, got {value!r}")
    return value


def _str(obj: Json, key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise CodecError(f"field {key!r} must be a string, got {value!r}")
    return value
