"""A tiny bank of checkpoints and a real engine process on loopback, for protocol tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage

from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.model.checkpoint import CheckpointMeta, save_checkpoint
from textconductor.protocol import message

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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """A second-process view of the engine: a UDP socket that sends commands and collects output."""

    def __init__(self, engine_port: int) -> None:
        self.engine = ("127.0.0.1", engine_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def send(self, address: str, *args) -> None:
        self.sock.sendto(message(address, *args), self.engine)

    def raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.engine)

    def messages(self, timeout: float = 0.5, at_most: float | None = None):
        """Yield (address, params) until nothing arrives for `timeout` seconds, or `at_most` seconds
        have passed (a steady stream of ticks may never leave a gap)."""
        self.sock.settimeout(timeout)
        end = time.monotonic() + at_most if at_most is not None else None
        while end is None or time.monotonic() < end:
            try:
                data = self.sock.recv(1 << 16)
            except TimeoutError:
                return
            for m in _flatten(data):
                yield m.address, tuple(m.params)

    def wait_for(self, address: str, predicate=lambda p: True, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for addr, params in self.messages(0.2):
                if addr == address and predicate(params):
                    return params
                if time.monotonic() > deadline:
                    break
        raise AssertionError(f"no {address} matching within {timeout}s")

    def close(self) -> None:
        self.sock.close()


def _flatten(data: bytes):
    if OscBundle.dgram_is_bundle(data):
        for item in OscBundle(data):
            if isinstance(item, OscBundle):
                yield from _flatten(item.dgram)
            else:
                yield item
    else:
        yield OscMessage(data)


@pytest.fixture
def engine(tiny_bank):
    """A real `textconductor engine` process; yields (process, port)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "textconductor", "engine", "--checkpoints", *map(str, tiny_bank),
                             "--port", str(port), "--rate", "200", "--seed", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    client = Client(port)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read()
            client.send("/tc/ping")
            if any(a == "/tc/hello" for a, _ in client.messages(0.3)):
                break
        else:
            raise AssertionError("engine did not answer /tc/ping")
        yield proc, port
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def client(engine):
    _, port = engine
    c = Client(port)
    c.send("/tc/subscribe", c.port)
    c.wait_for("/tc/hello")
    yield c
    c.close()
