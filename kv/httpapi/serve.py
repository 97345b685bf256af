"""Serving an app on a TCP port: one helper for servers, tests and benches.

Port 0 asks the OS for a free port; the bound URL is returned, so nothing
has to pick a port in advance and race for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


async def start(
    app: web.Application, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, str]:
    """Start serving ``app``; returns the runner (``await runner.cleanup()``
    stops it) and the base URL ``http://host:port``."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0]
    return runner, f"http://{bound[0]}:{bound[1]}"


@asynccontextmanager
async def serving(
    app: web.Application, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """``async with serving(app) as url:`` -- stopped on exit."""
    runner, url = await start(app, host, port)
    try:
        yield url
    finally:
        await runner.cleanup()
