"""Keyboard: every control has a shortcut; typing into the prime field never triggers one.

Commands are read back as the engine would parse them (a fake engine socket + protocol.parse_packet).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.frontend.test_render import connect

K = Qt.Key


def sent_after(qtbot, fake, action) -> list[tuple[str, tuple]]:
    fake.poll()
    action()
    got: list = []
    qtbot.waitUntil(lambda: bool(got.extend(c for c in fake.poll() if c.name != "subscribe")) or bool(got),
                    timeout=5000)
    qtbot.wait(100)
    got += [c for c in fake.poll() if c.name != "subscribe"]
    return [(c.name, c.args) for c in got]


@pytest.fixture
def win(qtbot, fake_engine):
    w = connect(qtbot, fake_engine)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    return w


def test_control_shortcuts(qtbot, win, fake_engine):
    f = fake_engine
    assert sent_after(qtbot, f, lambda: qtbot.keyClick(win, K.Key_Space)) == [("pause", ())]
    assert sent_after(qtbot, f, lambda: qtbot.keyClick(win, K.Key_Space)) == [("resume", ())]
    assert sent_after(qtbot, f, lambda: qtbot.keyClick(win, K.Key_R, Qt.KeyboardModifier.ControlModifier)) == [
        ("reset", ())]
    t0 = win.params.temperature
    (name, (t,)), = sent_after(qtbot, f, lambda: qtbot.keyClick(win, K.Key_BracketRight))
    assert name == "temperature" and t == pytest.approx(t0 + 0.05)
    (name, (t,)), = sent_after(qtbot, f, lambda: qtbot.keyClick(win, K.Key_BracketLeft))
    assert t == pytest.approx(t0)
    r0 = win.params.rate
    assert sent_after(qtbot, f, lambda: qtbot.keyClick(win, K.Key_Equal)) == [("rate", (pytest.approx(r0 + 2),))]
    assert sent_after(qtbot, f, lambda: qtbot.keyClick(win, K.Key_Minus)) == [("rate", (pytest.approx(r0),))]
    mix = sent_after(qtbot, f, lambda: qtbot.keyClick(win, K.Key_M))
    assert mix == [("mix", ("product",))]
    assert win.controls.mix_box.currentText() == "product"


def test_typing_into_the_stream(qtbot, win, fake_engine):
    qtbot.keyClick(win, K.Key_Return)  # Enter: start typing
    assert win.controls.prime_edit.hasFocus()
    got = sent_after(qtbot, fake_engine, lambda: (qtbot.keyClicks(win.controls.prime_edit, "1 M[ x"),
                                                  qtbot.keyClick(win.controls.prime_edit, K.Key_Return)))
    assert got == [("prime", ("1 M[ x",))]  # no preset recall, pause, mix or temperature on the way
    qtbot.keyClick(win.controls.prime_edit, K.Key_Escape)
    assert not win.controls.prime_edit.hasFocus()


def test_preset_keys(qtbot, win, fake_engine, presets_file):
    win.set_weights({"psalm": 0.25, "code": 0.5, "verse": 0.0})
    qtbot.keyClick(win, K.Key_7, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(presets_file.exists, timeout=5000)
    assert '"psalm": 0.25' in presets_file.read_text()
    win.morph_seconds = 0.2
    win.set_weights({"psalm": 1.0, "code": 0.0})
    qtbot.keyClick(win, K.Key_7)
    qtbot.waitUntil(lambda: not win.morphing, timeout=5000)
    assert win.weights == {"psalm": 0.25, "code": 0.5, "verse": 0.0}
    qtbot.keyClick(win, K.Key_8)  # empty slot: a message, no change
    assert "empty" in win.status.message.text()
    assert win.weights == {"psalm": 0.25, "code": 0.5, "verse": 0.0}
