"""The output window: the text alone, very large, for a second screen or a projector.

A window of its own (not a mode of the main one) so the performer keeps every control on the laptop
while the audience sees only the text; F11 fills the screen it is on, Escape closes it. Where it goes
and its text size are the main window's choice (`screen_fit.fit_output`: the second screen if any).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QVBoxLayout, QWidget

from textconductor.frontend.burn_in import BurnInSettings
from textconductor.frontend.burn_in_shift import BurnInShift
from textconductor.frontend.placement import FullscreenToggle
from textconductor.frontend.text_view import TextView
from textconductor.frontend.theme import Theme


class OutputWindow(QWidget):
    """Text only, for a second screen or a projector (F11 fullscreen, Escape closes). `text_px`: the
    text's pixel size for the screen it goes on (None: the theme's `output_pt`); `burn_in`: the text moves a
    few pixels every few minutes while the window is fullscreen (None: as frontend.toml's `[screen]` says)."""

    closed = Signal()

    def __init__(self, theme: Theme, text_px: int | None = None, burn_in: BurnInSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("textconductor — output")
        c = theme.colours
        self.setStyleSheet(f"background: {c['background']};")
        self.text = TextView(str(theme.fonts["text_family"]), theme.pt("output_pt"), c["background"],
                             c["foreground"], int(theme.text.get("scrollback_chars", 20000)), pixel_size=text_px)
        self.text.setObjectName("output-text")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(40, 30, 40, 30)
        lay.addWidget(self.text)
        self.toggle_fullscreen = FullscreenToggle(self)
        QShortcut(QKeySequence("F11"), self, self.toggle_fullscreen)
        QShortcut(QKeySequence("Escape"), self, self.close)
        self.burn_in = BurnInShift(self.text, self, burn_in or BurnInSettings.from_screen(theme.screen))

    def closeEvent(self, e: QCloseEvent) -> None:
        self.closed.emit()
        super().closeEvent(e)
