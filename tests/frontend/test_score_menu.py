"""The Score menu: a score plays the real window (sliders, engine commands), the performer takes over by
touching a slider, H hands back; a score naming a style the engine lacks is refused in the status line."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from tests.frontend.conftest import STYLES, open_window
from tests.frontend.test_render import connect
from textconductor.frontend.controller_api import WindowControllers

SCORE = """
title = "window test"
[[event]]
at = 0
weights = { code = 1 }
temperature = 0.9
guard = false
[[event]]
chars = 5
weights = { verse = 1 }
prime = "Lo"
[[event]]
chars = 10
weights = { psalm = 1 }
rate = 7
[[event]]
chars = 15
say = "the end"
"""


def publish_ticks(fake, n: int) -> None:
    rng = np.random.default_rng(0)
    for _ in range(n):
        fake.publish(fake.make_tick("a", 0, rng).encode())


class Sent:
    """Every command the window has sent the fake engine, kept (a poll hands each over only once)."""

    def __init__(self, fake) -> None:
        self.fake, self.commands = fake, []

    def poll(self) -> list:
        self.commands += self.fake.poll()
        return self.commands

    def wait(self, qtbot, name: str, pred=lambda args: True, timeout: int = 8000) -> tuple:
        """The latest `name` command whose arguments satisfy `pred`, waiting for one."""
        def found() -> list:
            return [c.args for c in self.poll() if c.name == name and pred(c.args)]
        qtbot.waitUntil(lambda: bool(found()), timeout=timeout)
        return found()[-1]

    def forget(self) -> None:
        self.poll()
        self.commands.clear()


def test_a_score_plays_the_window_and_hands_over(qtbot, fake_engine, tmp_path):
    win = connect(qtbot, fake_engine)
    try:
        menus = [a.text() for a in win.menuBar().actions()]
        assert "&Score" in menus and win.score is not None
        path = tmp_path / "s.toml"
        path.write_text(SCORE)
        sent = Sent(fake_engine)
        sent.forget()
        assert win.score.perform(path)
        assert sent.wait(qtbot, "weights", lambda w: list(w) == [0.0, 1.0, 0.0])  # psalm code verse
        assert sent.wait(qtbot, "temperature")[0] == pytest.approx(0.9)
        assert sent.wait(qtbot, "guard") == (False, None)
        assert win.weights == {"psalm": 0.0, "code": 1.0, "verse": 0.0}  # the sliders show the score's mix
        assert "performing s.toml" in win.status.message.text()

        publish_ticks(fake_engine, 5)  # characters: the second event fires
        assert sent.wait(qtbot, "weights", lambda w: list(w) == [0.0, 0.0, 1.0])
        assert sent.wait(qtbot, "prime") == ("Lo",)

        s = win.sliders.sliders["code"]  # the performer grabs a slider: the score's weights are held
        QTest.mouseClick(s, Qt.MouseButton.LeftButton, pos=QPoint(s.width() // 2, 3))
        assert win.score.player.taken_over and "H hands them back" in win.status.message.text()
        mine = dict(win.weights)
        publish_ticks(fake_engine, 5)
        assert sent.wait(qtbot, "rate") == (7.0,)  # its settings still play
        qtbot.wait(300)
        assert win.weights == mine  # but not its weights
        assert not any(c.name == "weights" and list(c.args) == [1.0, 0.0, 0.0] for c in sent.poll())

        win.activateWindow()
        win.setFocus()
        QTest.keyClick(win, Qt.Key.Key_H)  # hand back: a glide to where the score has got to (psalm alone)
        assert not win.score.player.taken_over
        glide = sent.wait(qtbot, "weights", lambda w: list(w) == [1.0, 0.0, 0.0])
        assert glide and any(0.0 < c.args[0] < 1.0 for c in sent.poll() if c.name == "weights")  # through between
        assert win.weights == {"psalm": 1.0, "code": 0.0, "verse": 0.0}
        qtbot.waitUntil(lambda: "score 'window test'" in win.score.stop_action.text(), timeout=3000)
        assert "event 3/4" in win.score.stop_action.text()  # where it is, in its menu

        publish_ticks(fake_engine, 5)
        qtbot.waitUntil(lambda: not win.score.playing, timeout=8000)
        assert "ended" in win.status.message.text()
    finally:
        win.close()


def test_a_score_with_a_style_the_engine_lacks_is_refused(qtbot, fake_engine, tmp_path):
    win = connect(qtbot, fake_engine)
    try:
        path = tmp_path / "bad.toml"
        path.write_text("[[event]]\nat = 0\nweights = { bible = 1 }\n")
        assert not win.score.perform(path)
        text = win.status.message.text()
        assert "Score not played" in text and "event 1, weights.bible: unknown style 'bible'" in text
        assert ", ".join(STYLES) in text and not win.score.playing
    finally:
        win.close()


def test_a_window_without_the_score_controller_has_no_score_menu(qtbot, fake_engine):
    win = open_window(qtbot, f"127.0.0.1:{fake_engine.port}", controllers=WindowControllers())
    try:
        assert win.score is None and "&Score" not in [a.text() for a in win.menuBar().actions()]
    finally:
        win.close()


def test_a_weight_moved_by_another_controller_takes_over(qtbot, fake_engine, tmp_path):
    """A MIDI fader (here: the window's sink called from another thread, as MIDI calls it) takes over too."""
    win = connect(qtbot, fake_engine)
    try:
        path = tmp_path / "s.toml"
        path.write_text("[[event]]\nat = 0\nweights = { code = 1 }\n[[event]]\nat = 30\nrate = 3\n")
        assert win.score.perform(path)
        qtbot.waitUntil(lambda: win.weights["code"] == 1.0, timeout=5000)
        qtbot.wait(200)
        assert not win.score.player.taken_over  # the score's own moves are not someone else's
        t = threading.Thread(target=win.set_weights, args=({"verse": 0.4},))
        t.start()
        t.join(5)
        qtbot.waitUntil(lambda: win.score.player.taken_over, timeout=5000)
        assert win.weights["verse"] == pytest.approx(0.4)
    finally:
        win.close()
