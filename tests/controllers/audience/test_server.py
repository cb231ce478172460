"""The audience server on a real loopback port with real websocket clients: the room code, the
aggregation sent to the engine, the rate limit, the cap, and every kind of bad input counted."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import numpy as np
import pytest

from tests.controllers.audience.conftest import Recorder, phone, running, until
from textconductor.controllers.audience.inbox import MAX_FRAME, TokenBucket, parse_frame
from textconductor.controllers.audience.room import AllowNets
from textconductor.controllers.audience.server import CLOSE_FLOOD, CLOSE_FULL, AudienceServer, AudienceSettings
from textconductor.errors import UserError
from textconductor.protocol.messages import CrowdState, Tick
from textconductor.protocol.puck_geometry import style_positions

NAMES = ["a", "b", "c", "d"]
TOP, RIGHT, BOTTOM = (0.0, 1.0), (1.0, 0.0), (0.0, -1.0)  # styles a, b, c of four


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def move(x, y):
    return json.dumps({"t": "move", "x": x, "y": y})


def test_the_room_code_is_required():
    async def go():
        s = AudienceServer(AudienceSettings())
        async with running(s, NAMES) as base, aiohttp.ClientSession() as http:
            root = base.split("/r/")[0]
            assert (await http.get(base + "/")).status == 200
            assert (await http.get(base + "/app.js")).status == 200
            assert (await http.get(root + "/r/" + "x" * 8 + "/")).status == 404
            assert (await http.get(root + "/")).status == 404
            assert (await http.get(base + "/../../etc/passwd")).status == 404
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await http.ws_connect(root + "/r/wrongcode/ws")
            assert s.phones == {}
            r = s.rejected.snapshot()
            assert r["wrong room code"] == 2 and r["not found"] >= 2
    run(go())


def test_phones_pull_the_crowd_and_see_their_own_pull():
    async def go():
        rec = Recorder()
        s = AudienceServer(AudienceSettings(broadcast_hz=20), rec)
        async with running(s, NAMES) as base, aiohttp.ClientSession() as http:
            p1, p2 = await phone(http, base), await phone(http, base)
            await p1.send_str(move(*TOP))
            await p2.send_str(move(*BOTTOM))
            await until(lambda: rec.of("/tc/crowd") and rec.of("/tc/crowd")[-1] == (0.5, 0.0, 0.5, 0.0))
            while True:
                m = json.loads((await p1.receive(timeout=5)).data)
                if m["t"] == "room" and m["mine"] is not None and m["phones"] == 2:
                    break
            assert m["mine"] == [1.0, 0.0, 0.0, 0.0] and m["crowd"] == [0.5, 0.0, 0.5, 0.0]
            points = rec.of("/tc/crowd_points")
            await until(lambda: len(rec.of("/tc/crowd_points")) > len(points))
            phones, connected, blob = rec.of("/tc/crowd_points")[-1]
            assert (phones, connected) == (2, 2)
            assert sorted(np.frombuffer(blob, "<f4").reshape(-1, 2).round(3).tolist()) == [[0, -1], [0, 1]]
            await p2.close()  # a phone that leaves stops counting at once
            await until(lambda: rec.of("/tc/crowd")[-1] == (1.0, 0.0, 0.0, 0.0))
            # a puck between styles: the window's inverse-distance law
            x, y = 0.3, 0.2
            await p1.send_str(move(x, y))
            from textconductor.protocol.puck_geometry import puck_weights
            want = puck_weights((x, y), style_positions(4), s.theme["snap_radius"])
            await until(lambda: np.allclose(rec.of("/tc/crowd")[-1], want))
    run(go())


def test_text_and_the_performers_choice_reach_the_phones():
    async def go():
        s = AudienceServer(AudienceSettings(broadcast_hz=20), Recorder())
        async with running(s, NAMES) as base, aiohttp.ClientSession() as http:
            p = await phone(http, base)
            z = np.zeros(4, np.float32)
            for ch in "Hello":
                s.learn(Tick(0, ch, z, np.zeros(97, np.float32), np.zeros(0, np.int32), np.zeros((0, 97), np.float32),
                             z))
            s.learn(CrowdState("blend", 0.3, z))
            text = ""
            while "Hello" not in text:
                m = json.loads((await p.receive(timeout=5)).data)
                text += m.get("text", "")
            assert (m["mode"], m["blend"]) == ("blend", 0.3)
    run(go())


def test_rate_limit_drops_and_counts_and_a_flood_is_closed():
    async def go():
        rec = Recorder()
        s = AudienceServer(AudienceSettings(move_rate=20, move_burst=20, flood_close=100), rec)
        async with running(s, NAMES) as base, aiohttp.ClientSession() as http:
            p = await phone(http, base)
            for _ in range(60):
                await p.send_str(move(*RIGHT))
            await until(lambda: s.counts["frames"] == 60)
            limited = s.rejected.snapshot()["rate limited"]
            assert 35 <= limited <= 40 and s.counts["moves"] == 60 - limited
            assert not p.closed
            for _ in range(200):
                await p.send_str("{}")
            msg = await p.receive(timeout=5)
            while msg.type == aiohttp.WSMsgType.TEXT:
                msg = await p.receive(timeout=5)
            assert p.close_code == CLOSE_FLOOD
            assert s.rejected.snapshot()["flood: connection closed"] == 1
            await until(lambda: not s.phones)
            assert (await phone(http, base)) is not None  # the server serves the next phone
    run(go())


def test_the_cap_turns_the_next_phone_away_and_keeps_the_room():
    async def go():
        s = AudienceServer(AudienceSettings(max_phones=2), Recorder())
        async with running(s, NAMES) as base, aiohttp.ClientSession() as http:
            p1, _p2 = await phone(http, base), await phone(http, base)
            late = await http.ws_connect(base + "/ws")
            assert json.loads((await late.receive(timeout=5)).data) == {"t": "full", "max": 2}
            assert (await late.receive(timeout=5)).type == aiohttp.WSMsgType.CLOSE and late.close_code == CLOSE_FULL
            assert s.rejected.snapshot()["room full"] == 1 and len(s.phones) == 2
            await p1.send_str(move(*TOP))
            await until(lambda: s.counts["moves"] == 1)
            await p1.close()
            await until(lambda: len(s.phones) == 1)
            assert await phone(http, base) is not None  # a place freed: the next one joins
    run(go())


BAD = [
    ("{not json", "bad JSON"),
    ('{"t": "move", "x": NaN, "y": 0}', "NaN or infinite"),
    ('{"t": "move", "x": 1e400, "y": 0}', "NaN or infinite"),
    ('{"t": "move", "x": -Infinity, "y": 0}', "NaN or infinite"),
    ('{"t": "move", "x": 5, "y": 0}', "out of range"),
    ('{"t": "move", "x": "1", "y": 0}', "coordinate is not a number"),
    ('{"t": "move", "x": true, "y": 0}', "coordinate is not a number"),
    ('{"t": "move", "y": 0}', "coordinate is not a number"),
    ("[1, 2]", "not an object"),
    ('{"t": "weights", "w": [1]}', "unknown message type"),
    ('{"t": "prime", "text": "hello"}', "prime not allowed"),
    ("x" * (MAX_FRAME + 1), "oversized frame"),
    ("[" * 400, "bad JSON"),
]


def test_every_bad_frame_is_counted_and_never_fatal():
    async def go():
        rec = Recorder()
        s = AudienceServer(AudienceSettings(), rec)
        async with running(s, NAMES) as base, aiohttp.ClientSession() as http:
            p = await phone(http, base)
            for text, _ in BAD:
                await p.send_str(text)
            await p.send_bytes(b"\x00\x01")
            await p.send_str(move(*TOP))
            await until(lambda: s.counts["moves"] == 1)
            want: dict[str, int] = {"binary frame": 1}
            for _, reason in BAD:
                want[reason] = want.get(reason, 0) + 1
            assert s.rejected.snapshot() == want
            assert not p.closed and rec.of("/tc/prime") == []
            await p.send_str("y" * 70_000)  # past the websocket's own limit: that connection is closed
            while (await p.receive(timeout=5)).type == aiohttp.WSMsgType.TEXT:
                pass
            await until(lambda: s.rejected.snapshot().get("oversized frame (closed)") == 1)
            assert await phone(http, base) is not None
    run(go())


def test_prime_only_when_allowed_and_then_rate_limited():
    async def go():
        rec = Recorder()
        s = AudienceServer(AudienceSettings(allow_prime=True), rec)
        async with running(s, NAMES) as base, aiohttp.ClientSession() as http:
            p = await phone(http, base)
            await p.send_str(json.dumps({"t": "prime", "text": "And the room said"}))
            await p.send_str(json.dumps({"t": "prime", "text": "again at once"}))
            await p.send_str(json.dumps({"t": "prime", "text": "x" * 141}))
            await until(lambda: s.counts["frames"] == 3)
            assert rec.of("/tc/prime") == [("And the room said",)]
            assert s.rejected.snapshot() == {"prime rate limited": 1, "prime text too long": 1}
    run(go())


def test_silent_phones_time_out_and_the_room_empties():
    async def go():
        rec = Recorder()
        s = AudienceServer(AudienceSettings(stale_s=0.4, broadcast_hz=20), rec)
        async with running(s, NAMES) as base, aiohttp.ClientSession() as http:
            p = await phone(http, base)
            await p.send_str(move(*TOP))
            await until(lambda: rec.of("/tc/crowd")[-1] == (1.0, 0.0, 0.0, 0.0))
            await until(lambda: rec.of("/tc/crowd")[-1] == (0.0, 0.0, 0.0, 0.0), timeout=3)
            assert not p.closed  # timed out of the mix, still connected: its next move counts again
            await p.send_str(move(*RIGHT))
            await until(lambda: rec.of("/tc/crowd")[-1] == (0.0, 1.0, 0.0, 0.0))
    run(go())


def test_allow_list_follows_the_engines_rule():
    assert "10.1.2.3" in AllowNets("127.0.0.1", ())
    with pytest.raises(UserError, match="needs --allow"):
        AllowNets("0.0.0.0", ())
    nets = AllowNets("0.0.0.0", ("192.168.1.0/24",))
    assert "192.168.1.77" in nets and "127.0.0.1" in nets and "192.168.2.1" not in nets and "junk" not in nets
    with pytest.raises(UserError, match="not an address or network"):
        AllowNets("0.0.0.0", ("nonsense/99",))


def test_token_bucket_and_frame_parser_units():
    b = TokenBucket(rate=10, burst=2, now=0.0)
    assert [b.allow(0.0) for _ in range(3)] == [True, True, False]
    assert b.allow(0.1) and not b.allow(0.1)
    assert parse_frame(move(2.0 ** -0.5 * 1.2, 2.0 ** -0.5 * 1.2)).x == pytest.approx(2.0 ** -0.5 * 1.15)
