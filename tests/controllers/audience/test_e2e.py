"""End to end on loopback: websocket phones -> the audience server -> a real engine (the bundled bank,
in this process, on a real UDP socket) whose weights move when the performer hands the piece over."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import numpy as np
import pytest

from tests.controllers.audience.conftest import phone, running, until
from tests.fakes import EngineProbe
from textconductor.controllers.audience.server import AudienceServer, AudienceSettings
from textconductor.protocol import CrowdState, EngineConnection, Tick, decode_output
from textconductor.protocol.puck_geometry import style_positions


def test_phones_move_the_engines_weights(live_engine):
    port = live_engine.sock.address[1]
    names = live_engine.conductor.names
    probe = EngineProbe(port)
    probe.send("/tc/subscribe", probe.port)
    probe.wait_for("/tc/hello")
    connection = EngineConnection("127.0.0.1", port, subscribe=True)
    server = AudienceServer(AudienceSettings(), connection)
    connection.on_message = server.on_engine
    at = {n: tuple(p) for n, p in zip(names, style_positions(len(names)), strict=True)}

    def tick_weights() -> np.ndarray:
        return probe_tick(probe).weights

    async def go():
        async with running(server) as base, aiohttp.ClientSession() as http:
            await until(lambda: server.bank == names, timeout=15)  # learned from the engine's hello
            phones = [await phone(http, base) for _ in range(3)]
            for p in phones[:2]:
                await p.send_str(json.dumps({"t": "move", "x": at["linux"][0], "y": at["linux"][1]}))
            await phones[2].send_str(json.dumps({"t": "move", "x": at["austen"][0], "y": at["austen"][1]}))
            linux = names.index("linux")
            await until(lambda: server._last_crowd_sent is not None and server._last_crowd_sent[linux] > 0.6)
            await asyncio.sleep(0.2)
            # off: the room is heard by nobody; the performer's bible plays on
            assert tick_weights()[names.index("bible")] == pytest.approx(1.0)
            probe.send("/tc/crowd_mode", "crowd")
            w = await asyncio.to_thread(wait_tick, probe, lambda w: w[names.index("linux")] > 0.6)
            assert w[names.index("linux")] == pytest.approx(2 / 3, abs=1e-3)
            assert w[names.index("austen")] == pytest.approx(1 / 3, abs=1e-3)
            assert w[names.index("bible")] == 0.0
            # a phone moves: the engine follows
            await phones[2].send_str(json.dumps({"t": "move", "x": at["apollo"][0], "y": at["apollo"][1]}))
            w = await asyncio.to_thread(wait_tick, probe, lambda w: w[names.index("apollo")] > 0.3)
            assert w[names.index("austen")] == 0.0
            probe.send("/tc/crowd_mode", "blend", 0.5)
            w = await asyncio.to_thread(wait_tick, probe, lambda w: w[names.index("bible")] > 0.4)
            assert w[names.index("bible")] == pytest.approx(0.5, abs=1e-3)
            assert w[names.index("linux")] == pytest.approx(1 / 3, abs=1e-3)
            state = await asyncio.to_thread(lambda: CrowdState.decode(probe.wait_for(
                "/tc/crowd_state", lambda a: a[0] == "blend")))
            assert state.weights[names.index("linux")] == pytest.approx(2 / 3, abs=1e-3)
            # the phones learn the performer's choice and see the text stream
            seen, text = None, ""
            while seen != "blend" or len(text) < 5:
                m = json.loads((await phones[0].receive(timeout=5)).data)
                seen, text = m.get("mode"), text + m.get("text", "")
            # take it back: everyone leaves; the crowd empties and the performer alone plays, even in crowd mode
            probe.send("/tc/crowd_mode", "crowd")
            for p in phones:
                await p.close()
            w = await asyncio.to_thread(wait_tick, probe, lambda w: w[names.index("bible")] > 0.99)
            probe.send("/tc/crowd_mode", "off")
            assert live_engine.conductor.crowd.weights is None or server.counters()["counting"] == 0

    try:
        asyncio.run(asyncio.wait_for(go(), 90))
    finally:
        connection.close()
        probe.close()


def probe_tick(probe: EngineProbe) -> Tick:
    return decode_output("/tc/tick", probe.wait_for("/tc/tick"))


def wait_tick(probe: EngineProbe, predicate) -> np.ndarray:
    """The effective weights of the first tick for which `predicate(weights)` holds."""
    return decode_output("/tc/tick", probe.wait_for("/tc/tick", lambda a: predicate(
        decode_output("/tc/tick", a).weights))).weights
