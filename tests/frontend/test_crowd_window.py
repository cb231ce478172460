"""The audience in the window, on real widgets over a real UDP socket (the fake engine): the Room control
sends /tc/crowd_mode and shows the engine's word, the crowd cloud draws the relayed phones, the QR code
holds the room's URL."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.frontend.conftest import STYLES, open_window
from textconductor.protocol.messages import CrowdPoints, CrowdState


def connect(qtbot, fake):
    win = open_window(qtbot, f"127.0.0.1:{fake.port}")
    qtbot.waitUntil(lambda: bool(fake.poll()) or fake.subscriber is not None, timeout=10000)
    qtbot.waitUntil(lambda: win.names == STYLES and win.link.online, timeout=10000)
    return win


def sent(qtbot, fake, name):
    got = []

    def seen():
        got.extend(c for c in fake.poll() if c.name == name)
        return bool(got)
    qtbot.waitUntil(seen, timeout=5000)
    return got


def test_room_control_hands_the_piece_over_and_takes_it_back(qtbot, fake_engine):
    win = connect(qtbot, fake_engine)
    control = win.crowd.control
    assert control.current() == "off" and not control.blend.isEnabled()
    control.mode.setCurrentIndex(2)
    control.mode.activated.emit(2)
    assert sent(qtbot, fake_engine, "crowd_mode")[-1].args == ("crowd", 0.5)
    control.mode.setCurrentIndex(1)
    control.mode.activated.emit(1)
    got = sent(qtbot, fake_engine, "crowd_mode")
    assert got[-1].args == ("blend", 0.5) and control.blend.isEnabled()
    control.blend.setValue(30)  # the slider moves: the new share goes at once
    got = sent(qtbot, fake_engine, "crowd_mode")
    assert got[-1].args == ("blend", pytest.approx(0.3))
    # someone else switched (OSC, MIDI): the window shows the engine's word and sends nothing back
    fake_engine.publish(CrowdState("off", 0.7, np.zeros(len(STYLES), np.float32)).encode())
    qtbot.waitUntil(lambda: control.current() == "off" and control.blend.value() == 70, timeout=5000)
    qtbot.wait(200)
    assert [c for c in fake_engine.poll() if c.name == "crowd_mode"] == []
    win.close()


def test_crowd_cloud_draws_the_phones_over_the_puck(qtbot, fake_engine):
    win = connect(qtbot, fake_engine)
    pts = np.array([[0.0, 0.9], [0.1, 0.8], [-0.9, 0.0]], dtype=np.float32)
    before = win.puck.grab().toImage()
    fake_engine.publish(CrowdPoints(3, 4, pts).encode())
    qtbot.waitUntil(lambda: len(win.crowd.cloud.points) == 3, timeout=5000)
    assert win.crowd.control.phones.text() == "3 phones (4 in)"
    assert win.crowd.cloud.geometry() == win.puck.rect()
    img = win.puck.grab().toImage()
    p = win.puck.to_screen(np.array([-0.9, 0.0]))
    colour = img.pixelColor(round(p.x()), round(p.y()))
    assert colour != before.pixelColor(round(p.x()), round(p.y()))  # a dot where the phone is
    fake_engine.publish(CrowdPoints(0, 1).encode())  # everyone stopped playing: no cloud
    qtbot.waitUntil(lambda: len(win.crowd.cloud.points) == 0, timeout=5000)
    win.close()


def test_qr_code_carries_the_rooms_url(qtbot, fake_engine):
    import segno
    win = connect(qtbot, fake_engine)
    assert not win.crowd.control.qr.isVisibleTo(win) and win.crowd.show_qr() is None
    url = "http://192.168.1.20:8765/r/abcdefgh/"
    win.crowd.set_url(url)
    assert win.crowd.control.qr.isVisibleTo(win)
    qtbot.mouseClick(win.crowd.control.qr, Qt.MouseButton.LeftButton)
    dialog = win.crowd.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    assert dialog.view.matrix == [list(r) for r in segno.make(url, error="m").matrix]
    img = dialog.view.grab().toImage()
    dark = sum(img.pixelColor(x, y).lightness() < 128
               for x in range(0, img.width(), 4) for y in range(0, img.height(), 4))
    assert dark > 100  # drawn, not blank
    dialog.close()
    win.close()


def test_a_midi_button_cycles_from_what_the_engine_said(qtbot, fake_engine):
    """`control('crowd')` (a MIDI button bound to `crowd`) steps from the engine's word, not the window's guess."""
    win = connect(qtbot, fake_engine)
    fake_engine.publish(CrowdState("blend", 0.4, np.zeros(len(STYLES), np.float32)).encode())
    qtbot.waitUntil(lambda: win.performer.crowd_mode == ("blend", pytest.approx(0.4)), timeout=5000)
    fake_engine.poll()
    win.control("crowd")
    assert sent(qtbot, fake_engine, "crowd_mode")[-1].args == ("crowd", pytest.approx(0.4))
    win.control("crowd_blend", 0.9)
    assert sent(qtbot, fake_engine, "crowd_mode")[-1].args == ("crowd", pytest.approx(0.9))
    win.close()
