"""``raftlab spec check`` end to end: exit 0 on a safe run, 1 with the
failing property named on an unsafe one, --json, and exit 2 with one line
for a spec, mapping or trace that cannot be read."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner, Result

from checkers.spec.check import load_mapping
from raftlab.cli import app
from raftlab.experiment import simulate
from sim import SimConfig

ROOT = Path(__file__).parents[2]
SPEC = ROOT / "spec" / "RaftReconfig.tla"
MAPPING = ROOT / "spec" / "RaftReconfig.mapping.toml"
MAPPED = load_mapping(MAPPING)


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["spec", "check", *map(str, args)])


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("traces")
    made = {}
    for name, unsafe in (("safe", ()), ("unsafe", ("learner-early-vote",))):
        config = SimConfig.for_faults("partitions", unsafe=unsafe, nodes=3, seed=1, duration_s=10.0)
        made[name] = out / f"{name}.jsonl"
        simulate(config, "random", made[name])
    return made


def test_a_safe_run_passes_with_the_spec_or_its_mapping(traces: dict[str, Path]) -> None:
    for spec in (SPEC, MAPPING):
        result = invoke(spec, traces["safe"])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("ok: ")
        counts = f"{len(MAPPED.invariants)} invariants and {len(MAPPED.steps)} step properties"
        assert f"{counts} of RaftReconfig, " in result.stdout
        assert " steps validated against its actions; 0 failure(s)" in result.stdout


def test_an_unsafe_run_fails_naming_the_property_and_the_event(traces: dict[str, Path]) -> None:
    result = invoke(SPEC, traces["unsafe"])
    assert result.exit_code == 1, result.output
    assert "LearnersNeverVoteStep violated (events " in result.stdout
    assert "to the state after event " in result.stdout
    assert result.stdout.splitlines()[-1].startswith("FAIL: ")
    doc = orjson.loads(invoke(SPEC, traces["unsafe"], "--json").stdout)
    assert doc["ok"] is False and doc["mapping"] == str(MAPPING)
    # the learner's vote breaks a step property and is no step of the vote_req action
    assert {v["invariant"] for v in doc["violations"]} == {
        "LearnersNeverVoteStep",
        "HandleVoteRequest",
    }
    assert all(v["checker"] == "spec:RaftReconfig" for v in doc["violations"])
    assert doc["trace_validation"] is True and doc["validated"] > 1000
    only = orjson.loads(invoke(SPEC, traces["unsafe"], "--json", "--invariants-only").stdout)
    assert {v["invariant"] for v in only["violations"]} == {"LearnersNeverVoteStep"}
    assert only["trace_validation"] is False and only["validated"] == 0


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, traces: dict[str, Path]) -> None:
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("not json\n")
    bad_toml = tmp_path / "bad.mapping.toml"
    bad_toml.write_text("spec = [\n")
    for args, says in (
        ((tmp_path / "Nope.tla", traces["safe"]), "Nope.mapping.toml: cannot read the mapping"),
        ((bad_toml, traces["safe"]), "bad.mapping.toml: not TOML"),
        ((SPEC, tmp_path / "none.jsonl"), "none.jsonl"),
        ((SPEC, garbage), "garbage.jsonl"),
    ):
        result = invoke(*args)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], lines


def test_an_itf_export_checks_as_the_trace_it_came_from(
    tmp_path: Path, traces: dict[str, Path]
) -> None:
    from checkers.spec.itf_steps import itf_steps
    from traces.export import export_trace
    from traces.export.itf import itf_state
    from traces.itf import read_itf

    itf = tmp_path / "unsafe.itf.json"
    itf.write_bytes(export_trace(traces["unsafe"], "itf", itf).data)
    read = read_itf(itf)
    steps = list(itf_steps(read))
    assert [itf_state(step) for step in steps] == list(read.states)  # the round trip
    direct = orjson.loads(invoke(SPEC, traces["unsafe"], "--json").stdout)
    via_itf = orjson.loads(invoke(SPEC, itf, "--json").stdout)
    assert via_itf["violations"] == direct["violations"] and via_itf["states"] == direct["states"]
    other = tmp_path / "other.json"
    other.write_text('{"vars": ["x"], "states": [{"x": 1}]}')
    result = invoke(SPEC, other)
    assert result.exit_code == 2
    assert "other.json: not a raftlab ITF export, so there is no mapping" in result.output
    assert "(its variables: x): give --invariant NAME" in result.output
