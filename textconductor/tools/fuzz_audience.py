"""`textconductor bench audience --fuzz`: hostile traffic at a running audience server while the engine
plays. Every request and frame is sent knowing what the server must answer; at the end the server's
own counters (logged as it stops) must equal what was sent, reason by reason, and the engine's longest
gap between characters says whether the performance paused.

The mix (10,000 by default): HTTP requests with wrong room codes or unknown paths; websocket handshakes
with a wrong code; frames that are bad JSON, NaN or infinite, out of range, not objects, unknown types,
primes (not allowed), binary, over the frame limit, or past the websocket's own limit (that connection is
closed, as it must be); and floods of good moves far over the per-connection rate, each either taken or
counted as rate limited.
"""

from __future__ import annotations

import asyncio
import json
import random

FRAMES = [  # (frame, the reason the server must count)
    ("{not json", "bad JSON"),
    ('{"t": "move", "x": NaN, "y": 0}', "NaN or infinite"),
    ('{"t": "move", "x": 0, "y": -Infinity}', "NaN or infinite"),
    ('{"t": "move", "x": 9, "y": 0}', "out of range"),
    ('{"t": "move", "x": "0", "y": 0}', "coordinate is not a number"),
    ("[0, 1]", "not an object"),
    ('{"t": "weights", "w": [1, 0]}', "unknown message type"),
    ('{"t": "prime", "text": "let me in"}', "prime not allowed"),
    ("x" * 600, "oversized frame"),
]


async def fuzz(base: str, total: int = 10_000, seed: int = 0) -> dict[str, int]:
    """Send `total` hostile requests and frames at the room `base` (http://HOST:PORT/r/CODE/);
    returns what the server must have counted, by reason (plus 'moves or rate limited')."""
    import aiohttp
    rng = random.Random(seed)
    root, code = base.rstrip("/").rsplit("/r/", 1)
    # Wrong codes that are wrong whatever the random code is (a reversed palindrome, or a last
    # letter swapped for the one it already was, would be the right code and let the stranger in).
    near = code[:-1] + ("b" if code[-1] == "a" else "a")
    reversed_code = code[::-1] if code[::-1] != code else code + "x"
    want: dict[str, int] = {}

    def expect(reason: str, n: int = 1) -> None:
        want[reason] = want.get(reason, 0) + n

    sent = 0
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(base + "ws")
        bad_left = 0
        while sent < total:
            kind = rng.random()
            if kind < 0.10:  # a stranger's HTTP request
                path = rng.choice([f"/r/{reversed_code}/", "/", "/admin", f"/r/{code}x/ws"])
                async with http.get(root + path) as r:
                    await r.read()
                expect("wrong room code" if path.startswith("/r/") and path.count("/") >= 3 else "not found")
                sent += 1
            elif kind < 0.12:  # a websocket with the wrong code
                try:
                    await http.ws_connect(f"{root}/r/{near}/ws")
                except aiohttp.WSServerHandshakeError:
                    pass
                expect("wrong room code")
                sent += 1
            elif kind < 0.13:  # past the websocket's own size limit: that connection is closed
                await ws.send_str("y" * 70_000)
                while (await ws.receive(timeout=10)).type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                                                   aiohttp.WSMsgType.ERROR):
                    pass
                expect("oversized frame (closed)")
                sent += 1
                ws = await http.ws_connect(base + "ws")
                bad_left = 0
            elif kind < 0.20:  # a flood of good moves: taken up to the rate, the rest counted
                n = min(20, total - sent)
                for _ in range(n):
                    await ws.send_str(json.dumps({"t": "move", "x": rng.uniform(-1, 1), "y": rng.uniform(-1, 1)}))
                expect("moves or rate limited", n)
                sent += n
                bad_left += n  # rate-limited ones count towards the flood limit; moves do not (worst case)
            else:
                if rng.random() < 0.05:
                    await ws.send_bytes(b"\x00" * rng.randint(1, 64))
                    expect("binary frame")
                else:
                    frame, reason = rng.choice(FRAMES)
                    await ws.send_str(frame)
                    expect(reason)
                sent += 1
                bad_left += 1
            if bad_left >= 180:  # + a flood of 100 stays below the server's flood limit (300): a fresh connection
                await ws.close()
                ws = await http.ws_connect(base + "ws")
                bad_left = 0
            if sent % 500 == 0:
                await asyncio.sleep(0.02)  # let the rate limit refill a little, as real floods come in waves
        await ws.close()
    want["sent"] = sent
    return want


def compare(want: dict[str, int], counters: dict) -> tuple[bool, list[str]]:
    """(the server accounted for every frame, lines saying how) against its logged counters.

    The rate limit comes first (a flood must not cost parsing), so a bad frame that arrives over the
    rate is counted as `rate limited`, not under its own reason. Every text frame ends as exactly one
    of: a move taken, rate limited, or rejected for its reason. So, exactly: each reason's count is at
    most what was sent of it, and what is missing from the reasons is in `rate limited`. Requests,
    handshakes, binary frames and frames past the websocket's limit never meet the rate limit: exact.
    """
    got = dict(counters.get("rejected", {}))
    moves = counters.get("accepted", {}).get("moves", 0)
    limited = got.pop("rate limited", 0)
    exact = {"wrong room code", "not found", "binary frame", "oversized frame (closed)"}
    lines, ok, missing = [], True, 0
    for reason, n in sorted(want.items()):
        if reason in ("sent", "moves or rate limited"):
            continue
        have = got.pop(reason, 0)
        good = have == n if reason in exact else have <= n
        missing += 0 if reason in exact else n - have
        ok &= good
        lines.append(f"  {reason}: sent {n}, counted {have}" + ("" if good else "  <-- MISMATCH") +
                     ("" if reason in exact or have == n else f" (+{n - have} over the rate)"))
    flood = want.get("moves or rate limited", 0)
    balance = moves + limited == flood + missing
    ok &= balance
    lines.append(f"  good moves in floods: sent {flood}; taken {moves}, rate limited {limited} "
                 f"(= the floods' excess + {missing} bad frames over the rate){'' if balance else '  <-- MISMATCH'}")
    for reason, n in got.items():
        if reason != "flood: connection closed":
            ok = False
        lines.append(f"  {reason}: not sent, counted {n}" + ("" if reason == "flood: connection closed"
                                                             else "  <-- UNEXPECTED"))
    return ok, lines
