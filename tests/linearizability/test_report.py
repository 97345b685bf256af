"""The text explanation and the HTML page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

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


def _data(text: str) -> dict[str, Any]:
    """The operations the page draws (its embedded JSON)."""
    m = re.search(r'<script id="data" type="application/json">(.*?)</script>', text, re.S)
    assert m is not None
    doc: dict[str, Any] = json.loads(m.group(1))
    return doc


def _ops(view: dict[str, Any]) -> dict[int, list[Any]]:
    return {row[0]: row for row in view["ops"]}


def test_html_page_is_self_contained_and_marks_the_violation(tmp_path: Path) -> None:
    result = check(PHANTOM, workers=1)
    page = write_html(result, tmp_path / "out" / "lin.html")
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert '<a href="#violation" id="jump">jump to violation</a>' in text
    # Opening the page with #violation selects the failing view and scrolls to it.
    assert "location.hash === '#violation'" in text and "id: o[5].indexOf('blocked')" in text
    data = _data(text)
    [view] = data["views"]
    assert view["verdict"] == "not-linearizable"
    ops = _ops(view)
    [v] = result.violations()
    assert ops[v.blocked.id][5] == "op blocked"
    assert data["clients"] == ["0", "1", "2"]  # one lane per client
    candidates = [row for row in view["ops"] if row[5].startswith("op candidate")]
    assert candidates and all("could not go next" in row[6] for row in candidates)
    assert "get returned '9' but the value is '4'" in ops[v.blocked.id][6]
    # Hover shows the value before and after each linearization point.
    placed = [row for row in view["ops"] if row[7]]
    assert [row[7] for row in placed] == [1, 2]
    assert "value absent before, '3' after" in placed[0][6]
    # Nothing fetched from the network: no external scripts, styles or images.
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", text)


def test_html_draws_every_failing_key_and_every_operation(tmp_path: Path) -> None:
    recs = generate(4000, 8, 3, seed=2, mix=Mix(cas=0.05))
    bad, _ = mutate(recs, 3, "read")
    bad, _ = mutate(bad, 4, "read")
    h = history_from_records(bad)
    result = check(h, workers=1, every=True)
    failing = [k for k, v in result.per_key.items() if v == "not-linearizable"]
    text = write_html(result, tmp_path / "big.html").read_text()
    data = _data(text)
    titles = [v["title"] for v in data["views"]]
    # Failing keys first, each selectable; then the other keys.
    assert [t.split(":")[0] for t in titles[: len(failing)]] == [f"key {k!r}" for k in failing]
    assert all(f'<option value="{i}">' in text for i in range(len(titles)))
    # Every operation is in its key's view, none cut off: pages, not a window.
    drawn = {row[0] for v in data["views"] if not v["all"] for row in v["ops"]}
    assert drawn == {op.id for op in h.ops}
    # The failing view opens on the page that holds its blocked operation.
    for v, view in zip(result.violations(), data["views"], strict=False):
        assert (
            v.blocked.id
            in [row[0] for row in view["ops"]][
                view["start"] * data["page"] : (view["start"] + 1) * data["page"]
            ]
        )


def test_html_for_a_linearizable_history(tmp_path: Path) -> None:
    recs = generate(50, 3, 2, seed=1)
    result = check(history_from_records(recs), workers=1)
    text = write_html(result, tmp_path / "ok.html").read_text()
    assert "LINEARIZABLE" in text and "jump to violation" not in text
    data = _data(text)
    steps = sum(1 for v in data["views"] if not v["all"] for row in v["ops"] if row[7])
    assert steps == sum(len(r.order or ()) for r in result.results)
    # Several keys: an all-keys view coloured by key, too.
    assert data["views"][-1]["all"] and len(data["views"][-1]["ops"]) == len(result.history)


def test_html_timings_agree_with_the_text(tmp_path: Path) -> None:
    result = check(STALE, workers=1)
    text = write_html(result, tmp_path / "t.html").read_text()
    assert f"check time {result.elapsed:.2f} s" in text
    assert f"[{result.elapsed:.2f} s]" in text  # the explanation below says the same
