"""The output window: the text alone, very large, for a second screen or a projector.

A window of its own (not a mode of the main one) so the performer keeps every control on the laptop
while the audience sees only the text; F11 fills the screen it is on, Escape closes it.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QVBoxLayout, QWidget

from textconductor.frontend.text_view import TextView
from textconductor.frontend.theme import Theme


class OutputWindow(QWidget):
    """Text only, for a second screen or a projector (F11 fullscreen, Escape closes)."""

    closed = Signal()

    def __init__(self, theme: Theme) -> None:
        super().__init__()
        self.setWindowTitle("textconductor — output")
        c = theme.colours
        self.setStyleSheet(f"background: {c['background']};")
        self.text = TextView(str(theme.fonts["text_family"]), theme.pt("output_pt"), c["background"],
                             c["foreground"], int(theme.text.get("scrollback_chars", 20000)))
        self.text.setObjectName("output-text")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(40, 30, 40, 30)
        lay.addWidget(self.text)
        QShortcut(QKeySequence("F11"), self, self.toggle_fullscreen)
        QShortcut(QKeySequence("Escape"), self, self.close)

    def toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def place(self, avoid: QWidget) -> None:
        """Fill a screen `avoid` is not on (a projector) if there is one; else a 1280x720 window."""
        screens = QGuiApplication.screens()
        if len(screens) > 1:
            other = next((s for s in screens if s is not avoid.screen()), screens[-1])
            self.setGeometry(other.geometry())
            self.showFullScreen()
        else:
            self.resize(1280, 720)
            self.show()

    def closeEvent(self, e: QCloseEvent) -> None:
        self.closed.emit()
        super().closeEvent(e)
