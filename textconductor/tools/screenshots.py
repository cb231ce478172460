"""`textconductor screenshots`: PNGs of the windows fed by a real engine, for the docs.

A tool on top of the frontend: it may start an engine subprocess (the frontend itself never does),
and it drives the window from outside until enough text has been generated.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

from textconductor.cli.window_controllers import real_controllers
from textconductor.errors import UserError
from textconductor.frontend.app import build_window, qapp

log = logging.getLogger(__name__)


def start_engine(checkpoints: list[str], port: int, seed: int = 1, rate: float = 30.0,
                 extra: list[str] | None = None) -> subprocess.Popen:
    """`textconductor engine` in a subprocess (the frontend process itself stays torch-free)."""
    cmd = [sys.executable, "-m", "textconductor", "engine", "--checkpoints", *checkpoints, "--port", str(port),
           "--seed", str(seed), "--rate", str(rate), *(extra or [])]
    log.info("starting engine: %s", " ".join(cmd[3:]))
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pump_until(pred, timeout: float) -> bool:
    from PySide6.QtWidgets import QApplication
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        QApplication.processEvents()
        if pred():
            return True
        time.sleep(0.005)
    return False


def take_screenshots(out_dir: Path, engine: str | None = None, checkpoints: list[str] | None = None,
                     chars: int = 600, weights: dict[str, float] | None = None, timeout: float = 120.0,
                     size: tuple[int, int] = (1920, 1080)) -> list[Path]:
    """PNGs of the main window (default, fullscreen, talk) and the output window, fed by a real engine.

    Either connects to a running engine (`engine` HOST:PORT) or starts one on `checkpoints`. Waits
    until `chars` characters have been generated so the text and bars show a real performance.
    """
    app = qapp()
    proc = None
    if engine is None:
        if not checkpoints:
            raise UserError("screenshots need a running engine (--engine) or checkpoints to start one")
        port = free_udp_port()
        proc = start_engine(checkpoints, port, rate=200.0)
        engine = f"127.0.0.1:{port}"
    out_dir.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    try:
        for name, kw in (("default", {}), ("talk", {"talk": True}), ("fullscreen", {"fullscreen": True})):
            win = build_window(engine, 0, presets_path=out_dir / ".presets-unused.json",
                               controllers=real_controllers(), **kw)
            win.resize(*size)
            win.show()
            if not _pump_until(lambda w=win: bool(w.names), timeout):
                raise UserError(f"no /tc/hello from the engine at {engine} within {timeout:g} s")
            if name == "default" and weights:
                win.set_weights(weights)
                win.control("reset")  # the text shows this mix alone, not what the engine wrote before
            start = win.ticks_received
            if not _pump_until(lambda w=win, s=start: w.ticks_received - s >= chars, timeout):
                raise UserError(f"the engine generated fewer than {chars} characters in {timeout:g} s")
            _pump_until(lambda: False, 0.3)
            path = out_dir / f"{name}.png"
            win.grab().save(str(path))
            shots.append(path)
            if name == "default":
                out = win.show_output_window(True)
                out.resize(*size)
                _pump_until(lambda: False, 0.3)
                path = out_dir / "output-window.png"
                out.grab().save(str(path))
                shots.append(path)
            win.close()
            app.processEvents()
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return shots
