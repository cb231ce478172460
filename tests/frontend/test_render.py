"""Rendering from published messages, with a fake publisher (real OSC datagrams, protocol encoders):
text appears tinted by attribution, bars follow the latest tick, bursts are coalesced, garbage is
ignored, scrollback stays bounded over 100k characters without moving what the reader looks at."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QTextCursor

from tests.frontend.conftest import STYLES, open_window
from textconductor import protocol
from textconductor.protocol.charset import CHARS


def connect(qtbot, fake):
    win = open_window(qtbot, f"127.0.0.1:{fake.port}")
    qtbot.waitUntil(lambda: bool(fake.poll()) or fake.subscriber is not None, timeout=10000)
    qtbot.waitUntil(lambda: win.names == STYLES and win.link.online, timeout=10000)
    return win


def colour_at(win, pos: int) -> str:
    cur = QTextCursor(win.text.document())
    cur.setPosition(pos + 1)
    return cur.charFormat().foreground().color().name()


def test_text_and_bars_follow_published_ticks(qtbot, fake_engine):
    win = connect(qtbot, fake_engine)
    assert "In the beginning" in win.text.text()  # the hello's history
    before = len(win.text.text())
    rng = np.random.default_rng(0)
    word = "Lord int x"
    winners = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    ticks = [fake_engine.make_tick(c, w, rng) for c, w in zip(word, winners, strict=True)]
    for t in ticks:
        fake_engine.publish(t.encode())
    qtbot.waitUntil(lambda: win.text.text().endswith(word), timeout=10000)
    # each character in the colour of the style with the largest attribution
    for k, w in enumerate(winners):
        expected = QColor(win.looks[STYLES[w]].text_colour).name()
        assert colour_at(win, before + k) == expected, (k, word[k])
    # the bars show the last tick: the chosen character highlighted, heights proportional to `mixed`
    last = ticks[-1]
    qtbot.waitUntil(lambda: win.bars.item._highlight is not None, timeout=5000)
    assert win.bars.item._highlight.x() == CHARS.index("x") - 0.5
    heights = {round(r.x() + 0.4): r.height() for _, rects in win.bars.item._groups for r in rects}
    top = max(heights.values())
    best = int(np.argmax(last.mixed))
    assert heights[best] == top
    # small multiples: one labelled plot per active style
    assert sorted(win.multiples.labels()) == sorted(win.looks[n].display for n in STYLES)
    assert win.multiples.chosen == CHARS.index("x")


def test_burst_is_coalesced_and_complete(qtbot, fake_engine):
    win = connect(qtbot, fake_engine)
    rng = np.random.default_rng(1)
    text = "".join(rng.choice(list("abcdefgh \n"), size=600))
    drawn = []
    orig = win.bars.show_distribution
    win.bars.show_distribution = lambda *a, **k: (drawn.append(1), orig(*a, **k))
    packets = [fake_engine.make_tick(c, 0, rng).encode() for c in text]
    for p in packets:
        fake_engine.publish(p)
    qtbot.waitUntil(lambda: win.text.text().endswith(text), timeout=15000)
    assert win.ticks_received >= len(text)
    assert len(drawn) < len(text) / 2  # bars drawn per frame, not per tick


def test_garbage_from_the_engine_side_is_ignored(qtbot, fake_engine):
    win = connect(qtbot, fake_engine)
    good = fake_engine.make_tick("a", 0, np.random.default_rng(5))
    short = protocol.Tick(1, "a", good.attribution, good.mixed[:50], good.active, good.dists[:, :50], good.weights)
    for junk in (b"", b"\x00\x01\x02", b"#bundle\x00garbage!", protocol.message("/tc/tick", 1, "a"), short.encode(),
                 protocol.message("/tc/status", "x"), protocol.message("/nope", 1.0)):
        fake_engine.publish(junk)
    fake_engine.publish(fake_engine.make_tick("Q", 0, np.random.default_rng(2)).encode())
    qtbot.waitUntil(lambda: win.text.text().endswith("Q"), timeout=10000)
    assert win.link.online
    assert not win.text.text().endswith("aQ")  # the malformed tick was dropped
    assert win.link.undecodable >= 2


def test_status_line_shows_engine_status(qtbot, fake_engine):
    win = connect(qtbot, fake_engine)
    fake_engine.publish(protocol.Status(tick=5, rate=14.5, step_ms=0.42, step_ms_max=1.5, active=2, rejected=7,
                                     paused=True, subscribers=1).encode())
    qtbot.waitUntil(lambda: "rejected 7" in win.status.rejected.text(), timeout=10000)
    assert "14.5 ch/s" in win.status.rate.text() and "paused" in win.status.rate.text()
    assert "0.42" in win.status.step.text()
    assert win.controls.pause_btn.text() == "Resume"
    assert "connected" in win.status.conn.text()


def test_offline_when_publisher_goes_silent_and_back(qtbot, fake_engine):
    win = connect(qtbot, fake_engine)
    qtbot.waitUntil(lambda: not win.link.online, timeout=10000)  # fake sends no periodic status
    assert "offline" in win.status.conn.text()
    # the frontend keeps re-subscribing on its own; answering brings it back
    qtbot.waitUntil(lambda: any(c.name == "subscribe" for c in fake_engine.poll()), timeout=10000)
    qtbot.waitUntil(lambda: win.link.online, timeout=10000)
    assert "connected" in win.status.conn.text()


def test_scrollback_bounded_after_100k_characters(qtbot, fake_engine):
    win = connect(qtbot, fake_engine)
    rng = np.random.default_rng(3)
    base = fake_engine.make_tick("a", 0, rng)
    words = "the quick brown fox jumps over the lazy dog and then some more words\n"
    line = words * 3  # long lines too
    fed = []
    total = 0
    while total < 100_000:
        batch = []
        for c in line:
            batch.append(protocol.Tick(total, c, base.attribution, base.mixed, base.active, base.dists, base.weights))
            total += 1
        fed.append(line)
        win.on_ticks(batch)
        win.render_frame()
    doc = win.text.document()
    limit = win.text.max_chars + win.text._slack
    assert win.text.chars_total >= 100_000
    assert doc.characterCount() <= limit + len(line)
    assert win.text.text().endswith(line)
    sb = win.text.verticalScrollBar()
    assert sb.value() == sb.maximum()  # still following the end


def test_scrollback_trim_does_not_move_what_the_reader_sees(qtbot, fake_engine):
    win = connect(qtbot, fake_engine)
    for i in range(1500):
        win.text.append_text(f"line {i:05d} " + "x" * 20 + "\n")
    qtbot.wait(50)
    sb = win.text.verticalScrollBar()
    sb.setValue(sb.maximum() // 2)  # the reader scrolled back
    first = win.text.firstVisibleBlock().text()
    trimmed_before = win.text.document().firstBlock().text()
    for i in range(1500, 1700):  # enough to trim the top, not enough to trim what the reader is on
        win.text.append_text(f"line {i:05d} " + "x" * 20 + "\n")
    assert win.text.document().firstBlock().text() != trimmed_before  # a trim happened
    assert win.text.firstVisibleBlock().text() == first


def test_opaque_views_paint_their_background(qtbot):
    """Views marked opaque (for speed) must paint every pixel: grab them and check the stage colour."""
    win = open_window(qtbot, "127.0.0.1:9")
    qtbot.waitExposed(win)
    img = win.grab().toImage()
    bg = QColor(win.theme.colours["background"]).rgb()
    for w in (win.text, win.multiples):
        r = w.rect()
        for pt in (r.center(), r.topLeft() + r.center() / 4):  # empty areas of each view
            p = w.mapTo(win, pt)
            assert img.pixel(p.x(), p.y()) == bg, w.objectName() or type(w).__name__
