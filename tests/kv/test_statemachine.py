"""The KV state machine: operations, at-most-once sessions, snapshots."""

from __future__ import annotations

import pytest

from kv import Command, CommandError, KVStateMachine, decode_command, encode_command


def apply(
    sm: KVStateMachine,
    index: int,
    op: str,
    key: str,
    value: object = None,
    client: int = 0,
    seq: int = 0,
):
    return sm.apply(index, encode_command(Command(op, key, value, client, seq)))


def test_operations() -> None:
    sm = KVStateMachine()
    assert apply(sm, 1, "put", "x", "1").value == "1"
    assert apply(sm, 2, "append", "x", "2").value == "12"
    assert apply(sm, 3, "cas", "x", ["nope", "3"]).ok is False
    assert sm.read("x") == "12"
    assert apply(sm, 4, "cas", "x", ["12", "3"]).ok is True
    assert apply(sm, 5, "delete", "x").value == "3"
    assert sm.read("x") is None
    assert apply(sm, 6, "cas", "x", [None, "new"]).ok is True
    assert sm.read("x") == "new"
    assert sm.applied == 6


def test_a_retried_request_is_applied_at_most_once() -> None:
    sm = KVStateMachine()
    first = apply(sm, 1, "append", "log", "a", client=7, seq=1)
    again = apply(sm, 2, "append", "log", "a", client=7, seq=1)
    assert first == again
    assert sm.read("log") == "a"
    assert apply(sm, 3, "append", "log", "b", client=7, seq=2).value == "ab"
    assert apply(sm, 4, "append", "log", "z", client=7, seq=1) is None  # older than the last


def test_snapshot_round_trip_keeps_data_and_sessions() -> None:
    sm = KVStateMachine()
    apply(sm, 1, "put", "a", "1", client=1, seq=1)
    apply(sm, 2, "put", "b", "2", client=2, seq=5)
    copy = KVStateMachine()
    copy.restore(sm.snapshot(), 2)
    assert copy.data == sm.data and copy.sessions == sm.sessions and copy.applied == 2
    assert apply(copy, 3, "put", "a", "other", client=1, seq=1).value == "1"  # still deduplicated


def test_entries_that_are_not_commands_change_nothing() -> None:
    sm = KVStateMachine()
    assert sm.apply(1, "") is None
    assert sm.apply(2, "{not json") is None
    assert sm.data == {} and sm.applied == 2


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[]", "JSON object"),
        ('{"op": "explode", "key": "x"}', "unknown op"),
        ('{"op": "put", "key": 1, "value": "v"}', "key must be a string"),
        ('{"op": "put", "key": "x"}', "needs a string value"),
        ('{"op": "cas", "key": "x", "value": "v"}', "cas needs"),
        ("nope", "not JSON"),
    ],
)
def test_bad_commands_are_named(text: str, problem: str) -> None:
    with pytest.raises(CommandError, match=problem):
        decode_command(text)
