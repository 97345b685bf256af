"""The fast readers give what the general ones give, or decline.

``parse.canonical.read_canonical`` reads Jepsen's canonical EDN lines and
pairs them in one pass; whatever it accepts must be read by the general path
(``parse_edn_text``, the shape checks, ``pair_events``) to the same
operations, hence the same verdict and the same explanation.  Whatever it
declines, the general path reads (or rejects with its own message).
"""

from __future__ import annotations

import re
import sys

import pytest

from checkers.linearizability import HistoryError, check, parse_text
from checkers.linearizability.generate import (
    APPEND_MIX,
    Mix,
    appends_with_stale_read,
    generate,
    mutate,
    records_to_edn,
)
from checkers.linearizability.history import History, pair_events
from checkers.linearizability.parse import _check_shapes, _initial
from checkers.linearizability.parse.canonical import read_canonical
from checkers.linearizability.parse.edn import parse_edn_text


def general(text: str, source: str = "h.edn") -> History:
    """The general EDN path, without the fast reader."""
    events = parse_edn_text(text, source)
    _check_shapes(events, source)
    return pair_events(events, source=source, fmt="edn", initial=_initial("edn", events))


def untimed(report: str) -> str:
    return re.sub(r"\d+\.\d+ s\b", "_ s", report)


def same(a: History, b: History) -> None:
    assert a.ops == b.ops
    assert (a.source, a.format, a.initial, a.notes) == (b.source, b.format, b.initial, b.notes)


HISTORIES = {
    "plain-ok": lambda: generate(600, 5, 3, seed=1),
    "plain-bad": lambda: mutate(generate(600, 5, 3, seed=2), 2, "read")[0],
    "unknown-outcomes": lambda: generate(600, 8, 2, seed=3, mix=Mix(unknown=0.1)),
    "appends-ok": lambda: generate(600, 20, 4, seed=4, mix=APPEND_MIX),
    "appends-bad": lambda: appends_with_stale_read()[0],
    "one-key-shared-values": lambda: generate(400, 4, 1, seed=5, values=3),
}


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_canonical_reader_matches_the_general_path(name: str) -> None:
    text = records_to_edn(HISTORIES[name]())
    fast = read_canonical(text, "h.edn")
    assert fast is not None, "generated EDN is canonical"
    slow = general(text)
    same(fast, slow)
    a, b = check(fast), check(slow)
    assert a.verdict == b.verdict
    assert untimed(a.explain()) == untimed(b.explain())
    assert [v.blocked.id for v in a.violations()] == [v.blocked.id for v in b.violations()]


def test_equal_texts_become_one_shared_object() -> None:
    """The reader shares each value, function and status among operations, so
    the search compares the same objects (the same values either way)."""
    text = (
        '{:process 0, :type :invoke, :f :put, :key "a", :value "7"}\n'
        '{:process 0, :type :ok, :f :put, :key "a", :value "7"}\n'
        '{:process 1, :type :invoke, :f :put, :key "b", :value 7}\n'
        '{:process 1, :type :ok, :f :put, :key "b", :value 7}\n'
        '{:process 0, :type :invoke, :f :get, :key "a", :value nil}\n'
        '{:process 0, :type :ok, :f :get, :key "a", :value "7"}\n'
    )
    fast = read_canonical(text, "h.edn")
    assert fast is not None
    same(fast, general(text))
    put_a, put_b, get_a = fast.ops
    assert put_a.arg == "7" and put_b.arg == 7 and get_a.result == "7"
    assert put_a.arg is get_a.result
    assert put_a.f is sys.intern("put") and put_a.status is get_a.status is sys.intern("ok")


def test_chunk_boundaries_do_not_change_the_history(monkeypatch: pytest.MonkeyPatch) -> None:
    import checkers.linearizability.parse.canonical as canonical

    text = records_to_edn(HISTORIES["unknown-outcomes"]())
    whole = read_canonical(text, "h.edn")
    for size in (1, 37, 200, 4096):
        monkeypatch.setattr(canonical, "CHUNK", size)
        chunked = read_canonical(text, "h.edn")
        assert chunked is not None and whole is not None
        same(chunked, whole)
    same(read_canonical(BASE.replace("\n", "\r\n"), "h.edn"), general(BASE))  # type: ignore[arg-type]
    # Blank lines wherever a chunk may start or end: no line number shifts.
    lines = text.splitlines()[:40]
    spaced = "\n".join(line + "\n" * (i % 3 == 0) for i, line in enumerate(lines)) + "\n"
    for size in range(1, 160):  # every cut of the first lines, blank or not
        monkeypatch.setattr(canonical, "CHUNK", size)
        same(read_canonical(spaced, "h.edn"), general(spaced))  # type: ignore[arg-type]


def test_the_bad_histories_stay_bad() -> None:
    # The parametrized test above is only as good as its histories.
    for name in ("plain-bad", "appends-bad"):
        text = records_to_edn(HISTORIES[name]())
        assert check(parse_text(text, "edn")).verdict == "not-linearizable"


BASE = (
    '{:process 0, :type :invoke, :f :put, :key "x", :value "1"}\n'
    '{:process 1, :type :invoke, :f :get, :key "x", :value nil}\n'
    '{:process 0, :type :ok, :f :put, :key "x", :value "1"}\n'
    '{:process 1, :type :ok, :f :get, :key "x", :value "1"}\n'
)


@pytest.mark.parametrize(
    "text",
    [
        BASE,
        "\n\n" + BASE + "\n  \n",  # blank lines
        BASE.replace("\n", "\r\n"),  # CRLF: the lenient pattern
        BASE.replace(", ", ",\t"),  # tabs: the lenient pattern
        BASE.replace("{:process 1,", "  {:process 1,"),  # an indented line
        BASE + '{:process 2, :type :invoke, :f :put, :key "x", :value "2"}\n',  # never completed
        BASE.replace(':key "x"', ":key 7"),  # integer keys
        "{:process :nemesis, :type :info, :f :start, :value nil}\n"
        + BASE
        + '{:process :nemesis, :type :info, :f :stop, :value "done"}\n',
        BASE.replace(":process 1", ":process :reader"),  # a named process
        BASE.replace(':type :ok, :f :get, :key "x"', ":type :ok, :f :get"),  # no key on completion
        BASE.replace(':f :put, :key "x"', ':f :put, :key "x, y"'),  # a comma: the lenient pattern
    ],
)
def test_canonical_variants_read_as_the_general_path_does(text: str) -> None:
    fast = read_canonical(text, "h.edn")
    assert fast is not None
    same(fast, general(text))
    same(parse_text(text, "edn", "h.edn"), general(text))


@pytest.mark.parametrize(
    "text",
    [
        BASE + "{:process 3, :type :invoke, :f :read, :value nil, :time 5}\n",  # another key
        BASE + '{:process 2, :type :invoke, :f :cas, :key "x", :value ["1" "2"]}\n',
        '{:process 0, :type :invoke, :f :put, :key "x", :value "a\\"b"}\n'
        '{:process 0, :type :ok, :f :put, :key "x", :value "a\\"b"}\n',  # an escape
        '{:process 0, :type :invoke, :f :put, :key 7, :value "1"}\n'
        '{:process 0, :type :ok, :f :put, :key "7", :value "1"}\n',  # the same key, written twice
        BASE + "; a comment\n",
        # What the strict pattern matches loosely, checked once per distinct text:
        BASE.replace(":process 1", ":process 1x"),  # a symbol, not a number
        BASE.replace(':key "x"', ":key x"),  # a symbol key
        BASE.replace(':key "x"', ":key x, :extra 1"),  # another field
        BASE.replace(':value "1"', ':value "1\\\\"'),  # an escaped backslash
        BASE.replace(":process 1,", ':process "p1",'),  # a string, not an integer or keyword
    ],
)
def test_unusual_texts_decline_and_read_as_before(text: str) -> None:
    assert read_canonical(text, "h.edn") is None
    same(parse_text(text, "edn", "h.edn"), general(text))


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (BASE + BASE.splitlines()[0] + "\n" + BASE.splitlines()[0] + "\n", 6, "invokes put"),
        (BASE + '{:process 5, :type :ok, :f :get, :key "x", :value nil}\n', 5, "without"),
        (BASE + '{:process 5, :type :invoke, :f :frob, :key "x", :value nil}\n', 5, "unknown"),
        (BASE + '{:process 5, :type :invoke, :f :put, :key "x", :value nil}\n', 5, "needs a"),
        (BASE + '{:process 5, :type :invoke, :f :append, :key "x", :value 3}\n', 5, "string"),
        (BASE + '{:process 5, :type :invoke, :f :put, :key "x", :value "a\nb"}\n', 5, "untermin"),
        (
            '{:process 0, :type :invoke, :f :put, :key "x", :value "1"}\n'
            '{:process 0, :type :ok, :f :get, :key "x", :value "1"}\n',
            2,
            "but invoked",
        ),
    ],
)
def test_bad_canonical_texts_get_the_general_error(text: str, line: int, words: str) -> None:
    assert read_canonical(text, "h.edn") is None
    with pytest.raises(HistoryError) as err:
        parse_text(text, "edn", "h.edn")
    assert err.value.line == line and words in err.value.message
