"""The Qt shell of burn-in care (`burn_in`): moves a text view's text by `burn_in_offset` in fullscreen.

The viewport moves inside fixed margins (left + right and top + bottom stay twice the amplitude),
so the text area keeps its size and nothing re-wraps when it moves; only a whole-pixel move of
the drawn text remains, once every few minutes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from textconductor.frontend.burn_in import BurnInSettings, burn_in_offset


class BurnInShift(QObject):
    """Moves `view`'s text by `burn_in_offset` while `window` is fullscreen; 0 otherwise.

    `clock` is injectable (tests); a timer checks once a second (cheap: it only moves the text when
    the offset changes) and a change of the window's state applies at once.
    """

    def __init__(self, view: QAbstractScrollArea, window: QWidget, settings: BurnInSettings,
                 clock: Callable[[], float] = time.monotonic, interval_ms: int = 1000) -> None:
        super().__init__(view)
        self.view, self.window, self.settings, self.clock = view, window, settings, clock
        self.offset: tuple[int, int] = (0, 0)
        self._margin = -1  # the margin last applied (settings.px while active, else 0)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.update)
        self._timer.start()
        window.installEventFilter(self)

    @property
    def active(self) -> bool:
        return self.settings.on and self.window.isFullScreen()

    def set_settings(self, settings: BurnInSettings) -> None:
        self.settings = settings
        self.update()

    def update(self) -> None:
        """Apply the offset for now (0 and no margins when not fullscreen)."""
        if self.active:
            margin = self.settings.px
            dx, dy = burn_in_offset(self.clock(), margin, self.settings.every_s)
        else:
            margin, dx, dy = 0, 0, 0
        if (dx, dy) == self.offset and margin == self._margin:
            return
        self.offset, self._margin = (dx, dy), margin
        # left+right and top+bottom stay 2 x margin: the viewport moves, it never changes size
        self.view.setViewportMargins(margin + dx, margin + dy, margin - dx, margin - dy)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if obj is self.window and ev.type() == QEvent.Type.WindowStateChange:
            QTimer.singleShot(0, self.update)
        return False
