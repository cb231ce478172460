"""The frontend against a REAL engine process on loopback (tiny bank of three styles).

What the engine received is read back through a second OSC client (`EngineProbe`: /tc/ping -> /tc/hello
carries the raw weights as the engine last set them), never from the frontend's own state.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QTextCursor

from tests.fakes import EngineProbe
from tests.frontend.conftest import STYLES, Engine, open_window


def close(a, b, tol=0.02) -> bool:
    return len(a) == len(b) and bool(np.allclose(np.asarray(a, float), np.asarray(b, float), atol=tol))


def test_slider_sends_weights(window, probe):
    window.set_weights({"psalm": 1.0, "code": 0.0, "verse": 0.0})
    probe.wait_hello(lambda h: close(h.weights, [1, 0, 0]))
    window.sliders.sliders["code"].setValue(700)  # what a drag emits: valueChanged
    probe.wait_hello(lambda h: close(h.weights, [1.0, 0.7, 0.0]))
    # the puck follows the sliders: lines show the normalised weights
    assert close(window.puck.weights, [1 / 1.7, 0.7 / 1.7, 0.0], 1e-6)


def test_dragging_the_puck_sends_weights_and_moves_sliders(qtbot, window, probe):
    puck = window.puck
    qtbot.waitUntil(lambda: len(puck.names) == 3, timeout=5000)
    icon = puck.to_screen(puck.positions[1])  # style "code"
    centre = puck.to_screen(np.zeros(2))
    start = QPoint(round(centre.x()) + 3, round(centre.y()) + 3)
    qtbot.mousePress(puck, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 11):  # a drag, not a jump
        p = start + (QPoint(round(icon.x()), round(icon.y())) - start) * (k / 10)
        qtbot.mouseMove(puck, p)
    qtbot.mouseRelease(puck, Qt.MouseButton.LeftButton, pos=QPoint(round(icon.x()), round(icon.y())))
    probe.wait_hello(lambda h: close(h.weights, [0, 1, 0], 1e-3))  # snapped onto the icon: code alone
    assert window.sliders.sliders["code"].value() == 1000 and window.sliders.sliders["psalm"].value() == 0
    # back to the centre: equal weights
    qtbot.mousePress(puck, Qt.MouseButton.LeftButton, pos=QPoint(round(centre.x()), round(centre.y())))
    qtbot.mouseRelease(puck, Qt.MouseButton.LeftButton, pos=QPoint(round(centre.x()), round(centre.y())))
    probe.wait_hello(lambda h: close(h.weights, [1 / 3] * 3, 0.01))
    assert abs(window.sliders.sliders["psalm"].value() - 333) <= 10


def test_engine_text_and_bars_reach_the_window(qtbot, window, probe):
    window.set_weights({"psalm": 0.0, "code": 0.0, "verse": 1.0})
    probe.wait_hello(lambda h: close(h.weights, [0, 0, 1]))
    start = window.ticks_received
    qtbot.waitUntil(lambda: window.ticks_received - start >= 30, timeout=15000)
    qtbot.waitUntil(lambda: bool(window.bars.item._groups), timeout=5000)
    # the latest characters are tinted with verse's colour (the only active style)
    doc_len = window.text.document().characterCount()
    cur = QTextCursor(window.text.document())
    cur.setPosition(doc_len - 2)
    assert cur.charFormat().foreground().color().name() == QColor(window.looks["verse"].text_colour).name()
    qtbot.waitUntil(lambda: window.status.active.text() == "active 1: verse", timeout=5000)  # from /tc/status


def test_style_toggle_sends_enable(qtbot, window, probe):
    window.style_panel.buttons["code"].click()
    probe.wait_hello(lambda h: list(h.enabled) == [True, False, True])
    assert "code" not in window.enabled_styles() and "code" not in window.sliders.sliders
    assert len(window.puck.names) == 2
    window.style_panel.buttons["code"].click()
    probe.wait_hello(lambda h: list(h.enabled) == [True, True, True])


def test_controls_reach_the_engine(qtbot, window, probe):
    window.controls.temp.setValue(1.35)
    window.controls.mix_box.setCurrentText("product")
    window.controls.rate_box.setValue(25)
    probe.wait_params(lambda p: abs(p.temperature - 1.35) < 1e-3 and p.mix == "product" and p.rate == 25)
    window.control("mix", "linear")
    probe.wait_params(lambda p: p.mix == "linear")
    window.controls.prime_edit.setText("Behold the")
    window.controls.prime_edit.returnPressed.emit()
    probe.wait_hello(lambda h: "Behold the" in h.history)


def test_controller_thread_can_drive_the_window(qtbot, window, probe):
    """ControlSink calls from a controller's own thread land on the GUI thread."""
    t = threading.Thread(target=lambda: window.set_weights({"psalm": 0.2, "code": 0.9, "verse": 0.0}))
    t.start()
    t.join()
    qtbot.waitUntil(lambda: window.weights["code"] == 0.9, timeout=5000)  # applied by the GUI thread's loop
    probe.wait_hello(lambda h: close(h.weights, [0.2, 0.9, 0.0]))
    assert window.sliders.sliders["code"].value() == 900
    assert window.enabled_styles() == STYLES


def test_preset_save_and_recall_morphs(qtbot, window, probe, presets_file):
    window.activateWindow()
    window.set_weights({"psalm": 1.0, "code": 0.0, "verse": 0.0})
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # save to 3
    qtbot.waitUntil(lambda: presets_file.exists(), timeout=5000)
    window.set_weights({"psalm": 0.0, "code": 0.0, "verse": 1.0})
    probe.wait_hello(lambda h: close(h.weights, [0, 0, 1]))
    sent: list[list[float]] = []
    window.weights_sent.connect(sent.append)
    window.morph_seconds = 1.0
    qtbot.keyClick(window, Qt.Key.Key_3)  # recall 3
    qtbot.waitUntil(lambda: not window.morphing, timeout=10000)
    probe.wait_hello(lambda h: close(h.weights, [1, 0, 0], 1e-3))
    psalm = [v[0] for v in sent]
    middle = [v for v in psalm if 0.1 < v < 0.9]
    assert len(middle) >= 3, psalm  # a morph, not a jump
    assert all(b >= a - 1e-9 for a, b in zip(psalm, psalm[1:], strict=False))
    assert psalm[-1] == pytest.approx(1.0)


def test_offline_and_reconnect(qtbot, style_files):
    eng = Engine(style_files).start()
    probe = EngineProbe(eng.port)
    try:
        win = open_window(qtbot, f"127.0.0.1:{eng.port}")
        qtbot.waitUntil(lambda: win.link.online and len(win.names) == 3, timeout=60000)
        win.set_weights({"psalm": 0.3, "code": 0.6, "verse": 0.1})
        probe.wait_hello(lambda h: close(h.weights, [0.3, 0.6, 0.1]))
        eng.kill()
        qtbot.waitUntil(lambda: not win.link.online, timeout=10000)
        assert "offline" in win.status.conn.text()
        assert win.isVisible()
        eng.start()  # same port, fresh engine with its own starting weights (psalm=1)
        qtbot.waitUntil(lambda: win.link.online, timeout=60000)
        assert "connected" in win.status.conn.text()
        # the window re-sent the performer's weights to the new engine
        probe.wait_hello(lambda h: close(h.weights, [0.3, 0.6, 0.1]), timeout=20)
        assert close([win.weights[n] for n in STYLES], [0.3, 0.6, 0.1], 1e-6)
        win.close()
    finally:
        probe.close()
        eng.stop()


def test_two_frontends_on_one_engine(qtbot, engine, probe):
    a = open_window(qtbot, f"127.0.0.1:{engine.port}")
    b = open_window(qtbot, f"127.0.0.1:{engine.port}")
    assert a.link.listen_port != b.link.listen_port
    qtbot.waitUntil(lambda: a.link.online and b.link.online, timeout=15000)
    sa, sb = a.ticks_received, b.ticks_received
    qtbot.waitUntil(lambda: a.ticks_received > sa + 5 and b.ticks_received > sb + 5, timeout=15000)
    a.close()
    b.close()


def test_screenshots_of_every_mode(qtbot, engine, tmp_path):
    """The screenshot command against the real engine: five PNGs with real content. Offscreen they are
    rendered at 1920x1080; on an X server (the xcb pass) they show what the screen shows: talk and
    fullscreen cover it, the default and output windows fit inside it."""
    from PySide6.QtGui import QGuiApplication, QImage

    from textconductor.tools.screenshots import on_x_server, take_screenshots
    paths = take_screenshots(tmp_path, engine=f"127.0.0.1:{engine.port}", chars=40, timeout=30)
    assert sorted(p.name for p in paths) == ["default.png", "fullscreen.png", "output-window.png",
                                             "talk-presenter.png", "talk.png"]
    screen = QGuiApplication.primaryScreen().geometry()
    full = (screen.width(), screen.height()) if on_x_server() else (1920, 1080)
    for p in paths:
        img = QImage(str(p))
        w, h = img.width(), img.height()
        if not on_x_server() or p.stem in ("talk", "talk-presenter", "fullscreen"):
            assert (w, h) == full, p
        else:
            assert 0 < w <= full[0] and 0 < h <= full[1], p
        bg = img.pixel(w - 1, h - 1)
        ink = sum(img.pixel(x, y) != bg for x in range(0, w, 4) for y in range(0, h, 4))
        assert ink > 500, f"{p.name} looks blank ({ink} non-background samples)"


def test_typed_prime_enters_the_stream_in_the_foreground_colour(qtbot, window, probe):
    window.set_weights({"psalm": 1.0, "code": 0.0, "verse": 0.0})
    qtbot.waitUntil(lambda: window.ticks_received > 5, timeout=15000)
    window.prime("\u201cAnd it was so\u201d")  # what Enter in the prime field sends
    qtbot.waitUntil(lambda: '"And it was so"' in window.text.text(), timeout=10000)
    text = window.text.text()
    pos = text.rindex('"And it was so"')
    cur = QTextCursor(window.text.document())
    cur.setPosition(pos + 2)
    assert cur.charFormat().foreground().color() == QColor(window.theme.colours["foreground"])
    start = window.ticks_received
    qtbot.waitUntil(lambda: window.ticks_received - start >= 5, timeout=10000)  # and the ensemble continues
