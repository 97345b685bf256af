"""The admin gRPC API of a node: membership, leadership, status, faults.

Three parts (``values``, ``server``, ``client``; ``convert`` holds the
protobuf conversions they share), so that the node runtime, the CLI and the Kubernetes
controller each see only plain Python values:

- ``AdminBackend``: the small protocol the node runtime implements (status,
  propose a configuration change and wait for it to apply, transfer
  leadership, set network faults). It speaks ``consensus`` values
  (``ConfChange``, ``Membership``, ``Role``, ``ProgressState``) and
  ``kv.netfaults.LinkFaults``; ``core_status`` builds its status from a
  ``RaftCore`` so every backend reports the same fields the same way.
- ``AdminServicer`` and ``serve``: the grpc.aio server. All request
  validation lives here, once: a malformed or impossible request is answered
  INVALID_ARGUMENT with a message naming what is wrong, before the backend is
  called; a leader-only request to another node is answered
  FAILED_PRECONDITION with the leader's id and admin address in trailing
  metadata. The server runs on the runtime's event loop, so the backend is
  never called from another thread.
- ``AdminClient``: a blocking client with one typed method per RPC, returning
  the dataclasses below and raising ``AdminError`` subclasses; it follows
  not-leader answers to the leader (safe: such an answer means nothing was
  proposed).

See docs/admin-api.md for every RPC, its fields and its errors.
"""

from __future__ import annotations

from kv.admin.client import (
    AdminClient,
)
from kv.admin.convert import (
    faults_to_pb,
    membership_from_pb,
    membership_to_pb,
    status_from_pb,
    status_to_pb,
)
from kv.admin.server import (
    AdminServicer,
    serve,
)
from kv.admin.values import (
    META_ERROR,
    META_LEADER_ADDRESS,
    META_LEADER_ID,
    AdminBackend,
    AdminError,
    CaughtUpResult,
    ChangeResult,
    InvalidRequestError,
    NodeAddress,
    NodeStatus,
    NotLeaderError,
    OutcomeUnknownError,
    PeerProgress,
    RefusedError,
    TransferResult,
    caught_up,
    core_status,
)

__all__ = [
    "META_ERROR",
    "META_LEADER_ADDRESS",
    "META_LEADER_ID",
    "AdminBackend",
    "AdminClient",
    "AdminError",
    "AdminServicer",
    "CaughtUpResult",
    "ChangeResult",
    "InvalidRequestError",
    "NodeAddress",
    "NodeStatus",
    "NotLeaderError",
    "OutcomeUnknownError",
    "PeerProgress",
    "RefusedError",
    "TransferResult",
    "caught_up",
    "core_status",
    "faults_to_pb",
    "membership_from_pb",
    "membership_to_pb",
    "serve",
    "status_from_pb",
    "status_to_pb",
]
