"""The audience server on a real loopback TCP port, and a websocket phone for it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from tests.fakes import free_port
from textconductor.controllers.audience.server import AudienceServer
from textconductor.protocol.messages import Hello


class Recorder:
    """An `engine` for the server that keeps what it was sent (the OSC it would send): (address, args)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple]] = []

    def send(self, address: str, *args: object) -> None:
        self.sent.append((address, args))

    def of(self, address: str) -> list[tuple]:
        return [a for ad, a in self.sent if ad == address]


@contextlib.asynccontextmanager
async def running(server: AudienceServer, names: list[str] | None = None) -> AsyncIterator[str]:
    """Serve on 127.0.0.1 (a free port); yields the room's base URL (http://127.0.0.1:PORT/r/CODE)."""
    runner = web.AppRunner(server.app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    if names is not None:
        import numpy as np
        server.learn(Hello(list(names), np.ones(len(names), dtype=bool), np.zeros(len(names), np.float32), "hi"))
    try:
        yield f"http://127.0.0.1:{port}{server.path}"
    finally:
        await runner.cleanup()


async def phone(session: aiohttp.ClientSession, base: str) -> aiohttp.ClientWebSocketResponse:
    """A connected phone that has read its hello."""
    ws = await session.ws_connect(base + "/ws")
    hello = json.loads((await ws.receive(timeout=5)).data)
    assert hello["t"] == "hello"
    return ws


async def until(predicate, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


STYLES = ["bible", "austen", "linux", "apollo"]


@pytest.fixture(scope="module")
def live_engine():
    """A real engine (bundled bank, four styles) running its tick loop on a thread, on a loopback UDP port."""
    from textconductor.engine.root import Live, Settings, StyleSource, build_conductor, open_bank, start_engine
    bank, names = open_bank(StyleSource(styles=STYLES), "cpu", threads=1)
    conductor = build_conductor(bank, names, Settings(rate=60.0, seed=2, weights=(("bible", 1.0),)))
    engine = start_engine(conductor, Live(port=free_port()))
    engine.sock.start()
    thread = threading.Thread(target=engine.run, daemon=True)
    thread.start()
    yield engine
    engine.stop()
    thread.join(5)
    engine.close()


class ServerThread:
    """The server on its own event loop thread (for blocking clients such as selenium); `.base` is the room's URL."""

    def __init__(self, server: AudienceServer) -> None:
        from textconductor.controllers.audience.server import serve
        self.server = server
        self.base = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()

        def ready(url: str) -> None:
            self.base = url + server.path
            self._ready.set()

        def main() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve(server, ready, self._stop))

        self._thread = threading.Thread(target=main, daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the audience server did not start"

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
