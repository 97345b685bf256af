"""Member addresses as replicated state: where every node of the cluster listens.

A node added at run time must be reachable by every member, including
members that restart later or join after it, so its addresses cannot live in
one process's memory or in a file only the operator's machine has. They are
written to the replicated key-value state under a reserved prefix, through
the same log as everything else: before a configuration change adds a node,
the leader commits a ``put`` of the node's addresses; every replica applies
it, a snapshot carries it, and each node's transport reads its peer table
from the state machine after applying.

The prefix starts with a NUL character, which the HTTP API refuses in keys
(kv/httpapi/validate.py), so clients can neither read nor overwrite these
entries, and listings leave them out.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from kv.admin.values import NodeAddress
from kv.commands import Command
from kv.statemachine import KVStateMachine

#: Keys of the replicated state reserved for raftlab itself.
RESERVED = "\x00"
PREFIX = RESERVED + "raftlab/member/"


def member_key(node_id: int) -> str:
    return f"{PREFIX}{node_id:010d}"


def member_command(node_id: int, address: NodeAddress) -> Command:
    """The ``put`` that records ``address`` as node ``node_id``'s."""
    body = {"peer": address.peer, "admin": address.admin, "http": address.http}
    return Command("put", member_key(node_id), orjson.dumps(body).decode())


def replicated_members(sm: KVStateMachine) -> dict[int, NodeAddress]:
    """Every member address the replicated state holds, by node id."""
    found: dict[int, NodeAddress] = {}
    for key, text in sm.prefix(PREFIX):
        body = orjson.loads(text)
        found[int(key[len(PREFIX) :])] = NodeAddress(body["peer"], body["admin"], body["http"])
    return found


def known_members(
    sm: KVStateMachine, configured: Mapping[int, NodeAddress]
) -> dict[int, NodeAddress]:
    """The addresses a node uses: the ones it was started with, overridden by
    the replicated ones (a node re-added on a new port, say)."""
    return dict(sorted({**configured, **replicated_members(sm)}.items()))
