"""One audience room, live: the phones on their websockets, the crowd sent to the engine over OSC,
and the engine's text and styles sent back to the phones.

`server.AudienceServer` is this room behind the HTTP routes (the page, the room code, the allow-list);
kept apart so that what a phone may do and what the engine is told reads in one place, without the
web plumbing. Each connection has its own rate limit (a token bucket: over it, frames are dropped and
counted; a connection that keeps flooding is closed); at most `max_phones` are connected at once, and
a phone that comes when the room is full is told so (close code 4001) and counted: the phones
already in the room are never pushed out. `/tc/crowd` carries the room's weights (bank order, all
zeros for an empty room) when they change, at most `crowd_hz` times a second; `/tc/crowd_points` a
sample of the phones' positions for the window's crowd cloud; `/tc/prime` a phone's text, only when
the operator allowed it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web

from textconductor.assets import THEME, load_styles, style_look
from textconductor.controllers.audience.aggregate import (
    POINTS_CAP,
    STALE_S,
    Room,
    by_bank,
    crowd_weights,
    phone_weights,
    sample_points,
)
from textconductor.controllers.audience.inbox import Bad, Move, Ping, Prime, TokenBucket, parse_frame
from textconductor.controllers.audience.room import DEFAULT_AUDIENCE_PORT, AllowNets, new_room_code
from textconductor.protocol.messages import CrowdState, Hello, Primed, Tick
from textconductor.protocol.puck_geometry import style_positions
from textconductor.protocol.ratelimit import RateLimitedLog
from textconductor.protocol.wire import f32_blob

log = logging.getLogger(__name__)

MAX_WS_MESSAGE = 64 * 1024  # aiohttp closes a connection (1009) past this; below it MAX_FRAME is ours
TEXT_TAIL = 600  # characters a phone is shown when it joins
CLOSE_FULL, CLOSE_IDLE, CLOSE_FLOOD = 4001, 4002, 4003
LOG_EVERY_S = 5.0


@dataclass(frozen=True)
class AudienceSettings:
    """Everything the operator can choose (`textconductor audience --help` names each)."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_AUDIENCE_PORT
    allow: tuple[str, ...] = ()  # networks (CIDR) or hosts that may connect; required off loopback
    room: str | None = None  # None: a new random code
    max_phones: int = 300
    stale_s: float = STALE_S
    allow_prime: bool = False
    move_rate: float = 30.0  # frames a second a phone may send on average (the page sends 20)
    move_burst: float = 40.0
    prime_every_s: float = 10.0
    flood_close: int = 300  # rejected frames after which a connection is closed
    idle_close_s: float = 120.0  # a connection silent this long is closed (frees its place)
    crowd_hz: float = 30.0
    broadcast_hz: float = 8.0
    points_hz: float = 4.0
    heartbeat_s: float = 15.0


def page_theme() -> dict[str, Any]:
    """The window's colours and puck settings, read from the same theme file the window reads."""
    with open(THEME, "rb") as f:
        t = tomllib.load(f)
    colours = {k: v for k, v in t["colours"].items() if isinstance(v, str)}
    return {"colours": colours, "palette": t["colours"].get("palette", []),
            "snap_radius": float(t.get("puck", {}).get("snap_radius", 0.18))}


@dataclass
class Phone:
    id: int
    ws: Any  # web.WebSocketResponse
    bucket: TokenBucket
    prime_bucket: TokenBucket
    last_frame: float
    rejected: int = 0
    sending: bool = False
    text: list[str] = field(default_factory=list)  # characters not yet sent to this phone


class RoomSession:
    """One room's live state and logic. `engine` is anything with `send(address, *args)` (an
    `EngineConnection`); messages from the engine come in through `on_engine` (any thread)."""

    def __init__(self, settings: AudienceSettings | None = None, engine: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = s = settings or AudienceSettings()
        self.room_code = s.room or new_room_code()
        self.allow = AllowNets(s.host, s.allow)
        self.engine = engine
        self.clock = clock
        self.room = Room(stale_s=s.stale_s)
        self.phones: dict[int, Phone] = {}
        self.rejected = RateLimitedLog(LOG_EVERY_S)  # per reason; the counters the fuzz checks
        self.counts: Counter[str] = Counter()  # what was accepted: connections, frames, moves, ...
        self.theme = page_theme()
        self.styles_table = load_styles()
        self.bank: list[str] = []  # the engine's styles, bank order
        self.playing: list[str] = []  # the enabled ones: the styles on the puck, in order
        self.mode, self.blend = "off", 0.5
        self.tail = ""  # the text as the phones see it on joining
        self.crowd = np.zeros(0)  # over `playing`
        self.mine: dict[int, np.ndarray] = {}
        self.live_ids: list[int] = []
        self.positions = np.zeros((0, 2))
        self._next_id = 0
        self._last_crowd_sent: list[float] | None = None
        self._last_crowd_t = -1e9
        self._crowd_pending: asyncio.TimerHandle | None = None
        self._points_empty_sent = True
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task] = []

    def reject(self, reason: str) -> None:
        due = self.rejected.add(reason)
        if due:
            log.warning("audience: rejected %d: %s", due.n, reason)

    def counters(self) -> dict[str, Any]:
        return {"accepted": dict(self.counts), "rejected": self.rejected.snapshot(), "connected": len(self.phones),
                "counting": len(self.live_ids)}


    # -- timers ------------------------------------------------------------------------------
    async def _start(self, _app: web.Application) -> None:
        self._loop = asyncio.get_running_loop()
        self._tasks = [asyncio.create_task(self._every(1.0 / self.settings.broadcast_hz, self.broadcast)),
                       asyncio.create_task(self._every(1.0 / self.settings.points_hz, self.send_points))]

    async def _stop(self, _app: web.Application) -> None:
        for t in self._tasks:
            t.cancel()
        for p in list(self.phones.values()):
            await p.ws.close(code=1001, message=b"server stopping")

    async def _every(self, period: float, fn: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(period)
            try:
                result = fn()
                if asyncio.iscoroutine(result):
                    await result
            except Exception as e:  # noqa: BLE001 - a periodic job must never end the server
                log.error("audience: %s failed: %s", getattr(fn, "__name__", fn), e, exc_info=e)

    # -- phones --------------------------------------------------------------------------------
    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        s = self.settings
        ws = web.WebSocketResponse(max_msg_size=MAX_WS_MESSAGE, heartbeat=s.heartbeat_s)
        await ws.prepare(request)
        if len(self.phones) >= s.max_phones:
            self.reject("room full")
            await ws.send_str(json.dumps({"t": "full", "max": s.max_phones}))
            await ws.close(code=CLOSE_FULL, message=b"room full")
            return ws
        now = self.clock()
        self._next_id += 1
        phone = Phone(self._next_id, ws, TokenBucket(s.move_rate, s.move_burst, now),
                      TokenBucket(1.0 / s.prime_every_s, 1.0, now), now)
        self.phones[phone.id] = phone
        self.counts["connections"] += 1
        try:
            await ws.send_str(self.hello_json())
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self.on_frame(phone, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self._bad(phone, "binary frame")
                elif msg.type == WSMsgType.ERROR:
                    self.reject("oversized frame (closed)" if "size" in str(ws.exception()).lower()
                                else "websocket error")
                if phone.rejected >= s.flood_close and not ws.closed:
                    self.reject("flood: connection closed")
                    await ws.close(code=CLOSE_FLOOD, message=b"too many bad or fast messages")
        finally:
            self.phones.pop(phone.id, None)
            self.mine.pop(phone.id, None)
            if self.room.leave(phone.id):
                self.schedule_crowd()
        return ws

    def _bad(self, phone: Phone, reason: str) -> None:
        phone.rejected += 1
        self.reject(reason)

    def on_frame(self, phone: Phone, data: str) -> None:
        """One text frame: rate limit first (a flood must not cost parsing), then validate."""
        now = self.clock()
        self.counts["frames"] += 1
        phone.last_frame = now
        if not phone.bucket.allow(now):
            self._bad(phone, "rate limited")
            return
        item = parse_frame(data)
        if isinstance(item, Bad):
            self._bad(phone, item.reason)
        elif isinstance(item, Move):
            self.counts["moves"] += 1
            self.room.move(phone.id, item.x, item.y, now)
            self.schedule_crowd()
        elif isinstance(item, Ping):
            self.counts["pings"] += 1
            self.room.heard(phone.id, now)
        elif isinstance(item, Prime):
            if not self.settings.allow_prime:
                self._bad(phone, "prime not allowed")
            elif not phone.prime_bucket.allow(now):
                self._bad(phone, "prime rate limited")
            else:
                self.counts["primes"] += 1
                self._send("/tc/prime", item.text)

    # -- the crowd -> the engine ---------------------------------------------------------------
    def schedule_crowd(self) -> None:
        """Aggregate soon: at once if the last was long enough ago, else when `crowd_hz` allows."""
        if self._crowd_pending is not None or self._loop is None:
            return
        delay = max(0.0, self._last_crowd_t + 1.0 / self.settings.crowd_hz - self.clock())
        self._crowd_pending = self._loop.call_later(delay, self.update_crowd)

    def update_crowd(self) -> None:
        """The room's weights now; `/tc/crowd` to the engine when they changed."""
        self._crowd_pending = None
        now = self.clock()
        self._last_crowd_t = now
        ids, pos = self.room.live(now)
        n = len(self.playing)
        w = phone_weights(pos, n, self.theme["snap_radius"]) if n else np.zeros((len(ids), 0))
        self.live_ids, self.positions = ids, pos
        self.mine = dict(zip(ids, w, strict=True))
        self.crowd = crowd_weights(w, n) if n else np.zeros(0)
        if not self.bank:
            return
        bank = by_bank(self.crowd.tolist(), self.playing, self.bank)
        if bank != self._last_crowd_sent:
            self._send("/tc/crowd", *bank)
            self._last_crowd_sent = bank

    def send_points(self) -> None:
        """The cloud for the window: a sample of the positions that count, and the head counts."""
        if not len(self.positions) and self._points_empty_sent:
            return
        self._points_empty_sent = not len(self.positions)
        pts = sample_points(self.positions, POINTS_CAP)
        blob = [f32_blob(pts.reshape(-1))] if len(pts) else []  # OSC has no empty blob: none, no points
        self._send("/tc/crowd_points", len(self.live_ids), len(self.phones), *blob)

    def _send(self, address: str, *args: Any) -> None:
        if self.engine is not None:
            self.engine.send(address, *args)

    # -- the room -> the phones ----------------------------------------------------------------
    def hello_json(self) -> str:
        positions = style_positions(len(self.playing))
        styles = []
        for name, (x, y) in zip(self.playing, positions, strict=True):
            display, colour = style_look(name, self.styles_table, self.theme["palette"])
            styles.append({"name": name, "display": display, "colour": colour, "x": round(float(x), 4),
                           "y": round(float(y), 4)})
        return json.dumps({"t": "hello", "styles": styles, "colours": self.theme["colours"],
                           "snap": self.theme["snap_radius"], "text": self.tail[-TEXT_TAIL:],
                           "prime": self.settings.allow_prime, "mode": self.mode, "blend": self.blend})

    async def broadcast(self) -> None:
        """A few times a second: new text, the room's weights, each phone's own pull; stale phones out."""
        now = self.clock()
        if self.room.expire(now):
            self.update_crowd()
        s = self.settings
        shared = {"t": "room", "crowd": [round(float(v), 3) for v in self.crowd], "mode": self.mode,
                  "blend": round(self.blend, 3), "phones": len(self.live_ids), "connected": len(self.phones)}
        for phone in list(self.phones.values()):
            if now - phone.last_frame > s.idle_close_s:
                self.counts["closed idle"] += 1
                asyncio.ensure_future(phone.ws.close(code=CLOSE_IDLE, message=b"idle"))
                continue
            if phone.sending:
                continue  # a slow phone: it gets the text it missed with the next frame it can take
            mine = self.mine.get(phone.id)
            msg = dict(shared, text="".join(phone.text)[-TEXT_TAIL:],
                       mine=None if mine is None else [round(float(v), 3) for v in mine])
            phone.text.clear()
            phone.sending = True
            asyncio.ensure_future(self._send_to(phone, json.dumps(msg)))

    async def _send_to(self, phone: Phone, data: str) -> None:
        try:
            await phone.ws.send_str(data)
        except (ConnectionError, RuntimeError) as e:
            log.debug("audience: send to phone %d failed: %s", phone.id, e)
        finally:
            phone.sending = False

    # -- the engine -> the room ----------------------------------------------------------------
    def on_engine(self, msg: object) -> None:
        """A decoded engine message, from any thread (EngineConnection's receive thread)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.learn, msg)

    def learn(self, msg: object) -> None:
        if isinstance(msg, Hello):
            enabled = list(msg.enabled) if len(msg.enabled) == len(msg.names) else [True] * len(msg.names)
            playing = [n for n, e in zip(msg.names, enabled, strict=True) if e]
            if not self.tail:
                self.tail = msg.history[-TEXT_TAIL:]
            if list(msg.names) != self.bank or playing != self.playing:
                self.bank, self.playing = list(msg.names), playing
                self._last_crowd_sent = None
                self.update_crowd()
                hello = self.hello_json()
                for phone in list(self.phones.values()):
                    asyncio.ensure_future(phone.ws.send_str(hello))
        elif isinstance(msg, (Tick, Primed)):
            text = msg.char if isinstance(msg, Tick) else msg.text
            self.tail = (self.tail + text)[-TEXT_TAIL:]
            for phone in self.phones.values():
                phone.text.append(text)
                if len(phone.text) > TEXT_TAIL:
                    del phone.text[:-TEXT_TAIL]
        elif isinstance(msg, CrowdState):
            self.mode, self.blend = msg.mode, float(msg.blend)

