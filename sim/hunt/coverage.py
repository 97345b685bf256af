"""Coverage: how often a run reaches the situations consensus bugs need.

A schedule shape is only worth drawing if it produces the situation it was
made for, so bench/hunt.py counts these per run, from the trace's evidence
alone (the events, never the simulator's intentions):

- ``old-term-uncommitted``: a node becomes leader while its log holds entries
  past its commit index, all of earlier terms (the precondition of the
  Figure 8 bug: an earlier-term entry that must not be committed by counting);
- ``snapshot-over-log``: a node installs a snapshot while its log holds
  entries it has not committed, which the snapshot may contradict (they
  must go, not be kept behind it);
- ``read-at-deposed-leader``: a read request reaches a node that still acts
  as leader while a leader of a later term has been elected (it must not
  answer from its own state);
- ``crash-with-write-in-flight``: a crash loses writes still in flight, or
  cuts off what a step that acknowledged a write was sending;
- ``vote-request-after-restart``: a node receives a vote request (not a
  pre-vote) for the very term it restarted in;
- ``election-in-conf-window``: a node becomes a candidate while a
  configuration change is proposed but not yet applied anywhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

SITUATIONS = (
    "old-term-uncommitted",
    "snapshot-over-log",
    "read-at-deposed-leader",
    "crash-with-write-in-flight",
    "vote-request-after-restart",
    "election-in-conf-window",
)


def situations(events: Iterable[dict[str, Any]]) -> Counter[str]:
    """How many times each situation occurs in a trace's events."""
    found: Counter[str] = Counter()
    state: dict[str, dict[str, Any]] = {}
    #: Each node's state before its current step (effects follow their input).
    before: dict[str, dict[str, Any]] = {}
    sends: dict[str, dict[str, Any]] = {}
    restart_term: dict[str, int] = {}
    top_leader_term = 0
    conf_open: set[int] = set()
    crash_drop_t = -1
    for event in events:
        actor, act = str(event["n"]), event["act"]
        if "in" in event:  # an input event: a new step of ``actor``
            before[actor] = dict(state.get(actor, {}))
            state.setdefault(actor, {}).update(event.get("st", {}))
        prior = before.get(actor, {})
        if act == "restart":
            restart_term[actor] = int(event["in"]["durable"]["term"])
        elif act == "send":
            msg = event.get("msg", {})
            if msg.get("type") == "vote_req" and not msg.get("pre"):
                sends[str(event["mid"])] = msg
        elif act == "recv" and event["in"].get("type") == "vote_req":
            msg = sends.get(str(event["in"]["mid"]))
            if msg is not None and restart_term.get(actor) == msg.get("term"):
                found["vote-request-after-restart"] += 1
        elif act == "become_leader":
            term = int(event.get("term", 0))
            if (
                prior.get("last", 0) > prior.get("commit", 0)
                and prior.get("last_term", term) < term
            ):
                found["old-term-uncommitted"] += 1
            top_leader_term = max(top_leader_term, term)
        elif act == "read" and prior.get("role") == "leader":
            if int(event.get("term", 0)) < top_leader_term:
                found["read-at-deposed-leader"] += 1
        elif act == "snapshot_install" and prior.get("last", 0) > prior.get("commit", 0):
            found["snapshot-over-log"] += 1
        elif act == "crash" and (event.get("lost_writes") or event["t"] == crash_drop_t):
            found["crash-with-write-in-flight"] += 1
        elif act == "drop" and event.get("reason") == "crash":
            crash_drop_t = event["t"]
        elif act == "propose_conf":
            conf_open.add(int(event["seq"]))
        elif act == "refused":
            conf_open.discard(int(event.get("cause", 0)))
        elif act == "conf_apply":
            conf_open.clear()
        elif act == "become_candidate" and conf_open:
            found["election-in-conf-window"] += 1
    return found
