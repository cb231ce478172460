"""Keep and reject in the window: K and R, the buttons, the text view's selection as a tick range, the
margin marks and the count drawn from the engine's `/tc/marked` (a real window on a fake engine)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCursor

from tests.frontend.test_render import connect
from tests.frontend.test_shortcuts import sent_after
from textconductor.frontend.curation_state import MarkList, TickMap
from textconductor.frontend.midi_menu import learn_target_of

K = Qt.Key
HISTORY = "In the beginning"  # the fake engine's hello history, shown before any tick
TEXT = "Kept words here.\n\nmore text"


@pytest.fixture
def win(qtbot, fake_engine):
    w = connect(qtbot, fake_engine)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    rng = np.random.default_rng(0)
    w.ticks_sent = [fake_engine.make_tick(c, 0, rng) for c in TEXT]
    for t in w.ticks_sent:
        fake_engine.publish(t.encode())
    qtbot.waitUntil(lambda: w.text.text().endswith(TEXT), timeout=10000)
    return w


def test_a_mark_from_the_engine_shows_in_the_margin_with_a_count(qtbot, win, fake_engine):
    ticks = win.ticks_sent
    fake_engine.mark("keep", ticks[0].tick, ticks[15].tick + 1)  # "Kept words here."
    qtbot.waitUntil(lambda: win.curation.count.text() == "kept 1", timeout=5000)
    start = win.text.text().index(TEXT)
    assert win.curation.margin.spans() == [("keep", start, start + 15)]
    win.curation.margin.repaint()
    (kind, rect), = win.curation.margin.bars
    assert kind == "keep" and rect.height() > 5
    pixel = win.text.viewport().grab().toImage().pixelColor(1, rect.center().y())
    assert pixel == QColor(win.theme.colours["online"])
    fake_engine.mark("reject", ticks[0].tick, ticks[15].tick + 1)  # the same range, changed
    qtbot.waitUntil(lambda: win.curation.count.text() == "kept 0 · rejected 1", timeout=5000)
    assert [k for k, *_ in win.curation.margin.spans()] == ["reject"]


def test_k_and_r_mark_the_passage_since_the_last_mark(qtbot, win, fake_engine):
    assert sent_after(qtbot, fake_engine, lambda: qtbot.keyClick(win, K.Key_K)) == [("keep", ())]
    assert sent_after(qtbot, fake_engine, lambda: qtbot.keyClick(win, K.Key_R)) == [("reject", ())]
    assert sent_after(qtbot, fake_engine, lambda: win.control("keep")) == [("keep", ())]  # MIDI pads, presets
    for kind, button in win.curation.buttons.items():  # MIDI learn: click the button, hit a pad
        assert learn_target_of(button, win) == kind


def test_the_selection_is_marked_as_its_tick_range(qtbot, win, fake_engine):
    doc_start = win.text.text().index(TEXT)
    cur = QTextCursor(win.text.document())
    cur.setPosition(doc_start + TEXT.index("words"))
    cur.setPosition(doc_start + TEXT.index("words") + 5, QTextCursor.MoveMode.KeepAnchor)
    win.text.setTextCursor(cur)
    first = win.ticks_sent[TEXT.index("words")].tick
    got = sent_after(qtbot, fake_engine, lambda: win.curation.buttons["keep"].click())
    assert got == [("keep", (first, first + 5))]
    assert not win.text.textCursor().hasSelection()  # used once
    cur.setPosition(0)
    cur.setPosition(len(HISTORY) - 2, QTextCursor.MoveMode.KeepAnchor)  # the hello's text: no ticks in it
    win.text.setTextCursor(cur)
    fake_engine.poll()
    win.curation.mark("keep")
    qtbot.wait(200)
    assert fake_engine.poll() == [] and "no generated text" in win.status.message.text()


def test_tick_map_and_mark_list_without_qt():
    m = TickMap(keep=6)
    m.add(10, [100, 101, 102])
    m.add(20, [103, 104, 105, 106])  # primed text between them moved the offsets on
    assert m.ticks_in(11, 21) == (101, 104) and m.ticks_in(13, 20) is None
    assert m.offsets_of(101, 104) == (11, 21)
    m.add(30, [107, 108, 109])  # past keep + keep/2: trimmed to the last `keep`
    assert m.ticks == [104, 105, 106, 107, 108, 109]
    assert m.offsets_of(100, 101) is None and m.offsets_of(107, 109) == (30, 32)
    m.add(40, [108, 109])  # an engine restarted from a snapshot behind what we saw: from 108 on, anew
    assert m.ticks == [104, 105, 106, 107, 108, 109] and m.offsets_of(108, 110) == (40, 42)
    assert m.offsets_of(104, 108) == (21, 31)  # the ticks before the restart stay where they were drawn
    assert m.ticks_in(31, 40) is None  # the characters the restart took back belong to no tick now
    m.add(50, [5])  # an engine that restarted from nothing: the map starts afresh
    assert m.ticks == [5]
    marks = MarkList()
    marks.add("keep", 1, 5, 1, 0)
    marks.add("reject", 1, 5, 0, 1)
    assert [(s.kind, s.start) for s in marks.shown()] == [("reject", 1)] and marks.label() == "kept 0 · rejected 1"
