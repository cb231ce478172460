"""The performer's panels: style toggles, weight sliders, controls and the status line.

Each panel only emits what the performer did; the main window owns the state (weights, enabled
set) and pushes it back with `show_*` methods while blocking signals, so a display update never
echoes back to the engine as a new control.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from textconductor import protocol
from textconductor.frontend.theme import StyleLook, dim

SLIDER_STEPS = 1000


class StylePanel(QScrollArea):
    """Every style the engine has loaded, as colour chips; a chip toggles the style's presence."""

    toggled = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.inner = QWidget()
        self.box = QVBoxLayout(self.inner)
        self.box.setContentsMargins(6, 6, 6, 6)
        self.box.setSpacing(4)
        self.setWidget(self.inner)
        self.buttons: dict[str, QPushButton] = {}
        self._looks: dict[str, StyleLook] = {}

    def set_styles(self, looks: list[StyleLook], enabled: dict[str, bool]) -> None:
        for b in self.buttons.values():
            b.deleteLater()
        self.buttons.clear()
        while self.box.count():
            self.box.takeAt(0)
        title = QLabel("STYLES")
        title.setObjectName("heading")
        self.box.addWidget(title)
        for look in looks:
            b = QPushButton(look.display)
            b.setCheckable(True)
            b.setObjectName(f"style-{look.name}")
            b.setToolTip(f"{look.name}: click to add or remove it from the sliders and the puck")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.toggled.connect(lambda on, n=look.name: self.toggled.emit(n, on))
            self._looks[look.name] = look
            self.buttons[look.name] = b
            self.box.addWidget(b)
        self.box.addStretch(1)
        self.show_enabled(enabled)

    def show_enabled(self, enabled: dict[str, bool]) -> None:
        for name, b in self.buttons.items():
            on = enabled.get(name, False)
            look = self._looks[name]
            b.blockSignals(True)
            b.setChecked(on)
            b.blockSignals(False)
            edge = look.colour if on else dim(look.colour, 0.5)
            fg = look.text_colour if on else "#6b7080"
            b.setStyleSheet(f"QPushButton {{ text-align: left; padding: 4px 8px; border: none;"
                            f" border-left: 10px solid {edge}; color: {fg};"
                            f" background: {'#1b1f2a' if on else 'transparent'}; }}")


class SliderPanel(QWidget):
    """One vertical 0..1 slider per enabled style, labelled and coloured."""

    moved = Signal(str, float)

    def __init__(self, label_pt: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(6, 6, 6, 6)
        self.grid.setHorizontalSpacing(10)
        self.label_pt = label_pt
        self.sliders: dict[str, QSlider] = {}
        self.values: dict[str, QLabel] = {}
        self._widgets: list[QWidget] = []

    def set_styles(self, looks: list[StyleLook], weights: dict[str, float]) -> None:
        for w in self._widgets:
            self.grid.removeWidget(w)
            w.deleteLater()
        self._widgets.clear()
        self.sliders.clear()
        self.values.clear()
        for col, look in enumerate(looks):
            s = QSlider(Qt.Orientation.Vertical)
            s.setObjectName(f"slider-{look.name}")
            s.setRange(0, SLIDER_STEPS)
            s.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            s.setStyleSheet(f"QSlider::groove:vertical {{ background: #1b1f2a; width: 10px; border-radius: 5px; }}"
                            f"QSlider::add-page:vertical {{ background: {look.colour}; border-radius: 5px; }}"
                            f"QSlider::handle:vertical {{ background: #f2f2f2; height: 14px; margin: 0 -6px;"
                            f" border-radius: 7px; }}")
            s.valueChanged.connect(lambda v, n=look.name: self.moved.emit(n, v / SLIDER_STEPS))
            val = QLabel("0")
            val.setAlignment(Qt.AlignmentFlag.AlignCenter)
            name = QLabel(look.display.split(" (")[0])
            name.setWordWrap(True)
            name.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            name.setStyleSheet(f"color: {look.text_colour};")
            self.grid.addWidget(val, 0, col, Qt.AlignmentFlag.AlignHCenter)
            self.grid.addWidget(s, 1, col, Qt.AlignmentFlag.AlignHCenter)
            self.grid.addWidget(name, 2, col)
            self._widgets += [s, val, name]
            self.sliders[look.name] = s
            self.values[look.name] = val
        self.show_weights(weights)

    def show_weights(self, weights: dict[str, float]) -> None:
        for name, s in self.sliders.items():
            v = weights.get(name, 0.0)
            s.blockSignals(True)
            s.setValue(round(v * SLIDER_STEPS))
            s.blockSignals(False)
            self.values[name].setText(f"{v:.2f}")


class PrimeEdit(QLineEdit):
    """Typing here goes into the stream on Enter; Escape hands the keyboard back to the shortcuts."""

    escaped = Signal()

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() == Qt.Key.Key_Escape:
            self.clearFocus()
            self.escaped.emit()
            return
        super().keyPressEvent(e)


class ControlPanel(QWidget):
    """Temperature, rate, mix mode, pause/resume, reset, prime, morph time."""

    temperature = Signal(float)
    rate = Signal(float)
    mix = Signal(str)
    pause_toggled = Signal()
    reset = Signal()
    prime = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 4)
        row.setSpacing(10)
        self.temp = QDoubleSpinBox()
        self.temp.setObjectName("temperature")
        self.temp.setRange(*protocol.TEMPERATURE_RANGE)
        self.temp.setSingleStep(0.05)
        self.temp.setDecimals(2)
        self.temp.setValue(protocol.Params().temperature)
        self.temp.setKeyboardTracking(False)
        self.temp.valueChanged.connect(self.temperature.emit)
        self.rate_box = QDoubleSpinBox()
        self.rate_box.setObjectName("rate")
        self.rate_box.setRange(*protocol.RATE_RANGE)
        self.rate_box.setDecimals(0)
        self.rate_box.setSingleStep(1)
        self.rate_box.setSuffix(" ch/s")
        self.rate_box.setSpecialValueText("max")
        self.rate_box.setValue(protocol.Params().rate)
        self.rate_box.setKeyboardTracking(False)
        self.rate_box.valueChanged.connect(self.rate.emit)
        self.mix_box = QComboBox()
        self.mix_box.setObjectName("mix")
        self.mix_box.addItems(list(protocol.MIX_MODES))
        self.mix_box.currentTextChanged.connect(self.mix.emit)
        self.pause_btn = QPushButton("Pause")
        self.pause_btn.setObjectName("pause")
        self.pause_btn.clicked.connect(self.pause_toggled.emit)
        self.reset_btn = QPushButton("Reset")
        self.reset_btn.setObjectName("reset")
        self.reset_btn.clicked.connect(self.reset.emit)
        self.prime_edit = PrimeEdit()
        self.prime_edit.setObjectName("prime")
        self.prime_edit.setPlaceholderText("type into the stream (Enter)…")
        self.prime_edit.setMaxLength(protocol.MAX_PRIME_CHARS)
        self.prime_edit.returnPressed.connect(self._send_prime)
        for w in (self.temp, self.rate_box, self.mix_box, self.pause_btn, self.reset_btn):
            w.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        for label, w in (("temp", self.temp), ("rate", self.rate_box), ("mix", self.mix_box)):
            lab = QLabel(label)
            lab.setObjectName("muted")
            row.addWidget(lab)
            row.addWidget(w)
        row.addWidget(self.pause_btn)
        row.addWidget(self.reset_btn)
        row.addWidget(self.prime_edit, 1)

    def _send_prime(self) -> None:
        text = self.prime_edit.text()
        if text:
            self.prime.emit(text)
            self.prime_edit.clear()

    def show_params(self, p: protocol.Params) -> None:
        for w, setter, value in ((self.temp, self.temp.setValue, p.temperature),
                                 (self.rate_box, self.rate_box.setValue, p.rate),
                                 (self.mix_box, self.mix_box.setCurrentText, p.mix)):
            if w.hasFocus():
                continue  # do not fight the performer's typing
            w.blockSignals(True)
            setter(value)
            w.blockSignals(False)

    def show_paused(self, paused: bool) -> None:
        self.pause_btn.setText("Resume" if paused else "Pause")


class ElidedLabel(QLabel):
    """One line that ends in "…" when it does not fit, instead of widening the window.

    A plain QLabel's minimum width is its whole text: the status line's list of active styles (24
    names) and its controller line once forced the window 1704 px wide (2332 in talk mode), past a
    1280x720 projector. `text()` is still the whole text; so is the size the label asks for when
    there is room."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._full = text
        self._elide()
        self.updateGeometry()

    def text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:
        m = self.contentsMargins()
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + m.left() + m.right() + 2,
                     super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(min(self.sizeHint().width(), self.fontMetrics().horizontalAdvance("…") * 4),
                     super().minimumSizeHint().height())

    def resizeEvent(self, e: QResizeEvent) -> None:
        super().resizeEvent(e)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, self.contentsRect().width())
        QLabel.setText(self, shown)


class StatusLine(QWidget):
    """Connected/offline, achieved chars/s, step time, active styles, rejected messages, controllers, messages."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 2, 8, 2)
        row.setSpacing(18)
        self.conn = QLabel("offline")
        self.conn.setObjectName("conn")
        self.rate = QLabel("– ch/s")
        self.step = QLabel("step – ms")
        # the lines of any length elide: they must never make the window wider than the screen
        self.active = ElidedLabel("active –")
        self.rejected = QLabel("rejected 0")
        self.message = ElidedLabel("")
        self.message.setObjectName("muted")
        self.controllers = ElidedLabel("")  # MIDI port, autopilot, hands: who besides the mouse is playing
        self.controllers.setObjectName("controllers")
        for w in (self.conn, self.rate, self.step, self.active, self.rejected, self.controllers):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.message)

    def show_online(self, online: bool, endpoint: str, colours: dict[str, str]) -> None:
        colour = colours["online"] if online else colours["offline"]
        self.conn.setText(f"● {'connected' if online else 'offline'}  {endpoint}")
        self.conn.setStyleSheet(f"color: {colour}; font-weight: bold;")

    def show_status(self, s: protocol.Status, active_names: list[str]) -> None:
        self.rate.setText(f"{s.rate:.1f} ch/s" + ("  (paused)" if s.paused else ""))
        self.step.setText(f"step {s.step_ms:.2f} ms (max {s.step_ms_max:.1f})")
        self.active.setText(f"active {s.active}" + (f": {', '.join(active_names)}" if active_names else ""))
        self.rejected.setText(f"rejected {s.rejected}")
