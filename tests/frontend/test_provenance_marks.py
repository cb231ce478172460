"""Verbatim marks in the window, over a real socket from the fake engine: the span's characters (and
only they) are highlighted, a mark that arrives before its ticks waits for them, and hovering shows
the book and line."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QToolTip

from tests.frontend.test_render import connect


@pytest.fixture
def win(qtbot, fake_engine):
    return connect(qtbot, fake_engine)


def highlighted(view, pos: int) -> bool:
    cur = QTextCursor(view.document())
    cur.setPosition(pos + 1)  # the format of the character before the cursor
    return cur.charFormat().background().style() != Qt.BrushStyle.NoBrush


def point_of(view, pos: int) -> QPoint:
    cur = QTextCursor(view.document())
    cur.setPosition(pos)
    r = view.cursorRect(cur)
    return QPoint(r.right() + 3, r.center().y())  # inside the character that follows the position


def publish_word(fake, word: str, rng) -> tuple[int, list[bytes]]:
    ticks = [fake.make_tick(c, 0, rng) for c in word]
    return ticks[0].tick, [t.encode() for t in ticks]


def test_a_verbatim_span_is_highlighted_with_its_book_in_a_tooltip(qtbot, fake_engine, win):
    rng = np.random.default_rng(0)
    start = len(win.text.text())
    word = "so: And God said, Let there be light. ok"
    first, packets = publish_word(fake_engine, word, rng)
    a, b = word.index("And"), word.index(". ok")  # the span: "And God said, Let there be light"
    for p in packets:
        fake_engine.publish(p)
    fake_engine.publish(fake_engine.make_verbatim(first + a, first + b - 1, "psalm", 12345, 67).encode())
    qtbot.waitUntil(lambda: win.verbatim.applied >= 1, timeout=10000)
    marked = [i for i in range(len(word)) if highlighted(win.text, start + i)]
    assert marked == list(range(a, b))
    tip = win.verbatim.tooltip_at(point_of(win.text, start + a + 4))
    assert win.looks["psalm"].display in tip and "line 67" in tip and "12,345" in tip and f"{b - a} characters" in tip
    assert win.verbatim.tooltip_at(point_of(win.text, start + 1)) == ""  # outside the span: nothing
    # Hovering: the viewport's tooltip event shows it.
    vp = win.text.viewport()
    at = point_of(win.text, start + a + 4)
    QApplication.sendEvent(vp, QHelpEvent(QEvent.Type.ToolTip, at, vp.mapToGlobal(at)))
    qtbot.waitUntil(lambda: QToolTip.text() == tip, timeout=3000)


def test_a_mark_waits_for_its_ticks_and_a_grown_span_replaces_it(qtbot, fake_engine, win):
    rng = np.random.default_rng(1)
    start = len(win.text.text())
    first = fake_engine.tick + 1
    word = "xx The quick brown fox jumps yy"
    a = word.index("The")
    end1, end2 = word.index(" fox"), word.index(" yy")
    fake_engine.publish(fake_engine.make_verbatim(first + a, first + end1 - 1, "verse", 10, 2).encode())  # before
    qtbot.wait(300)
    assert win.verbatim.applied == 0 and len(win.verbatim.pending) == 1  # its characters are not there yet
    for p in publish_word(fake_engine, word, rng)[1]:
        fake_engine.publish(p)
    qtbot.waitUntil(lambda: win.verbatim.applied == 1, timeout=10000)
    assert [i for i in range(len(word)) if highlighted(win.text, start + i)] == list(range(a, end1))
    fake_engine.publish(fake_engine.make_verbatim(first + a, first + end2 - 1, "verse", 10, 2).encode())  # it grew
    qtbot.waitUntil(lambda: win.verbatim.applied == 2, timeout=10000)
    assert [i for i in range(len(word)) if highlighted(win.text, start + i)] == list(range(a, end2))
    assert list(win.verbatim.spans) == [first + a]  # one span, the longer one
