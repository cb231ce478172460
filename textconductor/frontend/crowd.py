"""The audience in the window: a crowd cloud over the puck, the crowd control, and the room's QR code.

The performer keeps the last word. The control (Room: Off / Blend / Crowd, and in Blend how much the
room counts) sends `/tc/crowd_mode`, and shows what the engine reports back (`/tc/crowd_state`), so an
OSC or MIDI change elsewhere shows here too; the engine mixes, so a switch is heard at the next
character. Over the puck, one faint dot per phone (`/tc/crowd_points`, relayed by the engine from the
audience server, at most 200) shows where the room is pulling; the count of phones stands beside the
control. The QR button shows the room's URL as a QR code large enough to scan from the seats
(`ui --audience-url`, which `play --audience` passes): drawn with Qt from segno's matrix.

`attach_crowd(window)` builds all of it into a `MainWindow` and is the only hook the window needs.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from textconductor.protocol.commands import CROWD_MODES
from textconductor.protocol.messages import CrowdPoints, CrowdState

if TYPE_CHECKING:
    from textconductor.frontend.main_window import MainWindow
    from textconductor.frontend.puck import PuckWidget

LABELS = {"off": "Off", "blend": "Blend", "crowd": "Crowd"}
CLOUD_FADE_S = 3.0  # no points for this long (the audience server stopped): the cloud goes


class CrowdCloud(QWidget):
    """One dot per phone over the puck (circle units, drawn with the puck's own mapping)."""

    def __init__(self, puck: PuckWidget, colour: str) -> None:
        super().__init__(puck)
        self.puck = puck
        self.colour = QColor(colour)
        self.points = np.zeros((0, 2), dtype=np.float32)
        self.updated = 0.0
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setGeometry(puck.rect())
        puck.installEventFilter(self)

    def eventFilter(self, obj: QObject, e: QEvent) -> bool:
        if obj is self.puck and e.type() == QEvent.Type.Resize:
            self.setGeometry(self.puck.rect())
        return False

    def show_points(self, points: np.ndarray) -> None:
        self.points = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        self.updated = time.monotonic()
        self.update()

    def fade(self) -> None:
        if len(self.points) and time.monotonic() - self.updated > CLOUD_FADE_S:
            self.show_points(np.zeros((0, 2)))

    def paintEvent(self, _e: QPaintEvent) -> None:
        if not len(self.points):
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        dot = QColor(self.colour)
        dot.setAlphaF(0.55)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(dot)
        r = max(2.5, min(self.width(), self.height()) / 160)
        for x, y in self.points:
            s = self.puck.to_screen(np.array([x, y]))
            p.drawEllipse(s, r, r)
        p.end()


class CrowdControl(QWidget):
    """Room: [Off|Blend|Crowd] [blend slider] N phones [QR]. Emits nothing itself: `send` is called."""

    def __init__(self, send, show_qr) -> None:  # send(mode, blend); show_qr()
        super().__init__()
        self._send, self.blend_value = send, 0.5
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Room:"))
        self.mode = QComboBox()
        self.mode.setObjectName("crowd-mode")
        for m in CROWD_MODES:
            self.mode.addItem(LABELS[m], m)
        self.mode.setToolTip("How much the audience's phones count: Off (you alone), Blend (the slider says how "
                             "much the room counts), Crowd (the room alone). Heard at the next character.")
        self.blend = QSlider(Qt.Orientation.Horizontal)
        self.blend.setObjectName("crowd-blend")
        self.blend.setRange(0, 100)
        self.blend.setValue(50)
        self.blend.setFixedWidth(90)
        self.blend.setToolTip("Blend: how much the room counts (0-100%)")
        self.phones = QLabel("no phones")
        self.phones.setObjectName("crowd-phones")
        self.qr = QPushButton("QR")
        self.qr.setToolTip("Show the room's QR code (phones scan it to join)")
        self.qr.setVisible(False)
        for w in (self.mode, self.blend, self.phones, self.qr):
            row.addWidget(w)
        self.mode.activated.connect(lambda _i: self._changed())
        self.blend.valueChanged.connect(lambda _v: self._changed() if self.current() == "blend" else None)
        self.qr.clicked.connect(show_qr)
        self._sync_enabled()

    def current(self) -> str:
        return str(self.mode.currentData())

    def _changed(self) -> None:
        self._sync_enabled()
        self._send(self.current(), self.blend.value() / 100)

    def _sync_enabled(self) -> None:
        self.blend.setEnabled(self.current() == "blend")

    def show_state(self, s: CrowdState) -> None:
        """The engine's word (someone may have switched over OSC or MIDI): shown, never sent back."""
        for w in (self.mode, self.blend):
            w.blockSignals(True)
        if s.mode in CROWD_MODES:
            self.mode.setCurrentIndex(CROWD_MODES.index(s.mode))
        if not self.blend.isSliderDown():
            self.blend.setValue(round(float(s.blend) * 100))
        for w in (self.mode, self.blend):
            w.blockSignals(False)
        self._sync_enabled()

    def show_count(self, phones: int, connected: int) -> None:
        self.phones.setText(f"{phones} phone{'s' if phones != 1 else ''}" +
                            (f" ({connected} in)" if connected != phones else ""))


class QrView(QWidget):
    """A QR code drawn square by square (segno's matrix), black on white with its quiet zone."""

    def __init__(self, url: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import segno
        self.matrix = [list(row) for row in segno.make(url, error="m").matrix]
        self.setMinimumSize(320, 320)

    def paintEvent(self, _e: QPaintEvent) -> None:
        n = len(self.matrix) + 8  # four modules of quiet zone each side
        side = min(self.width(), self.height())
        cell = side / n
        x0, y0 = (self.width() - side) / 2, (self.height() - side) / 2
        p = QPainter(self)
        p.fillRect(QRectF(x0, y0, side, side), QColor("#ffffff"))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#000000"))
        for r, row in enumerate(self.matrix):
            for c, dark in enumerate(row):
                if dark:
                    p.drawRect(QRectF(x0 + (c + 4) * cell, y0 + (r + 4) * cell, cell + 0.5, cell + 0.5))
        p.end()


class QrDialog(QDialog):
    def __init__(self, url: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Join with your phone")
        box = QVBoxLayout(self)
        self.view = QrView(url)
        box.addWidget(self.view, 1)
        label = QLabel(url)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = label.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        label.setFont(font)
        box.addWidget(label)
        self.resize(560, 620)


class CrowdView:
    """The crowd's widgets in a window, fed by its link."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.url: str | None = None
        self.dialog: QrDialog | None = None
        self.cloud = CrowdCloud(window.puck, window.theme.colours.get("foreground", "#f2f2f2"))
        self.control = CrowdControl(self.send, self.show_qr)
        controls = window.controls
        controls.layout().insertWidget(controls.layout().indexOf(controls.pause_btn), self.control)
        window.link.crowd.connect(self.on_message)
        self._fade = QTimer(window)
        self._fade.setInterval(1000)
        self._fade.timeout.connect(self.cloud.fade)
        self._fade.start()

    def send(self, mode: str, blend: float) -> None:
        self.window.link.send("/tc/crowd_mode", mode, float(blend))

    def set_url(self, url: str | None) -> None:
        """The room's URL (from `play --audience` / `ui --audience-url`): the QR button appears."""
        self.url = url or None
        self.control.qr.setVisible(self.url is not None)

    def show_qr(self) -> QrDialog | None:
        if self.url is None:
            return None
        if self.dialog is None:
            self.dialog = QrDialog(self.url, self.window)
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def on_message(self, msg: object) -> None:
        if isinstance(msg, CrowdState):
            self.control.show_state(msg)
            self.window.performer.crowd_mode = (msg.mode, float(msg.blend))  # a MIDI button cycles from here
        elif isinstance(msg, CrowdPoints):
            self.cloud.show_points(msg.points)
            self.control.show_count(msg.phones, msg.connected)


def attach_crowd(window: MainWindow) -> CrowdView:
    return CrowdView(window)
