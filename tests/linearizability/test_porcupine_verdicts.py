"""Every reference history gets the verdict its authors publish (Porcupine's test data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkers.linearizability import check, load_history

ROOT = Path(__file__).resolve().parents[2] / ".." / "shared" / "histories" / "porcupine"
TSV = ROOT / "verdicts.tsv"


def _cases() -> list[tuple[str, str]]:
    if not TSV.exists():
        return []
    rows = []
    for line in TSV.read_text().splitlines():
        if line.strip():
            path, verdict = line.split("\t")
            rows.append((path, verdict))
    return rows


CASES = _cases()


@pytest.mark.skipif(not CASES, reason=f"reference histories not found at {ROOT}")
@pytest.mark.parametrize(("path", "verdict"), CASES, ids=[c[0] for c in CASES])
def test_reference_verdict(path: str, verdict: str) -> None:
    history = load_history(ROOT / path)
    model = "register" if path.startswith("jepsen-etcd/") else "kv"
    result = check(history, model=model, timeout=60, workers=1)
    assert result.verdict == verdict, result.explain()


@pytest.mark.skipif(not CASES, reason=f"reference histories not found at {ROOT}")
def test_reference_set_is_complete() -> None:
    # 60 etcd logs and the four key-value histories, both verdicts represented.
    assert len(CASES) >= 64
    assert {v for _p, v in CASES} == {"linearizable", "not-linearizable"}


@pytest.mark.skipif(not CASES, reason=f"reference histories not found at {ROOT}")
def test_bad_kv_history_explains_itself() -> None:
    result = check(load_history(ROOT / "kv" / "c10-bad.txt"), model="kv", workers=1)
    assert result.verdict == "not-linearizable"
    v = result.violations()[0]
    text = result.explain()
    assert f"#{v.blocked.id}" in text
    assert "cannot be linearized" in text
    # The blocked operation is among the candidates, with a reason in words.
    [c] = [c for c in v.candidates if c.op.id == v.blocked.id]
    assert c.reason and c.reason in text
