"""The audience server: the phone page, its websocket, and the crowd sent to the engine over OSC.

A phone opens http://HOST:PORT/r/ROOM (from the QR code the window shows), gets the page and
a websocket at /r/ROOM/ws. The room code is random per session: without it every path answers
404 (counted), so a passer-by on the venue's network cannot play. Each connection has its own
rate limit (a token bucket: over it, frames are dropped and counted; a connection that keeps
flooding is closed); at most `max_phones` are connected at once, and a phone that comes when the
room is full is told so (websocket close code 4001, the page says "the room is full, trying
again") and counted: the phones already in the room are never pushed out.

To the engine it is a controller like any other, on `EngineConnection` (protocol layer):
`/tc/crowd` carries the room's weights (bank order, all zeros for an empty room) when they
change, at most `crowd_hz` times a second; `/tc/crowd_points` a sample of the phones' positions
for the window's crowd cloud, a few times a second; `/tc/prime` a phone's text, only when the
operator allowed it (the engine's blocklist filters it like any prime). How much the crowd counts
is the performer's choice (`/tc/crowd_mode`), made in the engine: this server never decides it.
From the engine it takes the styles (`/tc/hello`), the text (`/tc/tick`, `/tc/primed`) and the
performer's choice (`/tc/crowd_state`) to show on the phones.

The room itself (phones, crowd, the engine's messages) is `session.RoomSession`; this module is its
HTTP face: the routes, the room-code and allow-list guard, the page's files, and `serve`.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from textconductor.controllers.audience.session import (
    CLOSE_FLOOD,
    CLOSE_FULL,
    CLOSE_IDLE,
    AudienceSettings,
    Phone,
    RoomSession,
    page_theme,
)

__all__ = ["CLOSE_FLOOD", "CLOSE_FULL", "CLOSE_IDLE", "PAGE_DIR", "AudienceServer", "AudienceSettings", "Phone",
           "RoomSession", "page_theme", "serve"]

PAGE_DIR = Path(__file__).resolve().parent / "page"


class AudienceServer(RoomSession):
    """One room behind its web routes: `app()` serves the page and the websocket under /r/ROOM."""

    # -- the app -------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=4096)
        app.router.add_get("/r/{code}", self._to_page)
        app.router.add_get("/r/{code}/", self._page)
        app.router.add_get("/r/{code}/ws", self._websocket)
        app.router.add_get("/r/{code}/{name}", self._static)
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)
        return app

    @property
    def path(self) -> str:
        return f"/r/{self.room_code}"

    @web.middleware
    async def _guard(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        if request.remote not in self.allow:
            self.reject("host not allowed")
            raise web.HTTPForbidden(text="not allowed\n")
        if request.path == "/favicon.ico":  # every browser asks; not a stranger knocking
            return web.Response(status=204)
        code = request.match_info.get("code")
        if code is None or not hmac.compare_digest(code.encode(), self.room_code.encode()):
            self.reject("wrong room code" if code is not None else "not found")
            raise web.HTTPNotFound(text="Scan the QR code on the screen to join.\n")
        return await handler(request)

    async def _to_page(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(self.path + "/")  # the page's own files are relative to the room's folder

    async def _page(self, request: web.Request) -> web.StreamResponse:
        self.counts["pages"] += 1
        return web.FileResponse(PAGE_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in ("app.js", "app.css"):
            self.reject("not found")
            raise web.HTTPNotFound(text="not found\n")
        return web.FileResponse(PAGE_DIR / name)


async def serve(server: AudienceServer, ready: Callable[[str], None] | None = None,
                stop: asyncio.Event | None = None) -> None:
    """Run `server` until `stop` is set (or forever); `ready(base_url)` once it listens."""
    runner = web.AppRunner(server.app(), access_log=None, handle_signals=False)
    await runner.setup()
    s = server.settings
    site = web.TCPSite(runner, s.host, s.port, reuse_address=True)
    try:
        await site.start()
    except OSError as e:
        await runner.cleanup()
        from textconductor.errors import UserError
        raise UserError(f"cannot listen on {s.host}:{s.port}: {e.strerror or e}") from None
    port = site._server.sockets[0].getsockname()[1] if site._server and site._server.sockets else s.port
    if ready:
        ready(f"http://{s.host}:{port}")
    try:
        await (stop.wait() if stop else asyncio.Event().wait())
    finally:
        await runner.cleanup()
