"""Keep and reject in the window: buttons and keys (K, R), the text view's selection, margin marks, a count.

The performer marks the passage since the last mark or paragraph break (K keeps, R rejects; the
same key right after a mark changes its kind), or selects text with the mouse and presses K or R to
mark exactly that span. The engine resolves and records every mark (engine/marks.py) and answers
`/tc/marked`; only then does the window draw a margin mark beside the passage (green kept, red
rejected) and update the count, so what the window shows is what the record holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QRect, Qt
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPaintEvent, QShortcut, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from textconductor.frontend.curation_state import MARK_CONTROLS, MarkList, TickMap
from textconductor.frontend.stream import TickStream
from textconductor.frontend.text_view import TextView
from textconductor.protocol.messages import Marked

log = logging.getLogger(__name__)

MARGIN_PX = 4  # the mark's width, inside the text's document margin
KEYS = {"keep": "K", "reject": "R"}


class MarginMarks(QWidget):
    """A thin strip over the left edge of the text view's viewport: one bar beside each marked passage."""

    def __init__(self, view: TextView, curation: Curation) -> None:
        super().__init__(view.viewport())
        self.view, self.curation = view, curation
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.bars: list[tuple[str, QRect]] = []  # what the last paint drew (tests read it)
        self._fit()
        view.updateRequest.connect(lambda *_: self._fit())

    def _fit(self) -> None:
        h = self.view.viewport().height()
        if self.geometry() != QRect(0, 0, MARGIN_PX, h):
            self.setGeometry(0, 0, MARGIN_PX, h)
        self.raise_()
        self.update()

    def spans(self) -> list[tuple[str, int, int]]:
        """(kind, first, last) document positions of the marks now in the document."""
        doc_len = self.view.document().characterCount() - 1
        base = self.view.chars_total - doc_len  # absolute offset of document position 0
        out = []
        for m in self.curation.marks.shown():
            where = self.curation.ticks.offsets_of(m.start, m.end)
            if where is None:
                continue
            a, b = where[0] - base, where[1] - base
            if b <= 0 or a >= doc_len:
                continue
            out.append((m.kind, max(a, 0), min(b, doc_len) - 1))
        return out

    def paintEvent(self, e: QPaintEvent) -> None:
        p = QPainter(self)
        self.bars = []
        for kind, a, b in self.spans():
            top = self.view.cursorRect(self._cursor(a)).top()
            bottom = self.view.cursorRect(self._cursor(b)).bottom()
            if bottom < 0 or top > self.height():
                continue
            rect = QRect(0, top, MARGIN_PX, max(bottom - top, 2))
            p.fillRect(rect, QColor(self.curation.colours[kind]))
            self.bars.append((kind, rect))
        p.end()

    def _cursor(self, pos: int) -> QTextCursor:
        c = QTextCursor(self.view.document())
        c.setPosition(pos)
        return c


class Curation(QObject):
    """The window's keep/reject: owns the buttons, the count, the margin marks and the tick map."""

    def __init__(self, window: QWidget, view: TextView, controls: QWidget, stream: TickStream,
                 send: Callable[..., None], fallback: Callable[[str], None], colours: dict[str, str],
                 message: Callable[[str], None] = lambda _: None) -> None:
        """`send(address, *args)` goes to the engine; `fallback(kind)` marks without a selection (the
        performer's control, so MIDI and presets stay one path); `message` shows a line in the status bar."""
        super().__init__(window)
        self.view, self.stream, self.send, self.fallback, self.message = view, stream, send, fallback, message
        self.colours = {"keep": colours["online"], "reject": colours["offline"]}
        self.ticks = TickMap()
        self.marks = MarkList()
        view.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.panel = QWidget()
        row = QHBoxLayout(self.panel)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        self.buttons: dict[str, QPushButton] = {}
        for kind in MARK_CONTROLS:
            b = QPushButton(kind.capitalize())
            b.setObjectName(kind)  # MIDI learn arms the target of the widget's name (midi_menu.LEARN_WIDGETS)
            b.setToolTip(f"{kind} the passage since the last mark or paragraph break, or the selected text "
                         f"({KEYS[kind]})")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, k=kind: self.mark(k))
            row.addWidget(b)
            self.buttons[kind] = b
            QShortcut(QKeySequence(KEYS[kind]), window, lambda k=kind: self.mark(k))
        self.count = QLabel(self.marks.label())
        self.count.setObjectName("marks")
        row.addWidget(self.count)
        layout = controls.layout()
        if layout is not None:
            layout.addWidget(self.panel)
        self.margin = MarginMarks(view, self)

    # -- from the engine -------------------------------------------------------------------------
    def on_ticks(self, ticks: list) -> None:
        """Where these ticks' characters land: after what the view holds and what is queued before them.

        Connected after the window's own `on_ticks`, so the stream has queued them already."""
        if not ticks:
            return
        queued = sum(len(text) for text, _ in self.stream.pending)
        self.ticks.add(self.view.chars_total + queued - len(ticks), [t.tick for t in ticks])

    def on_marked(self, m: Marked) -> None:
        self.marks.add(m.kind, m.start, m.end, m.kept, m.rejected)
        self.count.setText(self.marks.label())
        self.margin.update()

    # -- from the performer ----------------------------------------------------------------------
    def selection(self) -> tuple[int, int] | None:
        """The tick range of the view's selection, or None (no selection, or no generated text in it)."""
        cur = self.view.textCursor()
        if not cur.hasSelection():
            return None
        base = self.view.chars_total - (self.view.document().characterCount() - 1)
        return self.ticks.ticks_in(cur.selectionStart() + base, cur.selectionEnd() + base)

    def mark(self, kind: str) -> None:
        """Keep or reject the selection if there is one, else the passage since the last mark."""
        span = self.selection()
        cur = self.view.textCursor()
        if cur.hasSelection():
            cur.clearSelection()
            self.view.setTextCursor(cur)
            if span is None:
                self.message("the selection holds no generated text: nothing marked")
                return
        if span is not None:
            self.send(f"/tc/{kind}", *span)
            self.message(f"{kind}: ticks {span[0]}..{span[1]}")
        else:
            self.fallback(kind)
            self.message(f"{kind}: the passage since the last mark")
