"""The registry (which checkers exist, how a new one plugs in) and the
one-pass runner."""

from __future__ import annotations

from typing import Any

import pytest

import checkers.registry as registry_module
from checkers import (
    CheckerInfo,
    Registry,
    RegistryError,
    Violation,
    collect_client_events,
    default_registry,
    run_checkers,
)
from checkers.base import Findings
from checkers.model import ClusterModel
from checkers.registry import BUILTIN
from tests.checkers import scenarios as s
from tests.checkers.builder import TraceBuilder

Event = dict[str, Any]

NAMES = [
    "election-safety",
    "leader-append-only",
    "log-matching",
    "leader-completeness",
    "state-machine-safety",
    "monotonic-commit-apply",
    "single-change-pending",
    "conf-after-own-commit",
    "joint-quorum",
    "learners-never-vote",
    "no-campaign-unapplied-conf",
    "conf-transitions",
    "commit-within-log",
    "own-term-commit",
    "log-model-agreement",
    "durable-before-claimed",
    "vote-once",
    "durable-before-send",
    "snapshot-agreement",
    "liveness",
    "term-inflation",
]


class NoCrashes:
    """A toy checker: no node ever crashes."""

    name = "no-crashes"
    invariant = "Nothing crashes"
    actions = frozenset({"crash"})

    def __init__(self, header: Event) -> None:
        self.header = header
        self.seen: list[str] = []
        self.found = Findings(self.name, self.invariant, limit=2)

    def feed(self, event: Event, model: ClusterModel) -> None:
        self.seen.append(event["act"])
        node = event["node"]
        self.found.add((event["seq"],), f"n{node} crashed", (model.describe(f"n{node}"),))

    def finish(self) -> list[Violation]:
        return self.found.violations


NO_CRASHES = CheckerInfo("no-crashes", "Nothing crashes", "No node ever crashes.", NoCrashes)


def test_the_default_registry_lists_the_builtin_checkers() -> None:
    registry = default_registry(plugins=False)
    assert registry.names() == NAMES
    for info in registry.infos():
        assert info.summary and not info.summary.endswith("\n")
        checker = info.factory({})
        assert (checker.name, checker.invariant) == (info.name, info.invariant)


def test_unknown_checker_names_are_rejected_with_the_known_ones() -> None:
    with pytest.raises(RegistryError) as caught:
        default_registry(plugins=False).create({}, ["election-safety", "no-such", "nor-this"])
    message = str(caught.value)
    assert "unknown checker(s) no-such, nor-this" in message
    assert "known: " + ", ".join(NAMES) in message


def test_a_checker_name_registered_twice_is_rejected() -> None:
    with pytest.raises(RegistryError, match="'no-crashes' is registered twice"):
        Registry([NO_CRASHES, NO_CRASHES])
    registry = Registry(BUILTIN)
    with pytest.raises(RegistryError, match="'log-matching' is registered twice"):
        registry.register(BUILTIN[2])


def test_a_new_checker_plugs_in_without_touching_the_runner() -> None:
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2])
    first = b.crash(2)
    second = b.crash(3)
    third = b.crash(1)
    registry = Registry([*BUILTIN, NO_CRASHES])
    checkers = registry.create(b.header, ["election-safety", "no-crashes"])
    toy = checkers[1]
    assert isinstance(toy, NoCrashes) and toy.header == b.header
    report = run_checkers(iter(b.events), checkers)
    assert toy.seen == ["crash"] * 3, "the runner hands a checker only the actions it wants"
    assert [v.witnesses for v in report.violations] == [(first,), (second,)]
    assert report.violations[0].message == "n2 crashed"
    assert report.violations[0].states[0].startswith("n2: down, term 1")
    assert report.suppressed == 1 and third
    assert report.by_checker() == {"election-safety": [], "no-crashes": report.violations}


def test_violations_are_reported_in_the_order_they_happened() -> None:
    b = s.two_leaders(second_term=2).trace
    crash = b.crash(2)
    report = run_checkers(iter(b.events), Registry([*BUILTIN, NO_CRASHES]).create(b.header))
    assert [v.checker for v in report.violations] == ["vote-once", "election-safety", "no-crashes"]
    assert report.violations[-1].witnesses == (crash,)
    assert not report.ok and report.events == len(b.events)


class _Point:
    def __init__(self, name: str, value: object) -> None:
        self.name = name
        self.value = value

    def load(self) -> object:
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


def test_plugins_come_from_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [_Point("no-crashes", NO_CRASHES)]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: points)
    assert default_registry().names() == [*NAMES, "no-crashes"]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (ImportError("no module named mypkg"), "'broken' failed to load: no module named mypkg"),
        (object(), "'broken' is not a CheckerInfo"),
    ],
)
def test_a_broken_plugin_is_named(
    monkeypatch: pytest.MonkeyPatch, value: object, error: str
) -> None:
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [_Point("broken", value)])
    with pytest.raises(RegistryError, match=error):
        default_registry()


def test_client_events_become_history_records() -> None:
    b = TraceBuilder([1])
    b.emit("client", "invoke", client=1, f="put", key="k", value="v")
    done = b.emit("client", "complete", cause=4, client=1, type="ok", f="put", key="k", value="v")
    history: list[Event] = []
    passed = list(collect_client_events(iter(b.events), history))
    assert passed == b.events
    assert history == [
        {"client": 1, "type": "invoke", "f": "put", "key": "k", "value": "v", "time": 2000},
        {"client": 1, "type": "ok", "f": "put", "key": "k", "value": "v", "time": 3000},
    ]
    assert b.event(done)["t"] == 3000
