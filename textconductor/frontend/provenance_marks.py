"""Verbatim spans in the text view: a faint highlight over text the engine found word for word in a
corpus (`/tc/verbatim`, engine/provenance.py), and a tooltip naming the book, line and offset.

The engine sends a mark at every tick that ends a span of at least its minimum, so a span grows
as it is written; the same start supersedes the earlier mark. A mark can arrive before the ticks
it names (the link hands ticks over once per socket drain), so marks wait here until their
characters are in the view, and a timer applies them: no hook in the window's paint path.
Tick -> character offset comes from the curation's `TickMap` (one map of ticks to the view).

Highlight, not underline: the guard's marks are dotted underlines, and both can hold at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QColor, QHelpEvent, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import QToolTip

from textconductor.frontend.curation_state import TickMap
from textconductor.protocol.messages import Verbatim

if TYPE_CHECKING:
    from textconductor.frontend.main_window import MainWindow
    from textconductor.frontend.stream import TickStream
    from textconductor.frontend.text_view import TextView

APPLY_EVERY_MS = 100
HIGHLIGHT_ALPHA = 0.22
KEEP_PENDING = 200  # marks waiting for their ticks; older ones are dropped (their ticks were lost)
KEEP_SPANS = 2000
VERBATIM_PROPERTY = QTextFormat.Property.UserProperty + 14  # the tooltip text, beside the char's own format


def tooltip(v: Verbatim, display: str) -> str:
    n = v.end_tick - v.start_tick + 1
    return f"{n} characters verbatim from {display}: line {v.line:,}, character {v.offset:,} of its corpus"


class VerbatimMarks(QObject):
    """Keeps the engine's verbatim marks and draws them into one text view."""

    def __init__(self, view: TextView, stream: TickStream, display: Callable[[str], str], colour: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view, self.stream, self.display = view, stream, display
        self.ticks = TickMap()
        self.pending: OrderedDict[int, Verbatim] = OrderedDict()  # start tick -> the latest mark for it
        self.spans: OrderedDict[int, Verbatim] = OrderedDict()  # applied, by start tick
        self.applied = 0  # marks drawn (a grown span counts again)
        c = QColor(colour)
        c.setAlphaF(HIGHLIGHT_ALPHA)
        self._colour = c
        view.viewport().installEventFilter(self)
        self._timer = QTimer(self)
        self._timer.setInterval(APPLY_EVERY_MS)
        self._timer.timeout.connect(self.apply)
        self._timer.start()

    def on_ticks(self, ticks: list) -> None:
        """Connected after the window's own handler: the stream has queued these ticks already."""
        if ticks:
            queued = sum(len(text) for text, _ in self.stream.pending)
            self.ticks.add(self.view.chars_total + queued - len(ticks), [t.tick for t in ticks])

    def on_verbatim(self, v: Verbatim) -> None:
        self.pending[v.start_tick] = v
        self.pending.move_to_end(v.start_tick)
        while len(self.pending) > KEEP_PENDING:
            self.pending.popitem(last=False)

    def apply(self) -> None:
        """Draw every waiting mark whose characters the view holds now."""
        if not self.pending:
            return
        doc = self.view.document()
        doc_len = doc.characterCount() - 1
        base = self.view.chars_total - doc_len  # absolute offset of document position 0
        cur = QTextCursor(doc)
        for start in list(self.pending):
            v = self.pending[start]
            where = self.ticks.offsets_of(v.start_tick, v.end_tick + 1)
            if where is None or where[1] > self.view.chars_total:  # not shown yet (queued, or not arrived)
                continue
            del self.pending[start]
            a, b = max(where[0] - base, 0), min(where[1] - base, doc_len)
            if a >= b:
                continue  # trimmed off the top, or cleared
            fmt = QTextCharFormat()
            fmt.setBackground(self._colour)
            fmt.setProperty(VERBATIM_PROPERTY, tooltip(v, self.display(v.style)))
            cur.setPosition(a)
            cur.setPosition(b, QTextCursor.MoveMode.KeepAnchor)
            cur.mergeCharFormat(fmt)
            self.spans[start] = v
            self.spans.move_to_end(start)
            while len(self.spans) > KEEP_SPANS:
                self.spans.popitem(last=False)
            self.applied += 1

    def tooltip_at(self, pos) -> str:
        """The tooltip of the character under a viewport point ('' where nothing is marked)."""
        cur = self.view.cursorForPosition(pos)
        if cur.position() < self.view.document().characterCount() - 1:
            cur.movePosition(QTextCursor.MoveOperation.NextCharacter)  # the format of the char after the point
        value = cur.charFormat().property(VERBATIM_PROPERTY)
        return value if isinstance(value, str) else ""

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ToolTip and isinstance(e, QHelpEvent):
            tip = self.tooltip_at(e.pos())
            if tip:
                QToolTip.showText(e.globalPos(), tip, self.view.viewport())
            else:
                QToolTip.hideText()
            return True
        return False


def attach(window: MainWindow) -> VerbatimMarks:
    """The marks in the window's text view, fed by its link (one hook line in main_window.py)."""
    def display(style: str) -> str:
        look = window.looks.get(style)
        return look.display if look else style
    marks = VerbatimMarks(window.text, window.stream, display, window.theme.colours["accent"], window)
    window.link.ticks.connect(marks.on_ticks)
    window.link.verbatim.connect(marks.on_verbatim)
    return marks
