"""A tiny self-contained QWidget that draws the tracked hand: skeleton, palm cursor, gesture, status.

Why a widget of its own: the main window's owner can drop it in (or copy `paint_overlay` into the puck
view) without learning the tracking code. It polls `source()` (e.g. `HandController.overlay`) on a Qt
timer, on the GUI thread: the tracking thread is never waited for, and no cross-thread signal is needed.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QWidget

from textconductor.controllers.hand_gestures import CONNECTIONS
from textconductor.controllers.hands import HandOverlay

GESTURE_COLOURS: dict[str, str] = {
    "open": "#4caf50", "fist": "#f44336", "pinch": "#ffc107", "other": "#90a4ae", "none": "#607d8b",
}


def paint_overlay(p: QPainter, rect: QRectF, ov: HandOverlay) -> None:
    """Draw `ov` into `rect` (landmarks are 0..1 of the rect, y down), with a caption line at the bottom."""
    colour = QColor(GESTURE_COLOURS.get(ov.gesture, "#90a4ae"))
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)

    def at(x: float, y: float) -> QPointF:
        return QPointF(rect.left() + x * rect.width(), rect.top() + y * rect.height())

    if len(ov.landmarks) == 21:
        p.setPen(QPen(colour, 2.0))
        for a, b in CONNECTIONS:
            p.drawLine(at(*ov.landmarks[a]), at(*ov.landmarks[b]))
        p.setBrush(colour)
        for x, y in ov.landmarks:
            p.drawEllipse(at(x, y), 2.5, 2.5)
    if ov.palm is not None:
        r = 9.0 if ov.grabbed else 6.0
        p.setPen(QPen(QColor("white"), 2.0))
        p.setBrush(colour if ov.grabbed else Qt.BrushStyle.NoBrush)
        p.drawEllipse(at(*ov.palm), r, r)
    caption = ov.gesture if ov.status in ("tracking",) else ov.status
    if ov.grabbed:
        caption += " - grabbed"
    if ov.paused:
        caption += " - paused"
    if ov.latency_ms:
        caption += f"  {ov.latency_ms:.0f} ms"
    p.setPen(QColor("white"))
    f = QFont(p.font())
    f.setPointSizeF(max(8.0, rect.height() / 18.0))
    p.setFont(f)
    p.drawText(rect.adjusted(4, 4, -4, -4), int(Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft), caption)


class HandOverlayWidget(QWidget):
    """Draws the latest `HandOverlay` from `source()` about 30 times a second (or on `set_overlay`)."""

    def __init__(self, source: Callable[[], HandOverlay] | None = None, interval_ms: int = 33,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._overlay = HandOverlay()
        self.setMinimumSize(120, 90)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._poll)
        if source is not None:
            self._timer.start(interval_ms)

    def overlay(self) -> HandOverlay:
        return self._overlay

    def set_overlay(self, ov: HandOverlay) -> None:
        """Show this snapshot (call on the GUI thread)."""
        if ov != self._overlay:
            self._overlay = ov
            self.update()

    def _poll(self) -> None:
        if self._source is not None:
            self.set_overlay(self._source())

    def paintEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        try:
            p.fillRect(self.rect(), QColor("#202124"))
            paint_overlay(p, QRectF(self.rect()), self._overlay)
        finally:
            p.end()
