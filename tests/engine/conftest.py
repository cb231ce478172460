"""A tiny bank of checkpoints and a real engine process on loopback, for protocol tests."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.fakes import EngineProbe, free_port
from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.model.checkpoint import CheckpointMeta, save_checkpoint

STYLES = ["alpha", "beta", "gamma"]


def make_bank(folder: Path, names=STYLES, hidden=32, layers=2) -> list[Path]:
    """Randomly initialised (untrained) styles: enough to exercise the protocol, fast to make."""
    paths = []
    for i, name in enumerate(names):
        torch.manual_seed(i)
        model = CharLSTM(CharLSTMConfig(layers=layers, hidden=hidden, embed=16))
        with torch.no_grad():
            model.head.weight.mul_(20)  # peaky distributions, so styles differ visibly
        meta = CheckpointMeta(name=name, layers=layers, hidden=hidden, embed=16)
        paths.append(save_checkpoint(folder / f"{name}.safetensors", model, meta))
    return paths


@pytest.fixture(scope="session")
def tiny_bank(tmp_path_factory) -> list[Path]:
    return make_bank(tmp_path_factory.mktemp("bank"))


@pytest.fixture
def engine(tiny_bank):
    """A real `textconductor engine` process; yields (process, port)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "textconductor", "engine", "--checkpoints", *map(str, tiny_bank),
                             "--port", str(port), "--rate", "200", "--seed", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    probe = EngineProbe(port)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read()
            probe.send("/tc/ping")
            if any(a == "/tc/hello" for a, _ in probe.messages(0.3)):
                break
        else:
            raise AssertionError("engine did not answer /tc/ping")
        yield proc, port
    finally:
        probe.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def client(engine):
    """An `EngineProbe` subscribed to the `engine` fixture's process (hello already received)."""
    _, port = engine
    c = EngineProbe(port)
    c.send("/tc/subscribe", c.port)
    c.wait_for("/tc/hello")
    yield c
    c.close()
