"""The text explanation and the HTML page."""

from __future__ import annotations

import re
from pathlib import Path

from checkers.linearizability import check, history_from_records, write_html
from checkers.linearizability.generate import Mix, generate, mutate

from .helpers import history, op

STALE = history(
    op(0, "put", "x", "3", None, 0, 1),
    op(0, "put", "x", "4", None, 2, 3),
    op(1, "get", "x", None, "3", 4, 5),
    op(2, "put", "x", "5", None, 4, 8),
)


PHANTOM = history(
    op(0, "put", "x", "3", None, 0, 1),
    op(0, "put", "x", "4", None, 2, 3),
    op(1, "get", "x", None, "9", 4, 5),
    op(2, "put", "x", "5", None, 4, 12),
)


def test_text_report_names_op_prefix_states_and_reasons() -> None:
    result = check(STALE, workers=1)
    assert result.verdict == "not-linearizable"
    text = result.explain()
    assert "Verdict: NOT-LINEARIZABLE" in text
    assert "That is the first operation that cannot be linearized." in text
    # The search looks ahead: put 4 cannot be placed, because the later get
    # still needs '3' and nothing writes '3' again.
    assert "#1 client 0  put(x, '4')" in text
    assert "=> '3'" in text
    assert "overwrite '3' for good" in text and "#2 get(x) -> '3' (line 5) still needs it" in text
    assert "it needs the value '3', which #1 must overwrite for good" in text
    # The headline names the stale get, whose value no order allows.
    head = text.split("Violation on key 'x'")[1]
    assert head.index("get(x) -> '3'") < head.index("put(x, '4')")
    assert "The operation whose result is impossible:" in text
    [v] = result.violations()
    assert v.needer is not None and v.needer.id == 2
    assert [s.state for s in v.prefix] == ["'3'"]
    assert result.per_key == {"x": "not-linearizable"}


def test_phantom_read_is_blamed_with_the_model_reason() -> None:
    result = check(PHANTOM, workers=1)
    text = result.explain()
    [v] = result.violations()
    assert v.blocked.f == "get" and v.needer is None
    assert [s.state for s in v.prefix] == ["'3'", "'4'"]
    # Each candidate next operation, with why it fails in plain words.
    assert "get returned '9' but the value is '4'" in text
    assert "could take effect here (the value would become '5'), but then #2 still cannot" in text


def test_per_key_table_and_summary() -> None:
    h = history(
        op(0, "put", "a", "1", None, 0, 1),
        op(1, "get", "a", None, "1", 2, 3),
        op(0, "put", "b", "1", None, 4, 5),
        op(1, "get", "b", None, "2", 6, 7),
    )
    result = check(h, workers=1)
    assert result.per_key == {"a": "linearizable", "b": "not-linearizable"}
    text = result.explain()
    assert "Per key:" in text and "Violation on key 'b'" in text
    s = result.summary()
    assert s["verdict"] == "not-linearizable"
    assert s["violations"][0]["key"] == "b"


def test_html_page_is_self_contained_and_marks_the_violation(tmp_path: Path) -> None:
    result = check(PHANTOM, workers=1)
    page = write_html(result, tmp_path / "out" / "lin.html")
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert 'id="violation"' in text
    assert '<a href="#violation" id="jump">jump to violation</a>' in text
    assert 'class="op blocked"' in text
    assert "client 0" in text and "client 2" in text  # one lane per client
    assert 'class="op candidate"' in text
    assert "<circle" in text  # linearization points
    assert "get returned &#x27;9&#x27; but the value is &#x27;4&#x27;" in text
    # Nothing fetched from the network: no external scripts, styles or images.
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", text)


def test_html_for_a_large_history_shows_a_window(tmp_path: Path) -> None:
    recs = generate(4000, 8, 1, seed=2, mix=Mix(cas=0.05))
    bad, _ = mutate(recs, 3, "read")
    result = check(history_from_records(bad), workers=1)
    text = write_html(result, tmp_path / "big.html").read_text()
    assert 'id="violation"' in text
    assert "around the violation" in text
    assert text.count('<g class="op') <= 300


def test_html_for_a_linearizable_history(tmp_path: Path) -> None:
    recs = generate(50, 3, 2, seed=1)
    result = check(history_from_records(recs), workers=1)
    text = write_html(result, tmp_path / "ok.html").read_text()
    assert "LINEARIZABLE" in text and 'id="violation"' not in text
    assert text.count("<circle") == sum(len(r.order or ()) for r in result.results)
