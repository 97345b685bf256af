"""The KV state machine: operations, at-most-once sessions, snapshots."""

from __future__ import annotations

import orjson
import pytest

from kv import (
    SNAPSHOT_VERSION,
    Command,
    CommandError,
    KVStateMachine,
    Result,
    SessionCheck,
    SnapshotError,
    decode_command,
    encode_command,
)


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


def test_sessions_repeat_stale_and_gap() -> None:
    sm = KVStateMachine()
    first = apply(sm, 1, "put", "k", "a", client=3, seq=5)
    assert sm.check_session(3, 5) is SessionCheck.REPEAT
    assert sm.check_session(3, 4) is SessionCheck.STALE
    assert sm.check_session(3, 9) is SessionCheck.NEW
    assert sm.check_session(4, 1) is SessionCheck.NEW
    assert apply(sm, 2, "put", "k", "b", client=3, seq=5) == first  # repeat: cached, not re-run
    assert apply(sm, 3, "put", "k", "c", client=3, seq=4) is None  # stale: skipped
    assert sm.read("k") == "a"
    assert apply(sm, 4, "put", "k", "d", client=3, seq=9).value == "d"  # a gap is fine
    assert sm.sessions[3][0] == 9


def test_commands_without_a_client_run_every_time() -> None:
    sm = KVStateMachine()
    apply(sm, 1, "append", "k", "a")
    apply(sm, 2, "append", "k", "a")
    assert sm.read("k") == "aa" and sm.sessions == {}


def test_range_and_prefix_listings_are_in_key_order() -> None:
    sm = KVStateMachine()
    for i, key in enumerate(["b/2", "a", "b/1", "c", "b/10", "b"], start=1):
        apply(sm, i, "put", key, key.upper())
    apply(sm, 7, "delete", "c")
    assert [k for k, _ in sm.range()] == ["a", "b", "b/1", "b/10", "b/2"]
    assert sm.range("b/", "b/2") == [("b/1", "B/1"), ("b/10", "B/10")]
    assert sm.range("b", limit=2) == [("b", "B"), ("b/1", "B/1")]
    assert sm.range("z") == [] and sm.range("b", "a") == []
    assert [k for k, _ in sm.prefix("b/")] == ["b/1", "b/10", "b/2"]
    assert sm.prefix("b/", limit=1) == [("b/1", "B/1")]
    assert sm.prefix("q") == []


def test_cas_to_none_deletes_and_leaves_the_listing() -> None:
    sm = KVStateMachine()
    apply(sm, 1, "put", "x", "1")
    assert apply(sm, 2, "cas", "x", ["1", None]).ok
    assert sm.read("x") is None and sm.range() == []


def test_snapshot_bytes_are_versioned_and_sorted() -> None:
    sm = KVStateMachine()
    apply(sm, 1, "put", "b", "1", client=10, seq=1)
    apply(sm, 2, "put", "a", "2", client=9, seq=1)
    body = orjson.loads(sm.snapshot_bytes())
    assert body["v"] == SNAPSHOT_VERSION
    assert list(body["data"]) == ["a", "b"]
    assert sm.snapshot() == sm.snapshot_bytes().decode()


def test_a_snapshot_without_a_version_is_the_first_layout() -> None:
    sm = KVStateMachine()
    sm.restore('{"applied": 3, "data": {"k": "v"}, "sessions": {"7": [2, true, "v"]}}', 3)
    assert sm.data == {"k": "v"} and sm.sessions == {7: (2, Result(True, "v"))}
    assert sm.range() == [("k", "v")]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{nope", "not JSON"),
        ("[]", "JSON object"),
        ('{"v": 3, "data": {}, "sessions": {}}', "version 3"),
        ('{"data": {"k": 1}, "sessions": {}}', "'data'"),
        ('{"data": {}}', "'sessions'"),
        ('{"data": {}, "sessions": {"x": [1, true, null]}}', "session 'x'"),
        ('{"data": {}, "sessions": {"1": [1, 2, null]}}', "wrong field types"),
    ],
)
def test_bad_snapshots_are_named(text: str, problem: str) -> None:
    sm = KVStateMachine()
    apply(sm, 1, "put", "k", "v")
    with pytest.raises(SnapshotError, match=problem):
        sm.restore(text, 5)
    assert sm.data == {} and sm.applied == 5


def test_the_session_table_drops_the_least_recently_used_session_when_full() -> None:
    sm = KVStateMachine(max_sessions=3)
    for index, client in enumerate((1, 2, 3), start=1):
        apply(sm, index, "put", "k", f"v{client}", client=client, seq=1)
    apply(sm, 4, "put", "k", "again", client=1, seq=2)  # 1 is now the most recent
    apply(sm, 5, "put", "k", "new", client=4, seq=1)  # the table is full: 2 goes
    assert sorted(sm.sessions) == [1, 3, 4]
    # client 2 is unknown again: its old request number is executed anew
    assert apply(sm, 6, "put", "k", "v2", client=2, seq=1) == Result(True, "v2")
    assert sorted(sm.sessions) == [1, 2, 4]


def test_a_replica_restored_from_a_snapshot_drops_the_same_sessions_later() -> None:
    steps = [(c, s) for s in (1, 2) for c in (5, 3, 8, 1)] + [(9, 1), (3, 3), (7, 1), (2, 1)]
    applied = KVStateMachine(max_sessions=4)
    restored = KVStateMachine(max_sessions=4)
    for index, (client, seq) in enumerate(steps, start=1):
        apply(applied, index, "put", f"k{client}", f"{client}.{seq}", client=client, seq=seq)
        if index == 6:
            restored.restore(applied.snapshot(), index)
        elif index > 6:
            apply(restored, index, "put", f"k{client}", f"{client}.{seq}", client=client, seq=seq)
    assert list(restored.sessions) == list(applied.sessions)  # same order, same survivors
    assert restored.snapshot_bytes() == applied.snapshot_bytes()


def test_version_1_snapshots_are_still_read() -> None:
    sm = KVStateMachine()
    sm.restore('{"data": {"k": "v"}, "sessions": {"4": [2, true, "v"]}}', 7)
    assert sm.sessions == {4: (2, Result(True, "v"))} and sm.last_used == {4: 0}
