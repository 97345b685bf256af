"""The models' step functions and their plain-word explanations."""

from __future__ import annotations

from checkers.linearizability import KVModel, Operation, RegisterModel, get_model


def _op(f: str, arg: object = None, result: object = None, status: str = "ok") -> Operation:
    return Operation(
        id=0,
        client=0,
        f=f,
        key="x",
        arg=arg,
        result=result,
        status=status,  # type: ignore[arg-type]
        call=0,
        ret=1,
        call_line=1,
        ret_line=2,
    )


def test_kv_semantics() -> None:
    m = KVModel()
    assert m.init() is None
    assert m.step(None, _op("put", "1")) == (True, "1")
    assert m.step("1", _op("get", result="1")) == (True, "1")
    assert m.step("1", _op("get", result="2"))[0] is False
    assert m.step("1", _op("delete")) == (True, None)
    assert m.step(None, _op("get", result=None)) == (True, None)
    assert m.step("1", _op("cas", ("1", "2"))) == (True, "2")
    assert m.step("3", _op("cas", ("1", "2")))[0] is False
    assert m.step(None, _op("append", "ab")) == (True, "ab")
    assert m.step("ab", _op("append", "c")) == (True, "abc")
    assert m.step(4, _op("append", "c"))[0] is False


def test_explanations_are_plain_words() -> None:
    m = KVModel()
    assert m.why_illegal("4", _op("get", result="3")) == "get returned '3' but the value is '4'"
    assert m.why_illegal(None, _op("get", result="3")) == "get returned '3' but the value is absent"
    assert (
        m.why_illegal("2", _op("cas", ("1", "5")))
        == "cas succeeded expecting '1' but the value is '2'"
    )
    assert "needs the value" in m.why_illegal("2", _op("cas", ("1", "5"), status="info"))
    assert "non-string" in m.why_illegal(4, _op("append", "c"))
    assert m.describe_op(_op("put", "1")) == "put(x, '1')"
    assert m.describe_op(_op("cas", ("1", None))) == "cas(x, '1' -> absent)"


def test_register_is_one_partition_and_reads_alias() -> None:
    m = get_model("register")
    assert isinstance(m, RegisterModel)
    ops = [_op("write", 1), _op("read", result=1)]
    assert len(m.partition(ops)) == 1
    assert m.step(None, _op("write", 3)) == (True, 3)
    assert m.step(3, _op("read", result=3)) == (True, 3)
    assert m.why_illegal(4, _op("read", result=3)) == "read returned 3 but the value is 4"


def test_kv_partitions_by_key_in_sorted_order() -> None:
    m = get_model("kv")
    a = Operation(0, 0, "put", "b", "1", None, "ok", 0, 1, 1, 2)
    b = Operation(1, 0, "put", "a", "1", None, "ok", 2, 3, 3, 4)
    assert [k for k, _ in m.partition([a, b])] == ["a", "b"]


def test_unknown_model_is_an_error() -> None:
    import pytest

    with pytest.raises(ValueError, match="unknown model"):
        get_model("queue")
