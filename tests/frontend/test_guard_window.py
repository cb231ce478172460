"""The loop guard in the window, over a real socket to the fake engine: the switch and the strength send
/tc/guard, the engine's /tc/guards shows on them, and a /tc/guarded puts a count in the status line and a
mark under the right character of the text."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCharFormat, QTextCursor

from tests.frontend.test_render import connect
from tests.frontend.test_shortcuts import sent_after
from textconductor import protocol
from textconductor.frontend.midi_menu import learn_target_of


@pytest.fixture
def win(qtbot, fake_engine):
    return connect(qtbot, fake_engine)


def underline_at(view, pos: int) -> QTextCharFormat.UnderlineStyle:
    cur = QTextCursor(view.document())
    cur.setPosition(pos + 1)  # the format of the character before the cursor
    return cur.charFormat().underlineStyle()


def test_the_switch_and_the_slider_send_the_guard_command(qtbot, fake_engine, win):
    gc = win.guard_view.control
    assert gc.switch.isVisible() and gc.switch.isChecked()  # on by default, as the engine is
    got = sent_after(qtbot, fake_engine, lambda: qtbot.mouseClick(gc.switch, Qt.MouseButton.LeftButton))
    assert got == [("guard", (False, None))] and not win.performer.loop_guard.on
    got = sent_after(qtbot, fake_engine, lambda: gc.slider.setValue(30))
    assert got == [("guard", (False, pytest.approx(0.3)))]
    got = sent_after(qtbot, fake_engine, lambda: win.control("guard"))  # the ControlSink word: a toggle
    assert got == [("guard", (True, None))] and gc.switch.isChecked()  # and the switch follows
    got = sent_after(qtbot, fake_engine, lambda: win.control("guard_strength", 0.75))
    assert got == [("guard", (True, 0.75))] and gc.slider.value() == 75


def test_the_engines_setting_shows_without_echoing_back(qtbot, fake_engine, win):
    win.performer.last_local = -1e9  # the performer has not touched anything recently
    fake_engine.poll()
    fake_engine.publish(protocol.Guards(on=False, strength=0.4, loop_acts=9, blocked=2, blocklist=3).encode())
    gc = win.guard_view.control
    qtbot.waitUntil(lambda: not gc.switch.isChecked(), timeout=5000)
    assert gc.slider.value() == 40 and not gc.slider.isEnabled()
    assert win.guard_view.counter.text().startswith("guard off")
    assert "9 times" in win.guard_view.counter.toolTip()
    qtbot.wait(200)
    assert [c for c in fake_engine.poll() if c.name == "guard"] == []  # showing it sent nothing


def test_a_guarded_character_is_counted_and_marked(qtbot, fake_engine, win):
    rng = np.random.default_rng(1)
    counter = win.guard_view.counter
    assert "loops 0" in counter.text() and "cuts 0" in counter.text()
    start = len(win.text.text())
    word = "abcabcabcXyz"
    packets = []
    for i, c in enumerate(word):
        if i == 9:  # the guard steered out of the loop: before the character it chose
            packets.append(fake_engine.make_guarded("loop").encode())
        if i == 11:
            packets.append(fake_engine.make_guarded("whitespace").encode())
        packets.append(fake_engine.make_tick(c, i % 3, rng).encode())
    for p in packets:
        fake_engine.publish(p)
    qtbot.waitUntil(lambda: win.text.text().endswith(word), timeout=10000)
    qtbot.waitUntil(lambda: "loops 1" in counter.text() and "cuts 1" in counter.text(), timeout=5000)
    assert counter.isVisible() and "masks 0" in counter.text()
    dotted = QTextCharFormat.UnderlineStyle.DotLine
    marked = [i for i in range(len(word)) if underline_at(win.text, start + i) == dotted]
    assert marked == [9, 11]  # 'X' and 'z', nothing else
    assert win.guard_view.marks.marked == 2


def test_marks_can_be_turned_off(qtbot, fake_engine, win):
    win.guard_view.marks_on = False
    rng = np.random.default_rng(2)
    start = len(win.text.text())
    fake_engine.publish(fake_engine.make_guarded("blocklist").encode())
    fake_engine.publish(fake_engine.make_tick("q", 0, rng).encode())
    qtbot.waitUntil(lambda: win.text.text().endswith("q"), timeout=10000)
    qtbot.waitUntil(lambda: "masks 1" in win.guard_view.counter.text(), timeout=5000)  # still counted
    assert underline_at(win.text, start) == QTextCharFormat.UnderlineStyle.NoUnderline


def test_midi_learn_knows_the_guard_widgets(win):
    gc = win.guard_view.control
    assert learn_target_of(gc.switch, win) == "guard"
    assert learn_target_of(gc.slider, win) == "guard_strength"
