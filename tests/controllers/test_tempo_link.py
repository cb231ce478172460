"""Ableton Link: our LinkSource joins a session with a second peer (a stand-in for a DAW), follows
its tempo and places characters on its beat grid.

Link discovers peers by multicast on every interface, so this runs only inside a private network
namespace that holds loopback alone (`unshare -n`, as root), never on the machine's network.
Skipped, saying why, where aalink is not installed or a namespace cannot be made.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import asyncio, json, threading, time
import aalink
from tests.fakes import FakeEngine, wait_for
from textconductor.controllers.tempo.driver import TempoDriver
from textconductor.controllers.tempo.sources import LinkSource
from textconductor.protocol.client import EngineConnection

out = {}
peer_box = {}
def daw():  # the other peer: its own loop, as a DAW is its own process
    async def main():
        peer = aalink.Link(100)
        peer.enabled = True
        peer_box["link"] = peer
        while "stop" not in peer_box:
            await asyncio.sleep(0.02)
    asyncio.run(main())
threading.Thread(target=daw, daemon=True).start()
assert wait_for(lambda: "link" in peer_box, timeout=5)
peer = peer_box["link"]

source = LinkSource(120.0)
source.start()
out["peers"] = wait_for(lambda: source.peers >= 1, timeout=10) and source.peers
out["agreed"] = wait_for(lambda: abs(source.timeline().bpm - peer.tempo) < 0.01, timeout=5)  # one session tempo
out["joined_bpm"], out["peer_bpm"] = source.timeline().bpm, peer.tempo
peer.tempo = 130.0  # the DAW changes tempo
out["followed_bpm"] = wait_for(lambda: abs(source.timeline().bpm - 130) < 0.01, timeout=5) and source.timeline().bpm

engine = FakeEngine()
conn = EngineConnection("127.0.0.1", engine.port, ping=False)
phases = []
driver = TempoDriver(source, conn, 2.0, on_advance=lambda t, n: phases.append(peer.beat * 2 % 1))
driver.start()
time.sleep(2.0)
driver.stop()
out["advances"] = len(phases)
out["phase_error"] = max(min(p, 1 - p) for p in phases)  # of a slot: 0 = exactly on the DAW's grid
out["commands"] = sorted({c.name for c in engine.commands})
conn.close(); engine.close(); source.stop(); peer_box["stop"] = 1
print(json.dumps(out))
"""


def test_link_session_tempo_and_grid():
    pytest.importorskip("aalink", reason="aalink is not installed (pip install 'textconductor[tempo]')")
    if shutil.which("unshare") is None or shutil.which("ip") is None or os.geteuid() != 0:
        pytest.skip("Link is tested only inside `unshare -n` (needs root, unshare and ip)")
    probe = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a private network namespace here: {probe.stderr.strip()[:200]}")
    r = subprocess.run(["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" -c "$1"', sys.executable, CHILD],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["peers"] >= 1
    assert out["agreed"], out  # one session: both peers at one tempo (which one is Link's rule to choose)
    assert out["followed_bpm"] == pytest.approx(130.0, abs=0.01)
    assert out["advances"] == pytest.approx(2 * 130 / 60 * 2, abs=2)  # 2 s at 130 BPM, 2 chars a beat
    assert out["phase_error"] < 0.1, out  # within a tenth of a slot (23 ms) of the DAW's grid
    assert out["commands"] == ["advance", "rate"]
