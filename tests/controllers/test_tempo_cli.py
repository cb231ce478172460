"""`textconductor tempo` and `notes-out` from the command line: a user's mistake is one line and
exit 2; a steady tempo plays the (fake) engine on the grid through a real socket."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakes import FakeEngine

ROOT = Path(__file__).resolve().parents[2]


def tc(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "textconductor", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


@pytest.mark.parametrize(("args", "said"), [
    (["tempo"], "give a clock: --midi-clock PORT, --link, or --bpm BPM"),
    (["tempo", "--bpm", "120", "--chars-per-beat", "100"], "characters per beat must be in"),
    (["tempo", "--bpm", "1000"], "tempo must be 20..400 BPM"),
    (["tempo", "--bpm", "120", "--bars-newline", "--beats-per-bar", "3", "--bar-window", "4"],
     "the window must be within a bar"),
    (["notes-out"], "nothing to send to"),
])
def test_mistakes_are_one_line_and_exit_2(args, said):
    r = tc(*args)
    assert r.returncode == 2, r.stderr
    assert said in r.stderr and "Traceback" not in r.stderr


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a script's background job


@pytest.mark.parametrize("background", [False, True])
def test_a_steady_tempo_plays_the_engine_on_the_grid(background):
    """...and SIGINT stops it cleanly, also when it was started with SIGINT ignored (cli._interruptible)."""
    engine = FakeEngine()
    proc = subprocess.Popen([sys.executable, "-m", "textconductor", "tempo", "--bpm", "240", "--chars-per-beat", "2",
                             "--engine", f"127.0.0.1:{engine.port}"], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_ignore_sigint if background else None)
    try:
        cmds = engine.wait_commands(12, timeout=30)
        t0 = time.monotonic()
        n0 = sum(c.name == "advance" and c.args == (1,) for c in engine.commands)
        time.sleep(2.0)
        n1 = sum(c.name == "advance" and c.args == (1,) for c in engine.commands)
        rate = (n1 - n0) / (time.monotonic() - t0)
        assert rate == pytest.approx(8.0, abs=1.0)  # 240 BPM x 2 chars a beat
        assert any(c.name == "rate" and c.args == (8.0,) for c in engine.commands)
        assert cmds
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        engine.close()
    assert proc.returncode == 0, err
