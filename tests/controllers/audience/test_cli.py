"""The commands as a user runs them: `textconductor audience` (URL, QR file, page), and `play --audience`
running the server under the supervisor (same room after a kill -9) with a phone moving the engine."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import aiohttp
import pytest

from tests.engine.conftest import make_bank
from tests.fakes import EngineProbe, free_port
from textconductor.protocol import decode_output
from textconductor.protocol.puck_geometry import style_positions
from textconductor.tools.harness import stop_process


class Lines:
    """A child's output, line by line, on a thread."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        threading.Thread(target=lambda: [self.lines.append(ln) for ln in stream], daemon=True).start()

    def wait(self, text: str, timeout: float = 60, count: int = 1) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hits = [ln for ln in self.lines if text in ln]
            if len(hits) >= count:
                return hits[-1]
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} in:\n{''.join(self.lines)}")


def test_audience_command_serves_the_room_and_writes_the_qr(tmp_path):
    port, qr = free_port(), tmp_path / "room.png"
    proc = subprocess.Popen([sys.executable, "-m", "textconductor", "audience", "--listen", f"127.0.0.1:{port}",
                             "--engine", f"127.0.0.1:{free_port()}", "--room", "stagexyz", "--qr", str(qr),
                             "--no-terminal-qr"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = Lines(proc.stdout)
    try:
        line = out.wait("phones join at")
        url = f"http://127.0.0.1:{port}/r/stagexyz/"
        assert url in line and "at most 300 phones" in line
        out.wait("QR code written")
        assert qr.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.status == 200 and b"app.js" in r.read()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/r/wrongxyz/", timeout=10)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)  # SIGINT stops it
        finally:
            stop_process(proc)  # and it never outlives the test, whatever happened


def test_audience_refuses_the_venue_network_without_an_allow_list():
    r = subprocess.run([sys.executable, "-m", "textconductor", "audience", "--listen", f"0.0.0.0:{free_port()}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "needs --allow" in r.stderr and "Traceback" not in r.stderr


def test_play_with_the_audience_supervises_the_server(tmp_path):
    bank = tmp_path / "bank"
    bank.mkdir()
    make_bank(bank, ["alpha", "beta", "gamma"])
    engine_port, web_port = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, "-m", "textconductor", "play", "--headless", "--no-spare",
                             "--bank", str(bank), "--port", str(engine_port), "--rate", "60", "--no-record",
                             "--state", str(tmp_path / "state.json"), "--audience", f"127.0.0.1:{web_port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TEXTCONDUCTOR_DATA": str(tmp_path / "data")})
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    probe = EngineProbe(engine_port)
    try:
        url = out.wait("play: phones join at").split("at ")[-1].strip()
        assert url.startswith(f"http://127.0.0.1:{web_port}/r/")
        pid = int(err.wait("started audience server").split("pid ")[1].split(")")[0])
        deadline = time.monotonic() + 60
        while not any(a == "/tc/tick" for a, _ in probe.messages(0.3)) and time.monotonic() < deadline:
            probe.send("/tc/subscribe", probe.port)
        probe.send("/tc/crowd_mode", "crowd")
        x, y = style_positions(3)[2]

        async def play_phone() -> None:
            async with aiohttp.ClientSession() as http:
                for _ in range(200):  # the server may still be learning the engine's styles
                    try:
                        ws = await http.ws_connect(url + "ws")
                        break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.1)
                hello = json.loads((await ws.receive(timeout=10)).data)
                while not hello.get("styles"):
                    hello = json.loads((await ws.receive(timeout=10)).data)
                await ws.send_str(json.dumps({"t": "move", "x": float(x), "y": float(y)}))
                await asyncio.to_thread(probe.wait_for, "/tc/tick",
                                        lambda a: decode_output("/tc/tick", a).weights[2] > 0.99, 20)
                await ws.close()

        asyncio.run(asyncio.wait_for(play_phone(), 90))
        os.kill(pid, signal.SIGKILL)  # the server dies: the supervisor brings it back, same room, same URL
        err.wait("started audience server", count=2, timeout=30)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    assert r.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "".join(err.lines)
                time.sleep(0.2)
    finally:
        probe.close()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        finally:
            stop_process(proc)
