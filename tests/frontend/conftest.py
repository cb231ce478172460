"""Frontend fixtures: a tiny real bank, a real engine process on loopback, a probe that asks the
engine what it received, a fake publisher for deterministic rendering tests, and the window.

The probe and the fake engine are the shared ones from tests/fakes.py; only the engine process
(which needs this folder's bank) and the window are defined here."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.fakes import EngineProbe, FakeEngine, free_port  # noqa: E402
from textconductor.tools.harness import engine_command, stop_process  # noqa: E402

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


class Engine:
    """`textconductor engine` as a subprocess on a loopback port; can be killed and restarted there."""

    def __init__(self, files: list[Path], port: int | None = None, rate: float = 40.0) -> None:
        self.files, self.port, self.rate = files, port or free_port(), rate
        self.proc: subprocess.Popen | None = None

    def start(self) -> Engine:
        cmd = engine_command("--port", self.port, "--seed", 3, "--rate", self.rate, "--weights", "psalm=1",
                             checkpoints=self.files)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            stop_process(self.proc)


@pytest.fixture(scope="module")
def engine(style_files):
    e = Engine(style_files).start()
    probe = EngineProbe(e.port)
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
    p = EngineProbe(engine.port)
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
    # Offscreen activates a shown window by itself; on X without a window manager (Xvfb, .ci/run's xcb pass)
    # nothing does, and keyboard shortcuts only reach the active window.
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=10000)
    return win


@pytest.fixture
def window(qtbot, engine):
    win = open_window(qtbot, f"127.0.0.1:{engine.port}")
    qtbot.waitUntil(lambda: len(win.names) == len(STYLES) and win.link.online, timeout=15000)
    yield win
    win.close()


@pytest.fixture
def fake_engine():
    """The engine's side of the wire, polled on the Qt event loop (no second thread to race it)."""
    f = FakeEngine(STYLES, threaded=False, weights=[1.0] + [0.0] * (len(STYLES) - 1), history="In the beginning")
    yield f
    f.close()
