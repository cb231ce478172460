"""Frontend fixtures: a tiny real bank, a real engine process on loopback, a probe that asks the
engine what it received, a fake publisher for deterministic rendering tests, and the window."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from textconductor import protocol  # noqa: E402
from textconductor.frontend.link import decode_outgoing  # noqa: E402

STYLES = ["psalm", "code", "verse"]


def make_styles(folder: Path, names: list[str] = STYLES) -> list[Path]:
    """Untrained 1x32 styles with peaky, seed-dependent heads: each writes visibly different characters,
    and they take milliseconds to make (the frontend tests exercise the protocol, not the models)."""
    import torch

    from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
    from textconductor.model.checkpoint import CheckpointMeta, save_checkpoint
    paths = []
    for i, name in enumerate(names):
        torch.manual_seed(100 + i)
        model = CharLSTM(CharLSTMConfig(layers=1, hidden=32, embed=16))
        with torch.no_grad():
            model.head.weight.mul_(12)
        paths.append(save_checkpoint(folder / f"{name}.safetensors", model,
                                     CheckpointMeta(name=name, layers=1, hidden=32, embed=16)))
    return paths


@pytest.fixture(scope="session")
def style_files(tmp_path_factory) -> list[Path]:
    return make_styles(tmp_path_factory.mktemp("frontend-bank"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Engine:
    """`textconductor engine` as a subprocess on a loopback port; can be killed and restarted there."""

    def __init__(self, files: list[Path], port: int | None = None, rate: float = 40.0) -> None:
        self.files, self.port, self.rate = files, port or free_port(), rate
        self.proc: subprocess.Popen | None = None

    def start(self) -> Engine:
        cmd = [sys.executable, "-m", "textconductor", "engine", "--checkpoints", *map(str, self.files),
               "--port", str(self.port), "--seed", "3", "--rate", str(self.rate), "--weights", "psalm=1"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Probe:
    """A second OSC client: pings the engine and reads its /tc/hello (raw weights as received)."""

    def __init__(self, engine_port: int) -> None:
        self.engine = ("127.0.0.1", engine_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)

    def send(self, address: str, *args) -> None:
        self.sock.sendto(protocol.message(address, *args), self.engine)

    def wait_hello(self, predicate=lambda h: True, timeout: float = 15.0) -> protocol.Hello:
        """Ping until a hello satisfies predicate (the engine applies commands between ticks)."""
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            self.send("/tc/ping")
            t_ping = time.monotonic()
            while time.monotonic() - t_ping < 0.3:
                try:
                    data = self.sock.recv(65536)
                except TimeoutError:
                    continue
                for address, args in decode_outgoing(data):
                    if address == protocol.OUT_HELLO:
                        last = protocol.Hello.decode(args)
                        if predicate(last):
                            return last
        raise AssertionError(f"no matching /tc/hello within {timeout} s; last: {last}")

    def wait_params(self, predicate, timeout: float = 15.0) -> protocol.Params:
        """Subscribe and read /tc/params until predicate holds."""
        self.send("/tc/subscribe", self.sock.getsockname()[1])
        end, last = time.monotonic() + timeout, None
        try:
            while time.monotonic() < end:
                try:
                    data = self.sock.recv(65536)
                except TimeoutError:
                    continue
                for address, args in decode_outgoing(data):
                    if address == protocol.OUT_PARAMS:
                        last = protocol.Params.decode(args)
                        if predicate(last):
                            return last
        finally:
            self.send("/tc/unsubscribe", self.sock.getsockname()[1])
        raise AssertionError(f"no matching /tc/params within {timeout} s; last: {last}")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def engine(style_files):
    e = Engine(style_files).start()
    probe = Probe(e.port)
    try:
        probe.wait_hello(timeout=60)  # torch import + load on a loaded machine
    except AssertionError:
        e.stop()
        raise AssertionError(f"engine did not start: {e.proc.stderr.read() if e.proc.stderr else ''}") from None
    yield e
    probe.close()
    e.stop()


@pytest.fixture
def probe(engine):
    p = Probe(engine.port)
    yield p
    p.close()


@pytest.fixture(autouse=True)
def presets_file(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "presets.json"
    monkeypatch.setenv("TEXTCONDUCTOR_PRESETS", str(path))
    return path


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch) -> Path:
    """The user config folder (MIDI mappings) in tmp: no test reads or writes the real one."""
    path = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(path))
    return path / "textconductor"


def open_window(qtbot, endpoint: str, **kw):
    """The window as `ui` builds it: with the real controllers injected (MIDI, autopilot, hands)."""
    from textconductor.cli.window_controllers import real_controllers
    from textconductor.frontend.app import build_window
    kw.setdefault("controllers", real_controllers())
    win = build_window(endpoint, 0, **kw)
    qtbot.addWidget(win)
    win.resize(1600, 900)
    win.show()
    return win


@pytest.fixture
def window(qtbot, engine):
    win = open_window(qtbot, f"127.0.0.1:{engine.port}")
    qtbot.waitUntil(lambda: len(win.names) == len(STYLES) and win.link.online, timeout=15000)
    yield win
    win.close()


class FakeEngine:
    """Publishes real engine messages (protocol encoders) to a frontend, and records what it sends."""

    def __init__(self, names: list[str] = STYLES) -> None:
        self.names = names
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.subscriber: tuple[str, int] | None = None
        self.received: list[protocol.Command] = []
        self.tick = 0
        self.start_weights: list[float] = [1.0] + [0.0] * (len(names) - 1)  # what the hello on subscribe says

    def poll(self) -> list[protocol.Command]:
        """Read what the frontend sent; answer subscribe with hello + params + status."""
        got = []
        while True:
            try:
                data, addr = self.sock.recvfrom(65536)
            except BlockingIOError:
                break
            for cmd in protocol.parse_packet(data, addr):
                if isinstance(cmd, protocol.Command):
                    got.append(cmd)
                    if cmd.name == "subscribe":
                        self.subscriber = (addr[0], cmd.args[1])
                        self.send(self.hello())
                        self.send(protocol.Params().encode())
                        self.send(protocol.Status().encode())
        self.received += got
        return got

    def hello(self, weights=None) -> bytes:
        n = len(self.names)
        w = np.asarray(weights if weights is not None else self.start_weights, np.float32)
        assert len(w) == n
        return protocol.Hello(self.names, np.ones(n, bool), w, "In the beginning").encode()

    def send(self, data: bytes) -> None:
        assert self.subscriber is not None, "the frontend has not subscribed"
        self.sock.sendto(data, self.subscriber)

    def make_tick(self, char: str, winner: int, rng: np.random.Generator) -> protocol.Tick:
        from textconductor.protocol.charset import CHARS
        n, v = len(self.names), len(CHARS)
        dists = rng.dirichlet(np.full(v, 0.1), size=n).astype(np.float32)
        mixed = dists.mean(0).astype(np.float32)
        attr = np.full(n, 0.1 / max(n - 1, 1), np.float32)
        attr[winner] = 0.9
        self.tick += 1
        return protocol.Tick(self.tick, char, attr, mixed, np.arange(n, dtype=np.int32), dists,
                             np.full(n, 1 / n, np.float32))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def fake_engine():
    f = FakeEngine()
    yield f
    f.close()
