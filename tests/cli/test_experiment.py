"""The experiment runner behind the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import raftlab.experiment as experiment
from sim import SimConfig
from traces.reader import load_trace, open_trace


class _Interrupted:
    """A simulation that records a few events, then is interrupted."""

    def __init__(self, config: SimConfig, sink: Any, actor: Any) -> None:
        self.sink = sink

    def run(self, progress: Any = None) -> None:
        for t in range(3):
            self.sink.emit({"seq": 0, "t": t, "n": "env", "lc": t + 1, "act": "heal"})
        raise KeyboardInterrupt


def test_an_interrupted_simulation_keeps_the_previous_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run.jsonl"
    config = SimConfig(nodes=3, seed=1, duration_s=0.5)
    experiment.simulate(config, "none", out)
    before = out.read_bytes()
    monkeypatch.setattr(experiment, "Simulation", _Interrupted)
    with pytest.raises(experiment.Interrupted) as caught:
        experiment.simulate(config, "none", out)
    assert out.read_bytes() == before, "the complete trace of the earlier run is still there"
    partial = caught.value.partial
    assert partial.parent == tmp_path and partial.name.endswith(".partial")
    assert partial.exists(), "what the interrupted run wrote is kept as .partial"
    # the header, three events and a closing record saying the run was interrupted
    assert len(partial.read_bytes().splitlines()) == 5
    _, events = open_trace(partial)
    assert len(list(events)) == 3
    assert events.integrity is not None and events.integrity.state == "interrupted"
    assert load_trace(out)[1]
