"""A room of simulated phones for the audience benchmark: lean websocket clients on asyncio protocols.

At a venue every phone brings its own CPU; here one process must stand in for hundreds of them on a
shared 2-core machine, so a phone must cost almost nothing, or the benchmark measures the simulator
(aiohttp's client managed ~1,500 of 4,000 moves a second for 200 phones here). So each phone is a
plain asyncio protocol speaking RFC 6455 by hand: one HTTP upgrade, then every move is a frame built
once (a masked text frame; the mask key may be any value, zero included) and written to the transport.
What the server sends is parsed only far enough to answer its pings (aiohttp's heartbeat) and to
count frames; the phone never blocks on it. Moves are never sent in bursts to catch up after a stall:
like the page's throttle, a late phone skips to now.

    python -m textconductor.tools.sim_phones URL N SECONDS N_STYLES ACTIVE,... [JITTER]

prints one JSON line: phones connected, moves sent, frames received, errors.
"""

from __future__ import annotations

import asyncio
import json
import math
import struct
import sys
import time
from urllib.parse import urlsplit

SEND_HZ = 20.0
JITTER = 0.04  # inside a style's snap circle (24 styles: radius ~0.09): the puck's weights are exact there


def frame(text: str, opcode: int = 0x1) -> bytes:
    """A client frame (FIN, masked with the zero key) carrying `text`."""
    data = text.encode()
    n = len(data)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + b"\x00\x00\x00\x00" + data


def position(n_styles: int, active: list[int], n: int, k: int, t: float, jitter: float = JITTER) -> tuple[float, float]:
    """Phone k circles its style (active[k % len]) once every 2 s; beyond JITTER, a loose cloud for a picture."""
    from textconductor.protocol.puck_geometry import style_positions
    cx, cy = style_positions(n_styles)[active[k % len(active)]]
    phase = 2 * math.pi * (k / n + t / 2.0)
    if jitter <= JITTER:
        return float(cx + jitter * math.cos(phase)), float(cy + jitter * math.sin(phase))
    r = jitter * (0.4 + 0.6 * ((k * 7919) % 97) / 97)
    return float(cx * (1 - r) + 0.6 * r * math.cos(phase)), float(cy * (1 - r) + 0.6 * r * math.sin(phase))


class Phone(asyncio.Protocol):
    def __init__(self, request: bytes) -> None:
        self.request = request
        self.transport: asyncio.Transport | None = None
        self.open = asyncio.get_running_loop().create_future()
        self.buf = b""
        self.upgraded = False
        self.received = 0
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            ok = self.buf.startswith(b"HTTP/1.1 101")
            self.buf = self.buf[end + 4:]
            self.upgraded = ok
            if not self.open.done():
                self.open.set_result(ok) if ok else self.open.set_exception(ConnectionError("upgrade refused"))
        while len(self.buf) >= 2:  # server frames are unmasked
            op, n = self.buf[0] & 0x0F, self.buf[1] & 0x7F
            at = 2
            if n == 126:
                if len(self.buf) < 4:
                    return
                n, at = struct.unpack("!H", self.buf[2:4])[0], 4
            elif n == 127:
                if len(self.buf) < 10:
                    return
                n, at = struct.unpack("!Q", self.buf[2:10])[0], 10
            if len(self.buf) < at + n:
                return
            payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
            self.received += 1
            if op == 0x9 and self.transport is not None:  # ping: pong with its payload
                self.transport.write(frame(payload.decode("latin-1"), 0xA))
            elif op == 0x8:
                self.closed = True

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.open.done():
            self.open.set_exception(ConnectionError(str(exc or "closed")))

    def send(self, data: bytes) -> bool:
        if self.closed or self.transport is None or self.transport.is_closing():
            return False
        self.transport.write(data)
        return True


async def room(url: str, n: int, seconds: float, n_styles: int, active: list[int], jitter: float = JITTER) -> dict:
    u = urlsplit(url)
    path = u.path.rstrip("/") + "/ws"
    request = (f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    lap = int(SEND_HZ * 2)
    frames = [[frame(json.dumps({"t": "move", "x": round(x, 4), "y": round(y, 4)}))
               for x, y in (position(n_styles, active, n, k, j / SEND_HZ, jitter) for j in range(lap))]
              for k in range(n)]
    phones: list[Phone] = []
    errors = 0
    for chunk in range(0, n, 50):
        made = await asyncio.gather(*[loop.create_connection(lambda: Phone(request), u.hostname, u.port)
                                      for _ in range(chunk, min(n, chunk + 50))], return_exceptions=True)
        for m in made:
            if isinstance(m, BaseException):
                errors += 1
                continue
            p = m[1]
            try:
                await asyncio.wait_for(p.open, 10)
                phones.append(p)
            except (ConnectionError, TimeoutError):
                errors += 1
    sent, slices = 0, 5
    step = 1.0 / SEND_HZ / slices
    start = time.monotonic()
    last = -1
    while (now := time.monotonic()) - start < seconds:
        i = int((now - start) / step)
        for ii in range(max(last + 1, i - slices + 1), i + 1):  # late: each phone once, never a burst
            part, j = ii % slices, (ii // slices) % lap
            for k in range(part, len(phones), slices):
                if phones[k].send(frames[k][j]):
                    sent += 1
        last = i
        await asyncio.sleep(max(0.0, start + (i + 1) * step - time.monotonic()))
    closing = frame("", 0x8)
    for p in phones:
        p.send(closing)
        if p.transport is not None:
            p.transport.close()
    return {"phones": n, "connected": len(phones), "sent": sent, "errors": errors, "seconds": seconds,
            "received": sum(p.received for p in phones)}


def main(argv: list[str]) -> None:
    url, n, seconds, n_styles, active = argv[0], int(argv[1]), float(argv[2]), int(argv[3]), argv[4]
    jitter = float(argv[5]) if len(argv) > 5 else JITTER
    out = asyncio.run(room(url, n, seconds, n_styles, [int(a) for a in active.split(",")], jitter))
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
