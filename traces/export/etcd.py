"""A raftlab trace as etcd-raft trace NDJSON, the input of etcd-io/raft's
``tla/Traceetcdraft.tla``.

etcd-raft, built with its ``with_tla`` tag, writes one JSON line per traced
event: ``{"tag": "trace", "event": {"name", "nid", "state": {"term",
"vote", "commit"}, "role", "log", "conf": [voters, outgoing], "msg",
"prop"}}``, node ids as strings. Its event names are a fixed vocabulary
(``InitState``, ``BecomeCandidate``, ``SendAppendEntriesRequest``, ...);
``EVENT_MAP`` says which raftlab event becomes which, and ``SKIPPED`` why
the others have no counterpart. The mapping follows etcd's tracing code:

- a node's state in an event is its state when the event happened. A
  raftlab trace records the state after each whole step, so effects carry
  the state after their step; receives carry the state before it (etcd
  traces a message as the node starts to handle it), and so does
  ``ApplyConfChange``'s ``conf`` (etcd traces the configuration being left).
- messages that etcd does not trace (PreVote, TimeoutNow) are skipped, as
  are steps etcd has no event for.

Each line also carries ``seq``, the raftlab event it came from (etcd's
specs read only ``tag`` and ``event``, so the extra field does not disturb
them). raftlab has no ``Ready``/``Advance`` cycle and writes no messages to self, so
the NDJSON holds none of those; ``docs/export.md`` says what that means for
running ``Traceetcdraft.tla`` on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from traces.export.steps import NodeView, is_node, node_id, view
from traces.projection import Projection
from traces.schema import INPUT_ACTIONS

Event = dict[str, Any]

#: raftlab event (action, or send/recv with a message type) -> etcd event name.
EVENT_MAP: dict[str, str] = {
    "boot": "InitState",
    "restart": "InitState",
    "become_candidate": "BecomeCandidate",
    "become_follower": "BecomeFollower",
    "become_leader": "BecomeLeader",
    "commit": "Commit",
    "accepted (after propose)": "Replicate",
    "accepted (after propose_conf)": "ChangeConf",
    "conf_apply": "ApplyConfChange",
    "send append_req / heartbeat / snapshot": "SendAppendEntriesRequest",
    "send append_resp / heartbeat_resp": "SendAppendEntriesResponse",
    "send vote_req (not PreVote)": "SendRequestVoteRequest",
    "send vote_resp (not PreVote)": "SendRequestVoteResponse",
    "recv append_req / heartbeat / snapshot": "ReceiveAppendEntriesRequest",
    "recv append_resp / heartbeat_resp": "ReceiveAppendEntriesResponse",
    "recv vote_req (not PreVote)": "ReceiveRequestVoteRequest",
    "recv vote_resp (not PreVote)": "ReceiveRequestVoteResponse",
}

#: raftlab events that have no etcd counterpart, and why.
SKIPPED: dict[str, str] = {
    "PreVote messages (vote_req/vote_resp with pre)": "etcd-raft does not trace MsgPreVote "
    "or MsgPreVoteResp",
    "timeout_now messages": "etcd-raft does not trace MsgTimeoutNow",
    "become_precandidate": "etcd-raft traces no event when it becomes pre-candidate (the "
    "role shows as StatePreCandidate in later events)",
    "tick, timeout, persist, persisted, append, truncate, apply, applied": "etcd-raft's "
    "Ready/Advance cycle has its own events, which raftlab's core does not have",
    "propose, propose_conf (inputs)": "traced by what they cause: Replicate or ChangeConf",
    "refused, campaign_refused, vote_ignored, step_down, transfer_*, read_*, lease_read, "
    "snapshot_take, snapshot_install, snapshot_send, compact, transfer, read, campaign": "no "
    "etcd-raft trace event",
    "enter_joint, leave_joint, learner_*, voter_*, node_remove, conf_rejected": "carried by "
    "ApplyConfChange (the new voters in prop.cc.newconf, the old configuration in conf)",
    "env, net, client and ctrl events": "etcd-raft traces only what a node does",
}

_ROLES = {
    "follower": "StateFollower",
    "precandidate": "StatePreCandidate",
    "candidate": "StateCandidate",
    "leader": "StateLeader",
}

_SEND = {
    "append_req": "SendAppendEntriesRequest",
    "heartbeat": "SendAppendEntriesRequest",
    "snapshot": "SendAppendEntriesRequest",
    "append_resp": "SendAppendEntriesResponse",
    "heartbeat_resp": "SendAppendEntriesResponse",
    "vote_req": "SendRequestVoteRequest",
    "vote_resp": "SendRequestVoteResponse",
}

_RECV = {
    "append_req": "ReceiveAppendEntriesRequest",
    "heartbeat": "ReceiveAppendEntriesRequest",
    "snapshot": "ReceiveAppendEntriesRequest",
    "append_resp": "ReceiveAppendEntriesResponse",
    "heartbeat_resp": "ReceiveAppendEntriesResponse",
    "vote_req": "ReceiveRequestVoteRequest",
    "vote_resp": "ReceiveRequestVoteResponse",
}

_MSG_TYPES = {
    "append_req": "MsgApp",
    "heartbeat": "MsgHeartbeat",
    "snapshot": "MsgSnap",
    "append_resp": "MsgAppResp",
    "heartbeat_resp": "MsgHeartbeatResp",
    "vote_req": "MsgVote",
    "vote_resp": "MsgVoteResp",
}

_CHANGES = {"add_voter": "AddNewServer", "add_learner": "AddLearner", "remove": "RemoveServer"}


@dataclass(slots=True)
class EtcdExport:
    """The NDJSON lines and a tally of what was written and skipped."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    written: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


def etcd_message(msg: dict[str, Any]) -> dict[str, Any] | None:
    """etcd's ``TracingMessage`` for a raftlab message (None if not traced)."""
    kind = msg.get("type")
    if kind not in _MSG_TYPES or msg.get("pre"):
        return None
    entries = msg.get("entries") or []
    out = {
        "type": _MSG_TYPES[kind],
        "term": msg.get("term", 0),
        "from": str(msg.get("src", 0)),
        "to": str(msg.get("dst", 0)),
        "entries": len(entries) if isinstance(entries, list) else 0,
        "logTerm": 0,
        "index": 0,
        "commit": msg.get("commit", 0),
        "vote": "0",
        "reject": False,
        "rejectHint": 0,
    }
    if kind == "append_req":
        out.update(logTerm=msg.get("prev_term", 0), index=msg.get("prev_index", 0))
    elif kind == "snapshot":  # etcd puts the snapshot's index in "entries"
        out.update(entries=(msg.get("snapshot") or {}).get("index", 0))
    elif kind == "append_resp":
        rejected = not msg.get("success", False)
        out.update(index=msg.get("index", 0), reject=rejected)
        if rejected:
            out.update(rejectHint=msg.get("hint_index", 0), logTerm=msg.get("hint_term", 0))
    elif kind == "vote_req":
        out.update(logTerm=msg.get("last_term", 0), index=msg.get("last_index", 0))
    elif kind == "vote_resp":
        out.update(reject=not msg.get("granted", False))
    return out


def _node_fields(nid: int, node: NodeView, conf: NodeView | None = None) -> dict[str, Any]:
    shown = conf if conf is not None else node
    return {
        "nid": str(nid),
        "state": {"term": node.term, "vote": str(node.vote), "commit": node.commit},
        "role": _ROLES.get(node.role, node.role),
        "log": node.last_index,
        "applied": node.applied,
        "conf": [_ids(shown.voters), _ids(shown.outgoing)],
    }


def _ids(nodes: Iterable[int]) -> list[str]:
    return [str(n) for n in sorted(nodes)]


class _Exporter:
    """Walks the events once, keeping each node's state before and after its step."""

    def __init__(self) -> None:
        self.out = EtcdExport()
        self.projection = Projection()
        self.before: dict[int, NodeView] = {}
        self.after: dict[int, NodeView] = {}
        self.sent: dict[str, dict[str, Any]] = {}
        #: node -> its current step's input event (effects follow their input).
        self.inputs: dict[int, Event] = {}

    def emit(self, event: Event, name: str, fields: dict[str, Any]) -> None:
        fields = {"name": name, **fields}
        line = {"ts": event["t"] / 1e6, "seq": event["seq"], "tag": "trace", "event": fields}
        self.out.lines.append(line)
        self.out.written[name] += 1

    def skip(self, what: str) -> None:
        self.out.skipped[what] += 1

    def feed(self, event: Event) -> None:
        actor, act = event["n"], event["act"]
        if not is_node(actor):
            self.skip(f"{actor} {act}")
            return
        nid = node_id(actor)
        if act in INPUT_ACTIONS:
            self.step_input(event, nid)
        else:
            self.effect(event, nid)

    def step_input(self, event: Event, nid: int) -> None:
        act = event["act"]
        self.inputs[nid] = event
        starts = act in ("boot", "restart")
        previous = None if starts else self.after.get(nid)
        self.projection.apply(event)
        self.after[nid] = view(self.projection.state(event["n"]))
        self.before[nid] = previous if previous is not None else self.after[nid]
        if act in ("boot", "restart"):
            self.emit(event, "InitState", _node_fields(nid, self.after[nid]))
        elif act == "recv":
            self.receive(event, nid)
        else:
            self.skip(act)

    def receive(self, event: Event, nid: int) -> None:
        inputs = event.get("in") or {}
        msg: dict[str, Any] | None = inputs.get("msg") or self.sent.get(str(inputs.get("mid")))
        traced = etcd_message(msg) if msg is not None else None
        if msg is None or traced is None:
            why = " (no message)" if msg is None else " (pre)" if msg.get("pre") else ""
            self.skip(f"recv {inputs.get('type')}{why}")
            return
        fields = _node_fields(nid, self.before[nid])
        fields["msg"] = traced
        self.emit(event, _RECV[msg["type"]], fields)

    def effect(self, event: Event, nid: int) -> None:
        act = event["act"]
        node = self.after.get(nid)
        if act == "send":
            msg = event.get("msg") or {}
            self.sent[str(event.get("mid"))] = msg
            traced = etcd_message(msg)
            if traced is None or node is None:
                self.skip(f"send {msg.get('type')}" + (" (pre)" if msg.get("pre") else ""))
                return
            fields = _node_fields(nid, node)
            fields["msg"] = traced
            self.emit(event, _SEND[msg["type"]], fields)
        elif node is None:
            self.skip(act)
        elif act in ("become_candidate", "become_follower", "become_leader", "commit"):
            names = {"commit": "Commit"}
            name = names.get(act) or "Become" + act.removeprefix("become_").capitalize()
            self.emit(event, name, _node_fields(nid, node))
        elif act == "accepted":
            self.accepted(event, nid, node)
        elif act == "conf_apply":
            fields = _node_fields(nid, node, conf=self.before.get(nid, node))
            voters = (event.get("conf") or {}).get("voters", [])
            fields["prop"] = {"cc": {"changes": [], "newconf": _ids(voters)}}
            self.emit(event, "ApplyConfChange", fields)
        else:
            self.skip(act)

    def accepted(self, event: Event, nid: int, node: NodeView) -> None:
        cause = self.inputs.get(nid, {})
        if cause.get("act") != "propose_conf":
            self.emit(event, "Replicate", _node_fields(nid, node))
            return
        items = ((cause.get("in") or {}).get("change") or {}).get("items") or []
        changes = [
            {"nid": str(target), "action": _CHANGES[op]} for op, target in items if op in _CHANGES
        ]
        if not changes:  # a request to leave a joint configuration: etcd traces none
            self.skip("accepted (leave joint)")
            return
        fields = _node_fields(nid, node)
        fields["prop"] = {"cc": {"changes": changes, "newconf": []}}
        self.emit(event, "ChangeConf", fields)


def etcd_export(events: Iterable[Event]) -> EtcdExport:
    """The etcd-raft trace lines for a trace's events, with a tally."""
    exporter = _Exporter()
    for event in events:
        exporter.feed(event)
    return exporter.out
