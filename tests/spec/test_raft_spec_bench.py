"""bench/spec.py runs and prints its JSON line (a short run; no test asserts a speed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "spec.py"


def test_the_bench_prints_one_json_object_with_its_rates() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--duration", "1", "--runs", "1", "--profile"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    doc = json.loads(done.stdout)
    assert doc["bench"] == "spec-invariants" and doc["violations"] == 0
    assert doc["trace"]["events"] > doc["trace"]["states"] > 0
    assert doc["events_per_s"] > 0 and len(doc["runs"]) == 1
    assert doc["profile"] and all("function" in row for row in doc["profile"])
    full = doc["trace_validation"]
    assert full["violations"] == 0 and full["steps_validated"] == doc["trace"]["states"]
    assert full["events_per_s"] > 0 and "HandleAppendRequest" in full["actions"]
