"""A pure Raft core: inputs in, effects out; no I/O, no clock, no global randomness.

Public API::

    core = RaftCore(node_id, RaftConfig(), seed, DurableState.bootstrap(Membership((1, 2, 3))))
    effects = core.step(now_ticks, Tick())          # or Receive(msg), Propose(data), ...
    core.next_deadline()                            # when the next Tick is due

The driver carries effects out in order (see ``consensus.effects``) and
reports back with ``Persisted`` and ``Applied``. Module map: ``core`` (role
logic), ``log``, ``quorum``, ``progress``, ``membership``, ``confchange``,
``messages``, ``inputs``, ``effects``, ``records``, ``storage``, ``codec``
(JSON form of all of the above, for traces).
"""

from consensus.confchange import ChangeItem, ChangeOp, ConfChange, Transition
from consensus.config import RaftConfig, ReadMode
from consensus.core import DurableState, RaftCore, Role
from consensus.effects import (
    Accepted,
    ApplyEntries,
    Effect,
    Note,
    Persist,
    ReadReady,
    ReadRefused,
    Refused,
    RestoreSnapshot,
    Send,
)
from consensus.errors import ConfChangeError, CoreMisuse, PeerError, RaftError
from consensus.inputs import (
    Applied,
    Campaign,
    Compact,
    Input,
    Persisted,
    Propose,
    ProposeConfChange,
    ReadIndex,
    Receive,
    Tick,
    TransferLeader,
)
from consensus.membership import Membership
from consensus.messages import (
    AppendRequest,
    AppendResponse,
    Heartbeat,
    HeartbeatResponse,
    InstallSnapshot,
    Message,
    TimeoutNow,
    VoteRequest,
    VoteResponse,
)
from consensus.records import Entry, HardState, Snapshot
from consensus.storage import MemoryStorage

__all__ = [
    "Accepted",
    "AppendRequest",
    "AppendResponse",
    "Applied",
    "ApplyEntries",
    "Campaign",
    "ChangeItem",
    "ChangeOp",
    "Compact",
    "ConfChange",
    "ConfChangeError",
    "CoreMisuse",
    "DurableState",
    "Effect",
    "Entry",
    "HardState",
    "Heartbeat",
    "HeartbeatResponse",
    "Input",
    "InstallSnapshot",
    "Membership",
    "MemoryStorage",
    "Message",
    "Note",
    "PeerError",
    "Persist",
    "Persisted",
    "Propose",
    "ProposeConfChange",
    "RaftConfig",
    "RaftCore",
    "RaftError",
    "ReadIndex",
    "ReadMode",
    "ReadReady",
    "ReadRefused",
    "Receive",
    "Refused",
    "RestoreSnapshot",
    "Role",
    "Send",
    "Snapshot",
    "Tick",
    "TimeoutNow",
    "TransferLeader",
    "Transition",
    "VoteRequest",
    "VoteResponse",
]
