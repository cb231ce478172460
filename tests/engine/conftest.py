"""A tiny bank of checkpoints and a real engine process on loopback, for protocol tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.fakes import EngineProbe, free_port
from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.model.checkpoint import CheckpointMeta, save_checkpoint
from textconductor.tools.harness import engine_command, stop_process

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
    proc = subprocess.Popen(engine_command("--port", port, "--rate", 200, "--seed", 1, checkpoints=tiny_bank),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    probe = EngineProbe(port)
    try:
        probe.wait_until_up(proc, subscribe=False)
        yield proc, port
    finally:
        probe.close()
        stop_process(proc)


@pytest.fixture
def client(engine):
    """An `EngineProbe` subscribed to the `engine` fixture's process (hello already received)."""
    _, port = engine
    c = EngineProbe(port)
    c.send("/tc/subscribe", c.port)
    c.wait_for("/tc/hello")
    yield c
    c.close()


# -- a bank built to loop ----------------------------------------------------------------------

LOOP = "abcdefghijklmnopqrstuvwxyz "  # 27 distinct characters: every 24-gram repeats from the second lap on


def successor_model(cycle: str, p_next: float = 0.8, alt: str = "", p_alt: float = 0.0) -> CharLSTM:
    """A 1x97 CharLSTM whose next character depends only on the last one: the next in `cycle` with
    probability `p_next`, `alt` (if given) with `p_alt`, the rest spread evenly. At T=0.3 the
    first writes `cycle` over and over.

    Built by hand, not trained: one-hot embedding, gates saturated so that the cell holds the last
    character alone, and a head that maps each character to its successor.
    """
    from textconductor.protocol.charset import CHAR_TO_INDEX, VOCAB_SIZE
    v = VOCAB_SIZE
    model = CharLSTM(CharLSTMConfig(layers=1, hidden=v, embed=v))
    nxt = {c: cycle[(k + 1) % len(cycle)] for k, c in enumerate(cycle)}
    rest = v - 1 - (1 if alt else 0)
    z = rest / (1.0 - p_next - p_alt)  # the softmax's normaliser when every other logit is 0
    h = float(np.tanh(np.tanh(5.0)))  # what the hidden unit of the last character holds
    w_next, w_alt = float(np.log(p_next * z)) / h, (float(np.log(p_alt * z)) / h if alt else 0.0)
    with torch.no_grad():
        for prm in model.parameters():
            prm.zero_()
        model.embed.weight.copy_(torch.eye(v))
        lstm = model.lstm
        lstm.bias_ih_l0[0:v] = 10.0  # input gate open
        lstm.bias_ih_l0[v:2 * v] = -10.0  # forget gate shut: the cell holds the last character only
        lstm.weight_ih_l0[2 * v:3 * v] = 5.0 * torch.eye(v)  # candidate: the character, one-hot
        lstm.bias_ih_l0[3 * v:4 * v] = 10.0  # output gate open
        for c in CHAR_TO_INDEX:
            col = CHAR_TO_INDEX[c]
            model.head.weight[CHAR_TO_INDEX[nxt.get(c, cycle[0])], col] = w_next
            if alt and alt != nxt.get(c, cycle[0]):
                model.head.weight[CHAR_TO_INDEX[alt], col] = w_alt
    return model.eval()


def loop_bank_files(folder: Path) -> list[Path]:
    """looper (the loop), reader (reads the loop but would rather write `.`), other (a loop of its own,
    which cannot read looper's text)."""
    models = {"looper": successor_model(LOOP), "reader": successor_model(LOOP, 0.35, ".", 0.45),
              "other": successor_model("qwertyuiopasdfghjklzxcvbnm ")}
    paths = []
    for name, model in models.items():
        meta = CheckpointMeta(name=name, layers=1, hidden=97, embed=97)
        paths.append(save_checkpoint(folder / f"{name}.safetensors", model, meta))
    return paths


@pytest.fixture(scope="session")
def loop_bank(tmp_path_factory) -> list[Path]:
    return loop_bank_files(tmp_path_factory.mktemp("loop-bank"))
