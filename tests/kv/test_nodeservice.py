"""NodeService's write path: encoded commands (the ``LogService`` contract)
and commands reach the runtime alike, and each reply status becomes the
answer the HTTP API documents."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from kv.commands import Command, encode_command
from kv.httpapi.service import NotLeader, Unavailable
from kv.nodeservice import NodeService
from kv.ports import OK, REDIRECT, RETRY, Reply


class FakeRuntime:
    """Answers every proposal at once with a fixed reply, recording it."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.core = object()
        self.proposed: list[Command] = []

    def propose(self, command: Command, request: Any) -> None:
        self.proposed.append(command)
        request.set_result(self.reply)


def service(reply: Reply) -> tuple[NodeService, FakeRuntime]:
    runtime = FakeRuntime(reply)
    host = SimpleNamespace(runtime=runtime, settle=lambda: None, members=lambda: {})
    return NodeService(host), runtime  # type: ignore[arg-type]


def test_submit_decodes_and_proposes_the_same_command() -> None:
    svc, runtime = service(Reply(OK, True, "old"))
    cmd = Command("put", "k", "v", 7, 3)
    result = asyncio.run(svc.submit(encode_command(cmd)))
    assert runtime.proposed == [cmd]
    assert result is not None and (result.ok, result.value) == (True, "old")


def test_redirect_and_retry_become_service_errors() -> None:
    cmd = Command("delete", "k", None, 7, 1)
    svc, _ = service(Reply(REDIRECT, leader=2))
    with pytest.raises(NotLeader):
        asyncio.run(svc.submit(encode_command(cmd)))
    svc, _ = service(Reply(RETRY))
    with pytest.raises(Unavailable, match="had no effect"):
        asyncio.run(svc.submit_command(cmd))
