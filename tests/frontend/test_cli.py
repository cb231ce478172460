"""`textconductor ui` as a user runs it: a subprocess that subscribes, and quits cleanly on Ctrl+C
(unsubscribing, so the engine stops sending to a dead port)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def wait_for(fake, name: str, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(c.name == name for c in fake.poll()):
            return True
        time.sleep(0.05)
    return False


def test_ui_subscribes_and_quits_on_ctrl_c(fake_engine, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TEXTCONDUCTOR_PRESETS=str(tmp_path / "p.json"))
    proc = subprocess.Popen([sys.executable, "-m", "textconductor", "ui", "--engine", f"127.0.0.1:{fake_engine.port}"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(fake_engine, "subscribe", 30), "the window never subscribed"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0  # generous: a loaded CI machine starts Qt slowly
        assert wait_for(fake_engine, "unsubscribe", 5)
        out = proc.stdout.read()
        assert "Traceback" not in out, out
    finally:
        if proc.poll() is None:
            proc.kill()


def test_ui_without_a_display_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    r = subprocess.run([sys.executable, "-m", "textconductor", "ui"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "no display" in r.stderr
