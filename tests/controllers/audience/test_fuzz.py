"""The fuzz of `bench audience --fuzz`, small, against the real server: every hostile request and frame
is accounted for by the server's counters, and none is fatal. And the latency matching the bench uses."""

from __future__ import annotations

import asyncio

import numpy as np

from tests.controllers.audience.conftest import Recorder, phone, running
from textconductor.controllers.audience.server import AudienceServer, AudienceSettings
from textconductor.tools.bench_audience import latencies
from textconductor.tools.fuzz_audience import compare, fuzz


def test_hostile_traffic_is_counted_reason_by_reason_and_never_fatal():
    async def go():
        import aiohttp
        s = AudienceServer(AudienceSettings(), Recorder())
        async with running(s, ["a", "b", "c"]) as base:
            want = await fuzz(base + "/", total=1500, seed=3)
            await asyncio.sleep(0.3)
            ok, lines = compare(want, s.counters())
            assert ok, "\n".join(lines)
            assert want["sent"] == 1500 and len(want) > 8
            async with aiohttp.ClientSession() as http:
                assert await phone(http, base) is not None  # still serving
    asyncio.run(asyncio.wait_for(go(), 120))


def test_compare_catches_a_miscount():
    want = {"bad JSON": 3, "wrong room code": 2, "moves or rate limited": 10, "sent": 15}
    good = {"accepted": {"moves": 6}, "rejected": {"bad JSON": 2, "wrong room code": 2, "rate limited": 5}}
    assert compare(want, good)[0]
    assert not compare(want, {**good, "rejected": {**good["rejected"], "wrong room code": 1}})[0]
    assert not compare(want, {**good, "rejected": {**good["rejected"], "bad JSON": 4}})[0]
    assert not compare(want, {**good, "accepted": {"moves": 9}})[0]
    assert not compare(want, {**good, "rejected": {**good["rejected"], "surprise": 1}})[0]


def test_latency_is_the_first_applied_crowd_that_shows_the_jump():
    seen = [(0.0, 0.20), (1.0, 0.20), (1.03, 0.25), (2.0, 0.25), (2.05, 0.20)]
    sends = [(1.0, 0), (2.0, 1), (3.0, 0)]  # to the style at 1.0, away at 2.0, a jump never applied at 3.0
    np.testing.assert_allclose(latencies(sends, seen), [30.0, 50.0], atol=1e-6)
