"""Reading the three formats, and the errors that name the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkers.linearizability import (
    HistoryError,
    check,
    history_from_records,
    load_history,
    parse_text,
)

GOOD = """\
{"history": 1, "seed": 7}
{"client": 0, "type": "invoke", "f": "put", "key": "x", "value": "1", "time": 10}
{"client": 1, "type": "invoke", "f": "get", "key": "x", "value": null, "time": 11}
{"client": 0, "type": "ok", "f": "put", "key": "x", "value": "1", "time": 12}
{"client": 1, "type": "ok", "f": "get", "key": "x", "value": "1", "time": 13}
{"client": 0, "type": "invoke", "f": "cas", "key": "x", "value": ["1", "2"], "time": 14}
{"client": 0, "type": "info", "f": "cas", "key": "x", "value": ["1", "2"], "time": 15}
"""


def test_jsonl_pairs_operations_and_skips_header() -> None:
    h = parse_text(GOOD, source="h.jsonl")
    assert h.format == "jsonl"
    assert [(o.f, o.status, o.call, o.ret) for o in h.ops] == [
        ("put", "ok", 10, 12),
        ("get", "ok", 11, 13),
        ("cas", "info", 14, None),
    ]
    assert h.ops[1].result == "1"
    assert h.ops[2].arg == ("1", "2")
    assert (h.ops[0].call_line, h.ops[0].ret_line) == (2, 4)


def test_records_need_not_be_plain_dicts_of_plain_types() -> None:
    # The JSONL reader's quick ``type(x) is`` tests pass anything unusual to
    # the general checks, which accept what is well formed.
    from enum import IntEnum
    from types import MappingProxyType

    class Client(IntEnum):
        ONE = 1

    plain = [
        {"client": 1, "type": "invoke", "f": "put", "key": "x", "value": "1", "time": 3},
        {"client": 1, "type": "ok", "f": "put", "key": "x", "value": "1", "time": 4},
    ]
    odd = [
        MappingProxyType({**plain[0], "client": Client.ONE}),
        {**plain[1], "client": Client.ONE, "time": Client.ONE + 3},
    ]
    assert history_from_records(odd).ops == history_from_records(plain).ops


def test_time_is_optional_and_defaults_to_line_order() -> None:
    text = (
        '{"client": 0, "type": "invoke", "f": "put", "key": "x", "value": "1"}\n'
        '{"client": 0, "type": "ok", "f": "put", "key": "x", "value": "1"}\n'
    )
    h = parse_text(text)
    assert (h.ops[0].call, h.ops[0].ret) == (1, 2)


def test_open_invocation_at_end_counts_as_unknown() -> None:
    h = parse_text('{"client": 0, "type": "invoke", "f": "put", "key": "x", "value": "1"}\n')
    assert h.ops[0].status == "info" and h.ops[0].ret is None


BAD = [
    ("{not json\n", 1, "invalid JSON"),
    ("[1, 2]\n", 1, "expected a JSON object"),
    (
        '{"client": 0, "type": "invoke", "f": "put", "key": "x", "value": "1", "seq": 3}\n',
        1,
        "unexpected key 'seq'",
    ),
    ('{"seq": 1, "act": "elect"}\n', 1, "unexpected key"),
    ('{"type": "invoke", "f": "put", "key": "x", "value": "1"}\n', 1, "missing 'client'"),
    ('{"client": 0, "type": "begin", "f": "put", "key": "x", "value": "1"}\n', 1, "'type'"),
    ('{"client": 0, "type": "invoke", "f": "frob", "key": "x"}\n', 1, "unknown operation 'frob'"),
    (
        '{"client": 0, "type": "invoke", "f": "cas", "key": "x", "value": "1"}\n',
        1,
        "cas needs the value [expected, new]",
    ),
    (
        '{"client": 0, "type": "invoke", "f": "put", "key": "x", "value": null}\n',
        1,
        "put needs a value",
    ),
    (
        '{"client": 0, "type": "invoke", "f": "append", "key": "x", "value": 3}\n',
        1,
        "append needs a string",
    ),
    (
        '{"client": 0, "type": "ok", "f": "put", "key": "x", "value": "1"}\n',
        1,
        "without an open invocation",
    ),
    (
        '{"client": 0, "type": "invoke", "f": "put", "key": "x", "value": "1"}\n'
        '{"client": 0, "type": "invoke", "f": "get", "key": "x", "value": null}\n',
        2,
        "has not completed",
    ),
    (
        '{"client": 0, "type": "invoke", "f": "put", "key": "x", "value": "1"}\n'
        '{"client": 0, "type": "ok", "f": "get", "key": "x", "value": "1"}\n',
        2,
        "but invoked put",
    ),
    (
        '{"client": 0, "type": "invoke", "f": "put", "key": "x", "value": "1", "time": 5}\n'
        '{"client": 0, "type": "ok", "f": "put", "key": "x", "value": "1", "time": 4}\n',
        2,
        "time goes backwards",
    ),
    (
        '{"client": 0, "type": "invoke", "f": "put", "key": "x", "value": "1", "time": 5}\n'
        '{"client": 0, "type": "ok", "f": "put", "key": "x", "value": "1"}\n',
        2,
        "'time' must be on every line",
    ),
    (
        '{"client": 0, "type": "invoke", "f": "put", "key": "x", "value": "1", "time": "5"}\n',
        1,
        "'time' must be an integer",
    ),
    (
        '{"client": true, "type": "invoke", "f": "put", "key": "x", "value": "1"}\n',
        1,
        "'client' must be",
    ),
    (
        '{"client": 0, "type": "invoke", "f": "put", "key": ["x"], "value": "1"}\n',
        1,
        "'key' must be a string",
    ),
    # Cases the quick type tests of the JSONL reader pass on to the general checks:
    (
        '{"client": 0, "type": "invoke", "f": "put", "key": "x", "value": "1", "time": null}\n',
        1,
        "'time' must be an integer",
    ),
    (
        '{"client": 0, "type": "invoke", "f": "put", "key": "x", "value": "1", "time": 1}\n'
        '{"client": 0, "type": "ok", "f": "put", "key": "x", "value": "1", "time": true}\n',
        2,
        "'time' must be an integer",
    ),
    ('{"client": 0, "type": ["ok"], "f": "put", "key": "x", "value": "1"}\n', 1, "'type'"),
    ('{"client": 0, "type": "invoke", "f": 3, "key": "x", "value": "1"}\n', 1, "'f' must be"),
    ('{"client": 0.5, "type": "invoke", "f": "put", "key": "x", "value": "1"}\n', 1, "'client'"),
    ('{"client": 0, "type": "invoke", "f": "put", "key": false, "value": "1"}\n', 1, "'key'"),
    (
        '{"client": 0, "type": "invoke", "f": "put", "key": "x", "value": "1"}\n'
        '{"client": 0, "type": "ok", "f": "put", "key": "x", "value": "1", "time": 3}\n',
        2,
        "'time' must be on every line or on none",
    ),
]


@pytest.mark.parametrize(("text", "line", "words"), BAD, ids=[b[2] for b in BAD])
def test_jsonl_errors_name_the_line(text: str, line: int, words: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    with pytest.raises(HistoryError) as info:
        load_history(path)
    assert info.value.line == line
    assert words in str(info.value)
    assert str(info.value).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("empty.jsonl", ""),
        ("blank.jsonl", "\n\n"),
        ("header.jsonl", '{"history": 1, "seed": 3}\n'),
        ("empty.log", ""),
        ("other-loggers.log", "INFO  jepsen.core - starting\nINFO  jepsen.db - setup\n"),
        ("empty.edn", "\n"),
    ],
)
def test_empty_history_is_linearizable(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    h = load_history(path)
    assert len(h) == 0
    result = check(h)
    assert result.verdict == "linearizable"
    assert "0 operations" in result.explain()


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="cannot read"):
        load_history(tmp_path / "nope.jsonl")
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b'{"a": 1}\n\xff\xfe\n')
    with pytest.raises(HistoryError, match="UTF-8") as info:
        load_history(binary)
    assert info.value.line == 2


def test_history_from_records_counts_records_as_lines() -> None:
    recs = [
        {"client": 0, "type": "invoke", "f": "put", "key": "x", "value": "1"},
        {"client": 0, "type": "ok", "f": "put", "key": "x", "value": "1", "bogus": 1},
    ]
    with pytest.raises(HistoryError) as info:
        history_from_records(recs)
    assert info.value.line == 2


EDN = """\
{:process 0, :type :invoke, :f :put, :key "x", :value "a"}
{:process 1, :type :invoke, :f :get, :key "x", :value nil}
{:process :nemesis, :type :info, :f :start, :value nil}
{:process 0, :type :ok, :f :put, :key "x", :value "a"}
{:process 1, :type :ok, :f :get, :key "x", :value ""}
"""


def test_edn_maps() -> None:
    h = parse_text(EDN, source="h.edn")
    assert h.format == "edn"
    assert h.initial == ""  # Jepsen/Porcupine key-value histories read unset keys as ""
    assert [(o.client, o.f, o.key) for o in h.ops] == [(0, "put", "x"), (1, "get", "x")]
    assert h.ops[1].result == ""


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            '{:process 0, :type :invoke, :f :put, :key "x", :value "a"}\n{:process 0 :type}\n',
            2,
            "odd number",
        ),
        ('{:process 0, :type :invoke, :f :put, :key "x", :value "a\n', 1, "unterminated"),
        ("[1 2 3]\n", 1, "expected an EDN map"),
        ("{:type :invoke, :f :put}\n", 1, ":process"),
        ("{:process 0, :type :call, :f :put}\n", 1, ":type"),
        ("{:process 0, :type :invoke}\n", 1, ":f"),
    ],
)
def test_edn_errors_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(HistoryError) as info:
        parse_text(text, fmt="edn")
    assert info.value.line == line
    assert words in str(info.value)


LOG = (
    "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
    "INFO  jepsen.core - some other logger line\n"
    "INFO  jepsen.util - 1\t:invoke\t:cas\t[3 0]\n"
    "INFO  jepsen.util - 0\t:ok\t:read\tnil\n"
    "INFO  jepsen.util - 1\t:info\t:cas\t:timed-out\n"
)


def test_jepsen_log_lines() -> None:
    h = parse_text(LOG, source="etcd.log")
    assert h.format == "jepsen-log"
    assert [(o.f, o.status, o.arg, o.result) for o in h.ops] == [
        ("read", "ok", None, None),
        ("cas", "info", (3, 0), None),
    ]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0 ok read nil\n",
            2,
            "malformed jepsen.util line",
        ),
        ("INFO  jepsen.util - 0\t:invoke\t:cas\t[3 0\n", 1, "malformed value"),
        ("hello world\n", 1, "not a Jepsen log line"),
        ("INFO  jepsen.util - x\t:invoke\t:read\tnil\n", 1, "not a number"),
    ],
)
def test_jepsen_log_errors_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(HistoryError) as info:
        parse_text(text, fmt="jepsen-log")
    assert info.value.line == line
    assert words in str(info.value)


def test_unknown_format_is_an_error() -> None:
    with pytest.raises(HistoryError, match="unknown format"):
        parse_text(GOOD, fmt="xml")


def _spaced(log: str, sep: str) -> str:
    return log.replace("\t", sep)


@pytest.mark.parametrize("sep", [" ", "  ", "    ", " \t", "\t ", "\t\t"], ids=repr)
def test_jepsen_log_fields_separated_by_any_whitespace(sep: str) -> None:
    tabs = parse_text(LOG, fmt="jepsen-log", source="t.log")
    other = parse_text(_spaced(LOG, sep), fmt="jepsen-log", source="t.log")
    assert other.ops == tabs.ops


def test_jepsen_log_mixed_whitespace_per_line() -> None:
    lines = LOG.splitlines(keepends=True)
    seps = ["  ", "\t", " \t ", "   "]
    mixed = "".join(_spaced(line, seps[i % len(seps)]) for i, line in enumerate(lines))
    assert parse_text(mixed, fmt="jepsen-log").ops == parse_text(LOG, fmt="jepsen-log").ops
    # Auto-detection reads a spaced log as a Jepsen log too.
    assert parse_text(_spaced(LOG, "   "), source="x.log").format == "jepsen-log"


def test_jepsen_log_newer_logger_prefix() -> None:
    prefix = "2017-03-07 15:20:02,123{GMT}\tINFO\t[jepsen worker 0] jepsen.util: "
    newer = f"{prefix}0\t:invoke\t:read\tnil\n{prefix}0\t:ok\t:read\t3\n"
    h = parse_text(newer, fmt="jepsen-log")
    assert [(o.f, o.result) for o in h.ops] == [("read", 3)]


EDN_SHAPES = [
    '{:process 0, :type :invoke, :f :cas, :key "x", :value ["a" "b"]}',
    '{:type :invoke, :process 0, :f :cas, :value ["a" "b"], :key "x"}',
    '{:process 0 :type :invoke :f :cas :key "x" :value ["a" "b"] :time 12 :index 3}',
    '{:process 0, :type :invoke, :f :cas, :key "x", :value ("a" "b"), :extra {:a [1 #{2}]}}',
    '  {:process 0, :type :invoke, :f :cas, :key "x", :value ["a" "b"]} ; comment',
]


@pytest.mark.parametrize("line", EDN_SHAPES)
def test_edn_fast_and_general_paths_agree(line: str) -> None:
    h = parse_text(line + "\n", fmt="edn")
    (o,) = h.ops
    assert (o.client, o.f, o.key, o.arg, o.status) == (0, "cas", "x", ("a", "b"), "info")


def test_edn_reader_values() -> None:
    from checkers.linearizability.parse.edn import read_edn

    assert read_edn('{:a "x\\ny" :b [1 -2 3.5 nil true :k] :c #inst "2020"}') == {
        "a": "x\ny",
        "b": [1, -2, 3.5, None, True, "k"],
        "c": "2020",
    }
    assert read_edn('"\\u0041"') == "A"
    for bad, words in [("[1 2", "missing"), ("}", "unexpected"), ("1 2", "after the value")]:
        with pytest.raises(ValueError, match=words):
            read_edn(bad)


def test_generated_history_reads_the_same_as_edn() -> None:
    from checkers.linearizability.generate import Mix, generate, mutate, records_to_edn

    recs = generate(400, 5, 3, seed=4, mix=Mix(cas=0.1, unknown=0.02))
    edn = parse_text(records_to_edn(recs), "edn")
    assert len(edn) == len(history_from_records(recs))
    assert check(edn, workers=1).verdict == "linearizable"
    bad, _ = mutate(recs, 4, "read")
    assert check(parse_text(records_to_edn(bad), "edn"), workers=1).verdict == "not-linearizable"


def _edn_variants() -> list[str]:
    """Generated EDN histories, with the lines the whole-text reader hands on."""
    from checkers.linearizability.generate import APPEND_MIX, Mix, generate, records_to_edn

    plain = records_to_edn(generate(300, 5, 3, seed=11))
    mixed = records_to_edn(generate(300, 5, 3, seed=12, mix=Mix(cas=0.2, unknown=0.05)))
    appends = records_to_edn(generate(300, 8, 2, seed=13, mix=APPEND_MIX))
    lines = plain.splitlines()
    odd = [
        "",
        "   ",
        "; a comment",
        "{:process :nemesis, :type :info, :f :start, :value nil}",
        '  {:process 4, :type :invoke, :f :put, :key "z", :value "q"}  ',
        '{:type :ok, :process 4, :f :put, :key "z", :value "q"}',
        "{:process 4 :type :invoke :f :get :key 7 :value nil}",
        '{:process 4, :type :ok, :f :get, :key 7, :value "a\\"b"} ; trailing',
        '{:process 4, :type :invoke, :f :put, :key "", :value ""}',
        '{:process 4, :type :ok, :f :put, :key "", :value "", :time 3}',
    ]
    spliced = "\n".join(lines[:40] + odd + lines[40:]) + "\n"
    return [plain, mixed, appends, spliced, spliced.replace("\n", "\r\n"), spliced.rstrip("\n")]


@pytest.mark.parametrize("text", _edn_variants())
def test_edn_whole_text_reader_agrees_with_the_per_line_reader(text: str) -> None:
    from checkers.linearizability.parse.edn import parse_edn_lines, parse_edn_text

    fast = parse_edn_text(text, "h.edn")
    slow = parse_edn_lines(text.splitlines(), "h.edn")
    assert [tuple(e) for e in fast] == [tuple(e) for e in slow]
    assert len(fast) > 100


def test_edn_whole_text_reader_names_the_same_bad_line() -> None:
    from checkers.linearizability.parse.edn import parse_edn_lines, parse_edn_text

    text = '{:process 0, :type :invoke, :f :get, :key "x", :value nil}\n\n{:process 0, :type :ok'
    for parse in (
        lambda: parse_edn_text(text, "h.edn"),
        lambda: parse_edn_lines(text.splitlines(), "h.edn"),
    ):
        with pytest.raises(HistoryError) as err:
            parse()
        assert err.value.line == 3


def test_edn_line_breaks_other_than_newline_number_lines_as_splitlines() -> None:
    from checkers.linearizability.parse.edn import parse_edn_lines, parse_edn_text

    inv = '{:process 0, :type :invoke, :f :get, :key "x", :value nil}'
    ok = '{:process 0, :type :ok, :f :get, :key "x", :value nil}'
    for brk in ("\r", "\x0c", "\u2028"):
        text = inv + brk + ok + "\n" + inv + "\n" + ok
        fast = parse_edn_text(text, "h.edn")
        assert [e[6] for e in fast] == [1, 2, 3, 4]
        assert fast == parse_edn_lines(text.splitlines(), "h.edn")
