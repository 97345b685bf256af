"""``--timeout`` and ``--max-memory`` are hard limits, and the register model refuses kv input."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from checkers.linearizability import HistoryError, Operation, check, history_from_records
from checkers.linearizability.generate import generate
from checkers.linearizability.limits import HardTimeout, wall_limit
from checkers.linearizability.model import State
from checkers.linearizability.models.kv import KVModel


def test_wall_limit_interrupts_code_that_never_looks_at_the_clock() -> None:
    with pytest.raises(HardTimeout), wall_limit(time.monotonic() + 0.05):
        for _ in range(10**10):
            pass


# Not slots=True: a slotted subclass would hide the compiled base's fields (make accel).
@dataclass(frozen=True)
class _SlowStep(KVModel):
    """A model whose every step is long: the searches' own clock checks come too late."""

    def step(self, state: State, op: Operation) -> tuple[bool, State]:
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            pass
        return KVModel.step(self, state, op)


def test_timeout_is_a_hard_limit() -> None:
    h = history_from_records(generate(400, 10, 1, seed=3))
    started = time.monotonic()
    result = check(h, _SlowStep(), timeout=0.3, workers=1)
    took = time.monotonic() - started
    assert result.verdict == "unknown"
    assert "timed out after 0.3 s" in result.explain()
    # Unchecked, this history would take minutes (0.5 s a step); the limit
    # is enforced within one step's length, with a wide margin.
    assert took < 3.0


def test_memory_limit_answers_unknown() -> None:
    h = history_from_records(generate(3000, 30, 1, seed=3, values=3))
    # About a second alone; the time limit is only a backstop, far above it
    # (it once ran out under a heavily loaded machine at 60 s).
    result = check(h, timeout=300, workers=1, max_memory_mb=1)
    assert result.verdict == "unknown"
    assert "out of memory" in result.explain()


def test_register_model_refuses_keys_and_unmodelled_operations() -> None:
    h = history_from_records(generate(60, 3, 3, seed=1))
    with pytest.raises(HistoryError) as info:
        check(h, model="register")
    assert "3 keys: 'k0' (line" in str(info.value) and "use --model kv" in str(info.value)
    recs = [
        {"client": 0, "type": "invoke", "f": "append", "value": "a"},
        {"client": 0, "type": "ok", "f": "append", "value": "a"},
    ]
    with pytest.raises(HistoryError, match=r"operations it does not model: append \(line 1\)"):
        check(history_from_records(recs), model="register")
