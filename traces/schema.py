"""The trace schema: version, line kinds and the closed action vocabulary.

A trace is JSON Lines. The first line is a header; every other line is an
event. docs/trace-format.md is the prose version of this module; the two are
kept in step by a test that checks every action here is documented there.

Every event has ``seq`` (1, 2, ... in file order), ``t`` (microseconds,
virtual in simulation), ``n`` (the actor: ``n1``, ``n2``... for nodes, or
``client``, ``net``, ``env``, ``ctrl``), ``lc`` (the actor's Lamport clock)
and ``act`` (one of ``Action``). Node events also carry ``term``.

A node *step* (one input to the pure core) is written as one input event
(``act`` one of ``INPUT_ACTIONS``) followed by the events it caused
(``cause`` = the input event's ``seq``). The input event carries what replay
needs to re-feed the input (``in``), the node's tick clock (``tk``), the
random draws the step made (``rand``), the spec-visible state after the whole
step as a delta against the node's previous step (``st``) and a digest of the
node's full state after the step (``dg``).
"""

from __future__ import annotations

from enum import StrEnum

SCHEMA = "raftlab.trace"
#: The version this raftlab writes: 2 added the closing record (traces.integrity).
VERSION = 2
#: Versions it reads (version 1 traces cannot be verified: no closing record).
READABLE_VERSIONS = (1, 2)


class Action(StrEnum):
    # -- node inputs: one per core step ----------------------------------
    BOOT = "boot"
    RESTART = "restart"
    TICK = "tick"
    RECV = "recv"
    PROPOSE = "propose"
    PROPOSE_CONF = "propose_conf"
    TRANSFER = "transfer"
    READ = "read"
    PERSISTED = "persisted"
    APPLIED = "applied"
    COMPACT = "compact"
    CAMPAIGN = "campaign"
    # -- elections -------------------------------------------------------
    TIMEOUT = "timeout"
    BECOME_FOLLOWER = "become_follower"
    BECOME_PRECANDIDATE = "become_precandidate"
    BECOME_CANDIDATE = "become_candidate"
    BECOME_LEADER = "become_leader"
    CAMPAIGN_REFUSED = "campaign_refused"
    VOTE_IGNORED = "vote_ignored"
    STEP_DOWN = "step_down"
    # -- replication -----------------------------------------------------
    SEND = "send"
    APPEND = "append"
    TRUNCATE = "truncate"
    COMMIT = "commit"
    APPLY = "apply"
    PERSIST = "persist"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    # -- membership ------------------------------------------------------
    CONF_APPLY = "conf_apply"
    CONF_REJECTED = "conf_rejected"
    ENTER_JOINT = "enter_joint"
    LEAVE_JOINT = "leave_joint"
    LEARNER_ADD = "learner_add"
    LEARNER_PROMOTE = "learner_promote"
    VOTER_ADD = "voter_add"
    VOTER_DEMOTE = "voter_demote"
    NODE_REMOVE = "node_remove"
    # -- leader transfer -------------------------------------------------
    TRANSFER_START = "transfer_start"
    TRANSFER_ABORT = "transfer_abort"
    # -- snapshots -------------------------------------------------------
    SNAPSHOT_TAKE = "snapshot_take"
    SNAPSHOT_SEND = "snapshot_send"
    SNAPSHOT_INSTALL = "snapshot_install"
    # -- reads -----------------------------------------------------------
    READ_READY = "read_ready"
    READ_REFUSED = "read_refused"
    LEASE_READ = "lease_read"
    # -- environment and network -----------------------------------------
    CRASH = "crash"
    PAUSE = "pause"
    RESUME = "resume"
    DROP = "drop"
    DUPLICATE = "duplicate"
    PARTITION = "partition"
    HEAL = "heal"
    # -- clients ---------------------------------------------------------
    INVOKE = "invoke"
    COMPLETE = "complete"
    # -- controller ------------------------------------------------------
    OBSERVE = "observe"
    PLAN = "plan"
    ACT = "act"
    RESULT = "result"


INPUT_ACTIONS = frozenset(
    {
        Action.BOOT,
        Action.RESTART,
        Action.TICK,
        Action.RECV,
        Action.PROPOSE,
        Action.PROPOSE_CONF,
        Action.TRANSFER,
        Action.READ,
        Action.PERSISTED,
        Action.APPLIED,
        Action.COMPACT,
        Action.CAMPAIGN,
    }
)

ACTIONS = frozenset(a.value for a in Action)

#: Spec-visible node state fields carried (as deltas) in ``st``.
STATE_FIELDS = (
    "term",
    "role",
    "vote",
    "lead",
    "commit",
    "applied",
    "last",
    "last_term",
    "snap",
    "conf",
)


def node_actor(node_id: int) -> str:
    return f"n{node_id}"


def actor_node(actor: str) -> int | None:
    """The node id of a node actor (``n3`` -> 3), None for other actors."""
    if actor.startswith("n") and actor[1:].isdigit():
        return int(actor[1:])
    return None
