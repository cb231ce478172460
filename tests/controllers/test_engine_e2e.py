"""End to end: MIDI messages and the autopilot drive a real engine process through OscSink."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pytest

from tests.fakes import EngineProbe, free_port
from textconductor.controllers.autopilot import Autopilot
from textconductor.controllers.midi import MidiController, Source
from textconductor.controllers.osc_sink import OscSink
from textconductor.controllers.puck import puck_weights
from textconductor.tools.harness import engine_command, stop_process


@pytest.fixture(scope="module")
def two_styles(tiny_checkpoint, tmp_path_factory):
    """The tiny trained model as two styles ('psalm' and a renamed copy 'code')."""
    from textconductor.model.checkpoint import load_checkpoint, save_checkpoint
    model, meta = load_checkpoint(tiny_checkpoint)
    other = tmp_path_factory.mktemp("e2e") / "code.safetensors"
    save_checkpoint(other, model, dataclasses.replace(meta, name="code"))
    return [tiny_checkpoint, other]


@pytest.fixture(scope="module")
def engine_port(two_styles):
    port = free_port()
    proc = subprocess.Popen(engine_command("--port", port, "--rate", 50, "--seed", 1, "--threads", 1,
                                           checkpoints=two_styles), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    yield port
    stop_process(proc)


def test_midi_and_autopilot_drive_a_real_engine(engine_port):
    sink = OscSink("127.0.0.1", engine_port)
    observer = EngineProbe(engine_port)
    try:
        assert sink.wait_for_engine(60), "the engine did not answer"
        assert sink.enabled_styles() == ["psalm", "code"]
        midi = MidiController()
        midi._sink = sink  # the message path exactly as rtmidi's callback runs it
        midi.handle(mido.Message("control_change", control=0, value=64))
        midi.handle(mido.Message("control_change", control=1, value=127))  # CC 1 -> 2nd style
        midi.mapping.bind(Source("cc", None, 20), "temperature")
        midi.handle(mido.Message("control_change", control=20, value=127))
        hello, params = observer.wait_state(lambda h, p: np.allclose(h.weights, [64 / 127, 1.0])
                                      and abs(p.temperature - 2.0) < 1e-6)
        assert hello.names == ["psalm", "code"]

        clock = [0.0]
        pilot = Autopilot(idle_s=1.0, seed=4, glide_s=0.0, clock=lambda: clock[0])
        pilot.bind(sink)
        clock[0] = 2.0
        x, y = pilot.tick()
        expected = puck_weights(x, y, ["psalm", "code"])
        observer.wait_state(lambda h, p: np.allclose(h.weights, [expected["psalm"], expected["code"]], atol=1e-6))
        assert observer.state()[1].rate == 50.0  # untouched settings stay
    finally:
        sink.close()
        observer.close()


def test_examples_listen_prints_the_engine_text(engine_port):
    r = subprocess.run([sys.executable, "examples/listen.py", "--engine", f"127.0.0.1:{engine_port}", "--port", "0",
                        "--chars", "30", "--timeout", "30", "--why"], capture_output=True, text=True, timeout=90,
                       cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) >= 30 and all(("psalm" in line or "code" in line) for line in lines[:30])
