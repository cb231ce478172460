"""The typewriter: generated text, each character tinted by the style that contributed most.

Characters are appended in runs of equal colour (one `insertText` per run, not per character).
Scrollback is bounded by characters, not lines, because generated code or verse may go a long
time without a newline: once the document exceeds `max_chars` plus a slack, the oldest text is cut
at a line boundary where possible. While the view follows the end, trimming the top cannot move
what is on screen; when the reader has scrolled back, the scroll position is shifted by the lines
removed so the text they are reading stays put.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPaintEvent,
    QPalette,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QFrame, QPlainTextEdit, QWidget

VISIBLE = {"\n": "\n", "\t": "\t"}


class TextView(QPlainTextEdit):
    def __init__(self, font_family: str, point_size: float, background: str, foreground: str,
                 max_chars: int = 20000, parent: QWidget | None = None, pixel_size: int | None = None) -> None:
        super().__init__(parent)
        self.max_chars = max(1000, int(max_chars))
        self._slack = max(500, self.max_chars // 10)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self._sheet = f"background: {background}; color: {foreground}; border: none; padding: 12px;"
        # Opaque: a new character then repaints only this view, never the style-sheeted parents behind it.
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._background = QColor(background)
        pal = self.palette()
        pal.setColor(QPalette.ColorRole.Base, QColor(background))
        pal.setColor(QPalette.ColorRole.Text, QColor(foreground))
        self.setPalette(pal)
        self.viewport().setPalette(pal)
        self.set_point_size(font_family, point_size, pixel_size)
        self._formats: dict[str, QTextCharFormat] = {}
        self._default = foreground
        self._cursor = QTextCursor(self.document())
        self.chars_total = 0

    def paintEvent(self, e: QPaintEvent) -> None:
        """The viewport promises Qt it paints every pixel (WA_OpaquePaintEvent): keep the promise."""
        p = QPainter(self.viewport())
        p.fillRect(e.rect(), self._background)
        p.end()
        super().paintEvent(e)

    def set_point_size(self, family: str, point_size: float, pixel_size: int | None = None) -> None:
        """The text's font. `pixel_size` (from the screen: a cap height the audience can read) wins over
        `point_size`, whose size in pixels depends on the display's DPI setting."""
        f = QFont(family)
        if pixel_size:
            f.setPixelSize(int(pixel_size))
        else:
            f.setPointSizeF(point_size)
        f.setStyleHint(QFont.StyleHint.Monospace)
        # The font goes into this widget's own style sheet too: a window's sheet sets every QWidget's font
        # (`QWidget { font-size: ... }` in stylesheet.py), and a sheet beats setFont, so the text once
        # came out in the 11 pt UI font, whatever the theme or the screen asked for.
        size = f"{int(pixel_size)}px" if pixel_size else f"{point_size:.2f}pt"
        self.setStyleSheet(f"QPlainTextEdit {{ {self._sheet} font-family: '{family}'; font-size: {size}; }}")
        self.setFont(f)
        self.document().setDefaultFont(f)
        self.setTabStopDistance(4 * QFontMetricsF(f).horizontalAdvance(" "))

    def _fmt(self, colour: str | None) -> QTextCharFormat:
        key = colour or self._default
        fmt = self._formats.get(key)
        if fmt is None:
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(key))
            self._formats[key] = fmt
        return fmt

    def append_runs(self, runs: list[tuple[str, str | None]]) -> None:
        """Append (text, colour) runs; colour None is the plain foreground."""
        if not runs:
            return
        sb = self.verticalScrollBar()
        following = sb.value() >= sb.maximum() - 1
        cur = self._cursor
        cur.movePosition(QTextCursor.MoveOperation.End)
        for text, colour in runs:
            if text:
                cur.insertText(text, self._fmt(colour))
                self.chars_total += len(text)
        self._trim(following)
        if following:
            sb.setValue(sb.maximum())

    def append_text(self, text: str, colour: str | None = None) -> None:
        self.append_runs([(text, colour)])

    def _trim(self, following: bool) -> None:
        doc = self.document()
        excess = doc.characterCount() - self.max_chars
        if excess <= self._slack:
            return
        # Cut at the start of the line that contains position `excess`, if that line is not huge.
        block = doc.findBlock(excess)
        cut = block.position() if excess - block.position() < self._slack else excess
        if cut <= 0:
            cut = excess
        removed_lines = doc.findBlock(cut).blockNumber()
        sb = self.verticalScrollBar()
        keep_at = sb.value()
        cur = QTextCursor(doc)
        cur.movePosition(QTextCursor.MoveOperation.Start)
        cur.setPosition(cut, QTextCursor.MoveMode.KeepAnchor)
        cur.removeSelectedText()
        if not following:
            sb.setValue(max(0, keep_at - removed_lines))

    def text(self) -> str:
        return self.toPlainText()

    def clear_text(self) -> None:
        self.clear()
        self._cursor = QTextCursor(self.document())
