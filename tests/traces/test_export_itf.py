"""ITF: the value codec against hand-written JSON, the reader's errors, the
export of simulated traces (faults, crashes, membership changes) checked
against the trace's own events, the round trip export -> read_itf, and the
ADR-015 JSON schema (tests/traces/fixtures), also on a trace Quint wrote."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.quint import quint, run_quint
from tests.traces.simulated import simulate, write_trace
from traces.export import export_trace
from traces.export.itf import VARIABLES, itf_state
from traces.export.steps import spec_steps
from traces.itf import (
    FnMap,
    ItfError,
    Record,
    Tup,
    Unserializable,
    decode,
    decode_trace,
    encode,
    read_itf,
)
from traces.schema import INPUT_ACTIONS

SCHEMA_PATH = Path(__file__).parent / "fixtures" / "itf-adr015.schema.json"

#: (profile, seed, seconds, membership): faults of every kind with both
#: membership actors (the joint plan adds a node, goes through joint
#: configurations and transfers leadership).
RUNS = [("default", 1, 1.2, "joint"), ("chaos", 5, 1.5, "joint"), ("crashes", 3, 1.5, "random")]


@cache
def schema_validator() -> jsonschema.Draft202012Validator:
    schema = orjson.loads(SCHEMA_PATH.read_bytes())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def exported(tmp_path: Path, run: tuple[str, int, float, str]) -> tuple[list[Any], Path]:
    header, events = simulate(*run)
    trace = write_trace(tmp_path / "trace.jsonl", header, events)
    out = tmp_path / "trace.itf.json"
    out.write_bytes(export_trace(trace, "itf", out).data)
    return events, out


# -- the codec ----------------------------------------------------------------


def test_encode_writes_each_kind_of_value_as_the_adr_says() -> None:
    assert encode(True) is True
    assert encode("leader") == "leader"
    assert encode(7) == {"#bigint": "7"}
    assert encode(-3) == {"#bigint": "-3"}
    assert encode(2**64 + 1) == {"#bigint": "18446744073709551617"}
    assert encode((1, "a")) == [{"#bigint": "1"}, "a"]
    assert encode(Tup((1, "a"))) == {"#tup": [{"#bigint": "1"}, "a"]}
    assert encode(frozenset({3, 1, 2})) == {"#set": [{"#bigint": str(n)} for n in (1, 2, 3)]}
    assert encode(FnMap({2: "b", 1: "a"})) == {
        "#map": [[{"#bigint": "1"}, "a"], [{"#bigint": "2"}, "b"]]
    }
    assert encode(Record(term=1, up=False)) == {"term": {"#bigint": "1"}, "up": False}
    assert encode({1: True}) == {"#map": [[{"#bigint": "1"}, True]]}, "non-string keys: a map"
    assert encode(Unserializable("Nat")) == {"#unserializable": "Nat"}


def test_encode_refuses_what_itf_cannot_hold() -> None:
    with pytest.raises(TypeError, match="no ITF encoding for a float"):
        encode(1.5)
    with pytest.raises(ValueError, match="may not start with '#'"):
        encode({"#set": 1})


def test_decode_reads_each_kind_of_value() -> None:
    doc = {
        "b": False,
        "s": "x",
        "i": {"#bigint": "-12345678901234567890"},
        "n": 5,  # a plain number: ADR-015 before its 2023-09-14 revision
        "seq": [{"#bigint": "1"}, {"#bigint": "2"}],
        "tup": {"#tup": ["a", True]},
        "set": {"#set": [{"#set": []}, {"#tup": [{"#bigint": "1"}]}]},  # as encode sorts
        "map": {"#map": [[{"a": {"#bigint": "1"}}, "rec-key"]]},
        "u": {"#unserializable": "Int"},
    }
    value = decode(doc)
    assert isinstance(value, Record)
    assert value["b"] is False and value["s"] == "x"
    assert value["i"] == -12345678901234567890 and value["n"] == 5
    assert value["seq"] == (1, 2) and type(value["seq"]) is tuple
    assert value["tup"] == ("a", True) and type(value["tup"]) is Tup
    assert value["set"] == frozenset({Tup((1,)), frozenset()})
    assert value["map"] == {Record(a=1): "rec-key"} and type(value["map"]) is FnMap
    assert value["u"] == Unserializable("Int")
    assert encode(value) == {**doc, "n": {"#bigint": "5"}}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"#bigint": "12a"}, "at $: #bigint must be a string of decimal digits"),
        ({"#bigint": 12}, "at $: #bigint must be a string"),
        ({"#set": {}}, "at $: #set must hold an array"),
        ({"#map": [[1]]}, "at $.#map[0]: a #map entry must be a [key, value] pair"),
        ({"#map": [[1, 2], [1, 3]]}, "at $.#map[1][0]: key 1 appears twice"),
        ({"#set": [1], "x": 2}, "a #set object must have no other field"),
        ({"f": [1.5]}, "at $.f[0]: a number that is not an integer"),
        ({"f": None}, "at $.f: null is not an ITF value"),
    ],
)
def test_decode_names_the_bad_value(raw: Any, message: str) -> None:
    with pytest.raises(ItfError) as error:
        decode(raw, "t.itf.json")
    assert str(error.value).startswith("t.itf.json: ") and message in str(error.value)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "at $: an ITF trace must be a JSON object"),
        ({"states": []}, "at $.vars: vars must be an array of strings"),
        ({"vars": ["x"], "states": {}}, "at $.states: states must be an array"),
        ({"vars": ["x"], "states": [{"y": 1}]}, "at $.states[0]: no value for variable(s) x"),
        ({"vars": ["x"], "states": [{"x": True}], "loop": 1}, "loop 1 is beyond"),
        ({"vars": ["x"], "states": [], "#meta": []}, "#meta must be an object"),
    ],
)
def test_decode_trace_names_what_is_wrong(doc: Any, message: str) -> None:
    with pytest.raises(ItfError) as error:
        decode_trace(doc, "t.itf.json")
    assert str(error.value).startswith("t.itf.json: ") and message in str(error.value)


def test_read_itf_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.itf.json"
    bad.write_text('{"vars": [')
    with pytest.raises(ItfError, match=f"{bad}: malformed JSON"):
        read_itf(bad)
    with pytest.raises(ItfError, match="cannot read"):
        read_itf(tmp_path / "missing.json")


def _values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.booleans(), st.integers(), st.text(max_size=4))
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(tuple),
            st.lists(inner, max_size=3).map(lambda items: Tup(items)),
            st.frozensets(inner, max_size=3),
            st.dictionaries(inner, inner, max_size=3).map(FnMap),
            st.dictionaries(st.from_regex(r"[a-z]\w{0,3}", fullmatch=True), inner, max_size=3).map(
                Record
            ),
        ),
        max_leaves=12,
    )


@settings(max_examples=200, deadline=None)
@given(_values())
def test_decode_inverts_encode_for_any_value(value: Any) -> None:
    encoded = encode(value)
    again = decode(orjson.loads(orjson.dumps(encoded)))
    assert again == value
    assert encode(again) == encoded, "deterministic: sets and maps are written sorted"
    assert schema_validator().is_valid({"vars": ["v"], "states": [{"v": encoded}]})


# -- the export -------------------------------------------------------------


@pytest.mark.parametrize("run", RUNS, ids=lambda r: f"{r[0]}-{r[3]}")
def test_export_round_trips_through_read_itf(tmp_path: Path, run: Any) -> None:
    events, out = exported(tmp_path, run)
    trace = read_itf(out)
    expected = [itf_state(step) for step in spec_steps(events)]
    assert trace.vars == tuple(VARIABLES)
    assert list(trace.states) == expected
    assert [meta["index"] for meta in trace.state_meta] == list(range(len(expected)))
    assert trace.meta["format"] == "ITF" and trace.meta["raftlab"]["seed"] == run[1]
    doc = orjson.loads(out.read_bytes())
    assert [encode(dict(state)) for state in trace.states] == [
        {k: v for k, v in s.items() if k != "#meta"} for s in doc["states"]
    ]


@pytest.mark.parametrize("run", RUNS, ids=lambda r: f"{r[0]}-{r[3]}")
def test_export_states_agree_with_the_events(tmp_path: Path, run: Any) -> None:
    """Each state follows one node step (or crash), in order, and shows what
    the trace's own events say: the term each node event carries, the role
    its become_* effects name, a crashed node not running until it restarts."""
    events, out = exported(tmp_path, run)
    states = read_itf(out).states
    steps = [
        e
        for e in events
        if (e["act"] in INPUT_ACTIONS and e["n"].startswith("n"))
        or (e["act"] == "crash" and e["n"] == "env")
    ]
    assert [s["step"]["seq"] for s in states] == [e["seq"] for e in steps]
    by_seq = {s["step"]["seq"]: s for s in states}
    crashes = restarts = 0
    applied_conf: dict[int, dict[str, Any]] = {}
    for event in events:
        is_input = event["act"] in INPUT_ACTIONS
        state = by_seq.get(event["seq"] if is_input else event.get("cause", 0))
        if event["n"] == "env" and event["act"] == "crash":
            crashes += 1
            assert event["node"] not in by_seq[event["seq"]]["running"]
            continue
        if state is None or not event["n"].startswith("n"):
            continue
        node = int(event["n"][1:])
        assert state["currentTerm"][node] == event["term"], event
        if event["act"] == "restart":
            restarts += 1
            assert node in state["running"]
        if event["act"] == "become_leader":
            assert state["role"][node] == "leader"
        if event["act"] == "conf_apply":
            applied_conf[event["cause"]] = event["conf"]  # the last of its step wins
    for seq, conf in applied_conf.items():
        step = by_seq[seq]
        config = step["config"][step["step"]["node"]]
        assert config["voters"] == frozenset(conf.get("voters", ()))
        assert config["outgoing"] == frozenset(conf.get("outgoing", ()))
    assert bool(applied_conf) == (run[3] == "joint"), "the joint plan changes the membership"
    if run[0] in ("crashes", "chaos"):
        assert crashes and restarts, "the profile crashes and restarts nodes"


def test_export_of_the_joint_plan_shows_joint_configurations(tmp_path: Path) -> None:
    _, out = exported(tmp_path, RUNS[0])
    configs = [c for state in read_itf(out).states for c in state["config"].values()]
    assert any(c["outgoing"] for c in configs), "a joint configuration is visible"
    assert any(6 in c["voters"] for c in configs), "node 6 joined as a voter"
    assert any(c["learners"] for c in configs)


def test_export_validates_against_the_adr_schema(tmp_path: Path) -> None:
    _, out = exported(tmp_path, ("chaos", 5, 1.0, "random"))
    doc = orjson.loads(out.read_bytes())
    errors = list(schema_validator().iter_errors(doc))
    assert errors == []
    assert len(doc["states"]) > 50


@pytest.mark.parametrize(
    "bad",
    [
        {"vars": ["x"], "states": [{"x": 1}]},  # a JSON number: not since 2023-09-14
        {"vars": ["x"], "states": [{"x": {"#bigint": "1.0"}}]},
        {"vars": ["x"], "states": [{"x": {"#set": [1], "#tup": []}}]},
        {"vars": ["x"], "states": [{"x": {"#map": [["a"]]}}]},
        {"vars": ["x"], "states": [{"x": None}]},
        {"states": []},
        {"vars": ["x"], "states": [], "extra": 1},
    ],
)
def test_the_schema_rejects_what_the_adr_does_not_allow(bad: Any) -> None:
    assert not schema_validator().is_valid(bad)


# -- Quint ------------------------------------------------------------------

COUNTER = """module counter {
  var x: int
  var seen: Set[int]
  var log: List[int]
  var pair: (int, str)
  var last: int -> bool
  var r: { n: int, big: int }
  action init = all { x' = 0, seen' = Set(), log' = [], pair' = (0, "a"),
                      last' = Map(), r' = { n: 0, big: 0 } }
  action step = all {
    x' = x + 1, seen' = seen.union(Set(x)), log' = log.append(x), pair' = (x, "b"),
    last' = last.put(x, x % 2 == 0), r' = { n: x, big: 9007199254740993 * (x + 1) }
  }
}
"""


@pytest.mark.skipif(quint() is None, reason="quint is not installed (make quint)")
def test_read_itf_reads_what_quint_writes(tmp_path: Path) -> None:
    spec = tmp_path / "counter.qnt"
    spec.write_text(COUNTER)
    out = tmp_path / "counter.itf.json"
    run_quint(spec, out, 4)
    assert schema_validator().is_valid(orjson.loads(out.read_bytes()))
    trace = read_itf(out)
    assert {"x", "seen", "log", "pair", "last", "r"} <= set(trace.vars)
    assert len(trace.states) == 5
    for k, state in enumerate(trace.states):
        assert state["x"] == k
        assert state["seen"] == frozenset(range(k))
        assert state["log"] == tuple(range(k))
        assert type(state["pair"]) is Tup and state["pair"][1] == ("a" if k == 0 else "b")
        assert state["last"] == FnMap({n: n % 2 == 0 for n in range(k)})
        assert state["r"] == Record(n=max(k - 1, 0), big=9007199254740993 * k if k else 0)
