"""End to end: `textconductor perform` plays a score on a real engine (in-process, bundled bank, recording),
and `replay` of the record writes exactly the text that was performed."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.fakes import free_port
from textconductor.engine.record import read_record
from textconductor.engine.replay import replay
from textconductor.engine.root import Live, Settings, StyleSource, build_conductor, open_bank, start_engine

ROOT = Path(__file__).resolve().parents[2]

# A hard switch after 150 characters, a morph into a product mix, a guard change, a pause and a resume.
SCORE = """
title = "replay test"

[[event]]
at = 0
say = "linux alone"
weights = { linux = 1 }
temperature = 0.7
rate = 250

[[event]]
chars = 150
say = "the switch"
weights = { bible = 1 }
prime = "\\n"

[[event]]
chars = 300
weights = { bible = 0.5, austen = 0.5 }
morph = 0.6
mix = "product"
guard = false

[[event]]
chars = 480
temperature = 0.4
mix = "linear"
guard = true
guard_strength = 0.8

[[event]]
chars = 600
pause = true

[[event]]
at = 3
pause = false

[[event]]
chars = 700
say = "the end"
pause = true
"""


@pytest.fixture(scope="module")
def bundled():
    """Three styles of the bundled bank (the real checkpoints; three keep loading and replay quick)."""
    return open_bank(StyleSource(styles=("linux", "bible", "austen")))


def test_a_performed_score_replays_exactly(bundled, tmp_path):
    bank, names = bundled
    record, score = tmp_path / "perf.jsonl", tmp_path / "s.toml"
    score.write_text(SCORE)
    performed: list[str] = []
    engine = start_engine(build_conductor(bank, names, Settings(rate=100.0, seed=11)),
                          Live(port=0, record=record, echo=performed.append))
    engine.sock.start()
    runner = threading.Thread(target=engine.run, name="engine", daemon=True)
    runner.start()
    try:
        r = subprocess.run([sys.executable, "-m", "textconductor", "perform", str(score), "--engine",
                            f"127.0.0.1:{engine.sock.address[1]}"], capture_output=True, text=True, timeout=120,
                           cwd=ROOT)
    finally:
        engine.stop()
        runner.join(10)
        engine.close()
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:3] == ["linux alone", "the switch", "the end"]  # the score's say lines
    assert "score ended after" in r.stdout

    lines = read_record(record)
    events = [ln for ln in lines if ln["type"] == "event"]
    cmds = [e["cmd"] for e in events]
    for cmd in ("weight", "temperature", "rate", "prime", "mix", "guard", "pause", "resume"):
        assert cmd in cmds, f"{cmd} missing from the record: {cmds}"
    # The hard switch: one bundle, the whole mix, at the 150th character of the score. The score
    # counts from the tick it started at, which the first event (rate) reaches a datagram later: at
    # 250 chars/s a tick or two before or after; the player's polling may add a few more.
    first_rate = next(e["tick"] for e in events if e["cmd"] == "rate")
    switch = [e for e in events if e["cmd"] == "weight" and e["args"] == ["bible", 1.0]]
    assert switch and 145 <= switch[0]["tick"] - first_rate <= 175
    # The morph: weights between its ends, rising.
    austen = [e["args"][1] for e in events if e["cmd"] == "weight" and e["args"][0] == "austen"]
    inside = [w for w in austen if 0.0 < w < 0.5]
    assert len(inside) >= 3 and inside == sorted(inside)
    assert [e["cmd"] for e in events if e["cmd"] in ("pause", "resume")] == ["pause", "resume", "pause"]

    text = "".join(performed)
    assert len(text) >= 700
    result = replay(record)
    assert result.first_mismatch is None, f"replay diverges at tick {result.first_mismatch}"
    assert result.generated == text  # every character, as performed
    assert result.ticks == len(text)


def test_perform_without_an_engine_says_so(tmp_path):
    score = tmp_path / "s.toml"
    score.write_text("[[event]]\nat = 0\nrate = 5\n")
    port = free_port()
    r = subprocess.run([sys.executable, "-m", "textconductor", "perform", str(score), "--engine", f"127.0.0.1:{port}",
                        "--wait", "1"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 2
    assert r.stderr.strip() == (f"textconductor perform: error: no engine answers at 127.0.0.1:{port} (start one "
                                "with `textconductor play` or `textconductor engine`, or name it with --engine "
                                "HOST:PORT)")
