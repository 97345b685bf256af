"""A raftlab trace as an ITF document (Apalache ADR-015), for Apalache,
Quint and other tools that read the Informal Trace Format.

One ITF state per node step and per crash (``traces.export.steps``). Each
per-node variable is a function from node id (``#map``) over the nodes
started so far; ``VARIABLES`` documents them, and docs/export.md shows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from traces.export.steps import NodeView, SpecStep
from traces.itf import FnMap, Record, encode, trace_document

ADR = "https://apalache-mc.org/docs/adr/015adr-trace.html"

#: ITF variable -> what it holds (docs/export.md lists the same).
VARIABLES: dict[str, str] = {
    "currentTerm": "node -> the node's current term",
    "role": 'node -> "follower", "precandidate", "candidate" or "leader"',
    "votedFor": "node -> the node it voted for in its term (0: none)",
    "leader": "node -> the leader it knows of (0: unknown)",
    "commitIndex": "node -> its commit index",
    "appliedIndex": "node -> the index its state machine applied",
    "lastIndex": "node -> the index of its last log entry",
    "lastTerm": "node -> the term of its last log entry",
    "snapshotIndex": "node -> the last index its snapshot covers",
    "commitTerm": "node -> the term of the entry at its commit index, from its append, "
    "truncate and snapshot events (-1: the trace does not say)",
    "uncommittedConfs": "node -> how many configuration entries its log holds above its "
    "commit index, from its append records",
    "durable": "node -> <<term, vote>> of its hard state on disk, from its last persist "
    "record a persisted step covered",
    "config": "node -> its applied membership: [voters, outgoing, learners, learnersNext "
    "(sets of node ids), autoLeave (boolean)]",
    "running": "the set of nodes whose process is up (started and not crashed since)",
    "step": "the event that led to this state: [seq, t (microseconds), node, act, "
    'msgType and msgFrom (the message a "recv" received; "" and 0 otherwise), '
    "what that message said (msgTerm, msgPre, msgOk, msgIndex, msgLogTerm, msgLast, "
    "msgLastTerm, msgCommit, msgKnown: traces.export.steps.SpecStep's msg_* fields) "
    "arg (the input's index or target), for a restart promisedTerm and "
    "promisedVote (the last vote its sent messages promised), and what its effects did: "
    "appended (<<index, term, crc, term of the entry before>> per entry its log took), "
    "applied (<<index, term, crc>> per entry it applied), leaseRead (<<node, index>> of a "
    "read served under the lease, or <<>>), promisedVotes (<<node, term, candidate>> per "
    "vote its sent messages promise)]",
}

#: ITF field of ``step`` -> the SpecStep field it holds, beyond seq, t, node and act.
STEP_FIELDS: dict[str, str] = {
    "msgType": "msg_type",
    "msgFrom": "msg_from",
    "msgTerm": "msg_term",
    "msgPre": "msg_pre",
    "msgOk": "msg_ok",
    "msgIndex": "msg_index",
    "msgLogTerm": "msg_log_term",
    "msgLast": "msg_last",
    "msgLastTerm": "msg_last_term",
    "msgCommit": "msg_commit",
    "msgKnown": "msg_known",
    "arg": "arg",
    "promisedTerm": "promised_term",
    "promisedVote": "promised_vote",
    "appended": "appended",
    "applied": "applied",
    "leaseRead": "lease_read",
    "promisedVotes": "promised",
}

#: ITF variable -> the NodeView field it holds, per node (checkers/spec/itf_steps.py inverts it).
NODE_FIELDS: dict[str, str] = {
    "currentTerm": "term",
    "role": "role",
    "votedFor": "vote",
    "leader": "leader",
    "commitIndex": "commit",
    "appliedIndex": "applied",
    "lastIndex": "last_index",
    "lastTerm": "last_term",
    "snapshotIndex": "snapshot_index",
    "commitTerm": "commit_term",
    "uncommittedConfs": "uncommitted_confs",
    "durable": "durable",
}


def config_record(node: NodeView) -> Record:
    return Record(
        voters=node.voters,
        outgoing=node.outgoing,
        learners=node.learners,
        learnersNext=node.learners_next,
        autoLeave=node.auto_leave,
    )


def step_record(step: SpecStep) -> Record:
    return Record(
        seq=step.seq,
        t=step.t,
        node=step.node,
        act=step.act,
        **{name: getattr(step, field) for name, field in STEP_FIELDS.items()},
    )


def itf_state(step: SpecStep) -> dict[str, Any]:
    """The Python values of the ITF variables after ``step``."""
    state: dict[str, Any] = {
        name: FnMap({n: getattr(v, field) for n, v in step.nodes.items()})
        for name, field in NODE_FIELDS.items()
    }
    state["config"] = FnMap({n: config_record(v) for n, v in step.nodes.items()})
    state["running"] = step.running
    state["step"] = step_record(step)
    return state


def itf_document(header: dict[str, Any], steps: Iterable[SpecStep], source: str) -> dict[str, Any]:
    """The whole ITF document (JSON-ready) for the steps of one trace.

    It holds the values ``itf_state`` gives, encoded with ``traces.itf.encode``;
    as only one node changes per step, each node's encoded values are kept
    and reused while its state stays the same."""
    meta = {
        "format": "ITF",
        "format-description": ADR,
        "source": source,
        "description": "raftlab trace exported by `raftlab export --format itf`: "
        "one state per node step and per crash",
        "raftlab": {
            "impl": header.get("impl", ""),
            "seed": header.get("seed"),
            "nodes": header.get("nodes", []),
        },
    }
    cache: dict[tuple[int, NodeView], dict[str, list[Any]]] = {}

    def node_pairs(node: int, state: NodeView) -> dict[str, list[Any]]:
        pairs = cache.get((node, state))
        if pairs is None:
            key = encode(node)
            values = {name: getattr(state, field) for name, field in NODE_FIELDS.items()}
            values["config"] = config_record(state)
            pairs = cache[(node, state)] = {n: [key, encode(v)] for n, v in values.items()}
        return pairs

    def encoded(step: SpecStep) -> dict[str, Any]:
        nodes = [node_pairs(n, v) for n, v in sorted(step.nodes.items())]
        state: dict[str, Any] = {name: {"#map": [p[name] for p in nodes]} for name in _MAPS}
        state["running"] = encode(step.running)
        state["step"] = encode(step_record(step))
        return state

    return trace_document(VARIABLES, (encoded(step) for step in steps), meta)


_MAPS = (*NODE_FIELDS, "config")
