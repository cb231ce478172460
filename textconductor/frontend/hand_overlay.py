"""A tiny self-contained QWidget that draws the tracked hand: skeleton, palm cursor, gesture, status.

Why a widget of its own: the main window's owner can drop it in (or copy `paint_overlay` into the puck
view) without learning the tracking code. It polls `source()` (e.g. `HandController.overlay`) on a Qt
timer, on the GUI thread: the tracking thread is never waited for, and no cross-thread signal is needed.

It draws any `HandPicture` (controller_api.py) and never imports the controllers: the frontend sits
below them. The skeleton's topology, MediaPipe's fixed 21-point hand, comes from the protocol
(`protocol/hand_skeleton.py`), which the hand controller reads too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QWidget

from textconductor.frontend.controller_api import HandPicture, Point
from textconductor.protocol.hand_skeleton import CONNECTIONS as HAND_CONNECTIONS

GESTURE_COLOURS: dict[str, str] = {
    "open": "#4caf50", "fist": "#f44336", "pinch": "#ffc107", "other": "#90a4ae", "none": "#607d8b",
}


@dataclass(frozen=True)
class NoHand:
    """What the widget shows before its source has said anything (a `HandPicture`)."""

    landmarks: Sequence[Point] = ()
    gesture: str = "none"
    grabbed: bool = False
    paused: bool = False
    palm: Point | None = None
    status: str = "not started"
    latency_ms: float = 0.0


def paint_overlay(p: QPainter, rect: QRectF, ov: HandPicture) -> None:
    """Draw `ov` into `rect` (landmarks are 0..1 of the rect, y down), with a caption line at the bottom."""
    colour = QColor(GESTURE_COLOURS.get(ov.gesture, "#90a4ae"))
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)

    def at(x: float, y: float) -> QPointF:
        return QPointF(rect.left() + x * rect.width(), rect.top() + y * rect.height())

    if len(ov.landmarks) == 21:
        p.setPen(QPen(colour, 2.0))
        for a, b in HAND_CONNECTIONS:
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
    """Draws the latest `HandPicture` from `source()` about 30 times a second (or on `set_overlay`)."""

    def __init__(self, source: Callable[[], HandPicture] | None = None, interval_ms: int = 33,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._overlay: HandPicture = NoHand()
        self.setMinimumSize(120, 90)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._poll)
        if source is not None:
            self._timer.start(interval_ms)

    def overlay(self) -> HandPicture:
        return self._overlay

    def set_overlay(self, ov: HandPicture) -> None:
        """Show this snapshot (call on the GUI thread)."""
        if ov != self._overlay:
            self._overlay = ov
            self.update()

    def _poll(self) -> None:
        if self._source is not None:
            self.set_overlay(self._source())

    def paintEvent(self, event: object) -> None:
        p = QPainter(self)
        try:
            p.fillRect(self.rect(), QColor("#202124"))
            paint_overlay(p, QRectF(self.rect()), self._overlay)
        finally:
            p.end()


class FollowCorner(QObject):
    """Keeps `child` (the overlay) in the bottom-right corner of `host` (the puck panel) when that is resized."""

    def __init__(self, host: QWidget, child: QWidget, margin: int = 8) -> None:
        super().__init__(child)
        self.host, self.child, self.margin = host, child, margin
        host.installEventFilter(self)
        self.place()

    def place(self) -> None:
        m = self.margin
        self.child.move(max(0, self.host.width() - self.child.width() - m),
                        max(0, self.host.height() - self.child.height() - m))

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if obj is self.host and ev.type() == QEvent.Type.Resize:
            self.place()
        return False
