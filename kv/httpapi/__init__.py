"""The client-facing HTTP API, written once for every store behind it.

``make_app(service)`` (``kv.httpapi.app``) serves docs/http-api.md over any
``KVService`` (``kv.httpapi.service``): raftlab's node runtime, the
single-node ``LocalService`` and the PySyncObj peer (``kv.reference``).
``LogService`` (``kv.httpapi.logservice``) holds the translation of writes
into ``kv.commands`` that log-backed services share.
"""

from kv.httpapi.app import FORWARDED_HEADER, make_app
from kv.httpapi.local import LocalService
from kv.httpapi.logservice import LogService
from kv.httpapi.service import (
    CasOutcome,
    Health,
    KVService,
    NotLeader,
    ServiceError,
    Session,
    StaleRequest,
    Timeout,
    Unavailable,
)
from kv.httpapi.validate import CLIENT_HEADER, SEQ_HEADER, Limits

__all__ = [
    "CLIENT_HEADER",
    "FORWARDED_HEADER",
    "SEQ_HEADER",
    "CasOutcome",
    "Health",
    "KVService",
    "Limits",
    "LocalService",
    "LogService",
    "NotLeader",
    "ServiceError",
    "Session",
    "StaleRequest",
    "Timeout",
    "Unavailable",
    "make_app",
]
