"""The main window as a ControlSink (controllers/base.py): every control reaches the engine as the
right OSC command, and gallery mode starts generating by itself."""

from __future__ import annotations

import inspect

import pytest

from tests.frontend.conftest import STYLES, open_window
from tests.frontend.test_render import connect
from tests.frontend.test_shortcuts import sent_after
from textconductor.controllers.base import CONTROLS, ControlSink
from textconductor.frontend.main_window import MainWindow


def test_main_window_has_the_sink_interface():
    for name in ("set_weights", "set_puck", "control", "enabled_styles"):
        want = inspect.signature(getattr(ControlSink, name))
        have = inspect.signature(getattr(MainWindow, name))
        assert list(have.parameters) == list(want.parameters), name


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("temperature", 1.2, [("temperature", (pytest.approx(1.2),))]),
    ("temperature", 99.0, [("temperature", (5.0,))]),  # clamped to the protocol's range
    ("rate", 30.0, [("rate", (30.0,))]),
    ("mix", "product", [("mix", ("product",))]),
    ("pause", None, [("pause", ())]),
    ("resume", None, [("resume", ())]),
    ("toggle_pause", None, [("pause", ())]),
    ("reset", None, [("reset", ())]),
])
def test_every_control_reaches_the_engine(qtbot, fake_engine, name, value, expected):
    win = connect(qtbot, fake_engine)
    assert sent_after(qtbot, fake_engine, lambda: win.control(name, value)) == expected


def test_all_controls_are_handled(qtbot, fake_engine):
    win = connect(qtbot, fake_engine)
    samples = {"temperature": 1.0, "rate": 10.0, "mix": "linear", "preset_recall": 4, "preset_save": 4,
               "guard_strength": 0.5, "crowd_blend": 0.5}
    for name in CONTROLS:
        win.control(name, samples.get(name))  # none raises
    with pytest.raises(ValueError):
        win.control("warp", 1)


def test_set_puck_and_set_weights(qtbot, fake_engine):
    win = connect(qtbot, fake_engine)
    got = sent_after(qtbot, fake_engine, lambda: win.set_puck(0.0, 1.0))  # on the first style's icon
    assert got == [("weights", (1.0, 0.0, 0.0))]
    got = sent_after(qtbot, fake_engine, lambda: win.set_weights({"verse": 0.5, "nonexistent": 1.0}))
    assert got == [("weights", (1.0, 0.0, 0.5))]
    assert win.enabled_styles() == STYLES


def test_gallery_mode_starts_by_itself(qtbot, fake_engine):
    fake_engine.start_weights = [0.0, 0.0, 0.0]  # an engine with every weight at 0
    win = open_window(qtbot, f"127.0.0.1:{fake_engine.port}", fullscreen=True)
    got: list = []
    qtbot.waitUntil(lambda: bool(got.extend((c.name, c.args) for c in fake_engine.poll())) or
                    ("resume", ()) in got, timeout=10000)
    assert ("weights", (pytest.approx(1 / 3),) * 3) in got
    assert not win.menuBar().isVisible() and "styles" not in win.panels and "sliders" not in win.panels
