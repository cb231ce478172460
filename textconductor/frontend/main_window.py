"""The main window: owns the performer's state, talks to the engine through `EngineLink`.

State flows one way: a panel reports what the performer did, the window updates its state
(raw weights by style name, the enabled set), sends it to the engine, then redraws every panel
from the state. So sliders, puck, presets and controllers (through the `ControlSink` methods)
always agree, and a display update never echoes back as a control.

Rendering is decoupled from arrival: ticks are decoded as they come and their characters queued;
a timer at the display rate appends all queued characters and draws the bars of the latest tick
only, so an engine running faster than the screen costs one repaint per frame.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QCloseEvent,
    QColor,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import QApplication, QFrame, QMainWindow, QScrollArea, QSplitter, QVBoxLayout, QWidget

from textconductor import protocol
from textconductor.frontend.bars import MixedBars, StyleMultiples
from textconductor.frontend.controllers_menu import ControllerHub
from textconductor.frontend.link import EngineLink
from textconductor.frontend.panels import ControlPanel, SliderPanel, StatusLine, StylePanel
from textconductor.frontend.presets import PresetStore, morph
from textconductor.frontend.puck import PuckWidget
from textconductor.frontend.text_view import TextView
from textconductor.frontend.theme import StyleLook, Theme
from textconductor.protocol.charset import CHARS

log = logging.getLogger(__name__)

CHAR_INDEX = {c: i for i, c in enumerate(CHARS)}
INTERACTION_GUARD_S = 2.0  # after a local change, ignore the engine's echo of older weights this long
OUTPUT_REPLAY_CHARS = 6000


def stylesheet(t: Theme) -> str:
    c = t.colours
    return f"""
    QWidget {{ background: {c['background']}; color: {c['foreground']}; font-family: '{t.fonts['ui_family']}';
               font-size: {t.pt('ui_pt'):.0f}pt; }}
    QMainWindow, QSplitter {{ background: {c['background']}; }}
    QSplitter::handle {{ background: {c['panel_edge']}; }}
    QScrollArea, PuckWidget, SliderPanel {{ background: {c['panel']}; border: none; }}
    QLabel#heading {{ color: {c['muted']}; font-weight: bold; letter-spacing: 2px; }}
    QLabel#muted {{ color: {c['muted']}; }}
    QPushButton {{ background: {c['panel']}; border: 1px solid {c['panel_edge']}; padding: 4px 12px; }}
    QPushButton:hover {{ border-color: {c['accent']}; }}
    QLineEdit, QDoubleSpinBox, QComboBox {{ background: {c['panel']}; border: 1px solid {c['panel_edge']};
               padding: 3px 6px; selection-background-color: {c['accent']}; selection-color: #000; }}
    QLineEdit:focus {{ border-color: {c['accent']}; }}
    QMenuBar {{ background: {c['background']}; color: {c['muted']}; }}
    QMenuBar::item:selected, QMenu::item:selected {{ background: {c['panel_edge']}; }}
    QMenu {{ background: {c['panel']}; border: 1px solid {c['panel_edge']}; }}
    """


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

    def closeEvent(self, e: QCloseEvent) -> None:
        self.closed.emit()
        super().closeEvent(e)


class _Invoker(QObject):
    """Runs callables on the GUI thread: controllers may call the ControlSink from their own threads."""

    call = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.call.connect(lambda f: f(), Qt.ConnectionType.QueuedConnection)


class MainWindow(QMainWindow):
    """The instrument. Implements `textconductor.controllers.base.ControlSink`."""

    weights_sent = Signal(list)  # the raw weights just sent, bank order (for tests and controllers)

    def __init__(self, theme: Theme, link: EngineLink, mode: str = "default", presets: PresetStore | None = None,
                 autostart: bool = False) -> None:
        super().__init__()
        self.theme, self.link, self.mode = theme, link, mode
        self.autostart = autostart
        self.presets = presets or PresetStore()
        self.morph_seconds = float(theme.presets.get("morph_s", 1.5))
        self.setWindowTitle("textconductor")
        self.setStyleSheet(stylesheet(theme))
        c = theme.colours

        # state
        self.names: list[str] = []
        self.looks: dict[str, StyleLook] = {}
        self.enabled: dict[str, bool] = {}
        self.weights: dict[str, float] = {}
        self.params = protocol.Params()
        self.paused = False
        self.last_status: protocol.Status | None = None
        self.rejected_reasons: dict[str, int] = {}
        self._synced = False  # have we ever taken the engine's state?
        self._resync = False  # push our state at the next hello (engine came back)
        self._last_local = 0.0
        self._pending: list[tuple[str, str | None]] = []
        self._latest: protocol.Tick | None = None
        self._bars_dirty = False
        self._recent: deque[tuple[str, str | None]] = deque()
        self._recent_len = 0
        self._morph: tuple[float, dict[str, float], dict[str, float]] | None = None
        self.ticks_received = 0
        self._brush_cache: dict[str, QBrush] = {}

        # widgets
        self.text = TextView(str(theme.fonts["text_family"]), theme.pt("text_pt"), c["background"], c["foreground"],
                             int(theme.text.get("scrollback_chars", 20000)))
        self.text.setObjectName("text")
        self.bars = MixedBars(theme.pt("bar_label_pt"), c["foreground"], c["background"])
        self.multiples = StyleMultiples(int(theme.bars.get("max_multiples", 8)), theme.pt("bar_label_pt") * 1.2,
                                        c["background"])
        self.style_panel = StylePanel()
        self.sliders = SliderPanel(theme.pt("ui_pt"))
        self.puck = PuckWidget(theme.pt("ui_pt"), c, float(theme.puck.get("snap_radius", 0.18)))
        self.controls = ControlPanel()
        self.status = StatusLine()
        self.output: OutputWindow | None = None
        self._build_layout(theme.panels(mode))

        self.style_panel.toggled.connect(self.set_enabled)
        self.sliders.moved.connect(lambda n, v: self._local_weights({n: v}, move_puck=True))
        self.puck.moved.connect(self.set_puck)
        self.controls.temperature.connect(lambda v: self.control("temperature", v))
        self.controls.rate.connect(lambda v: self.control("rate", v))
        self.controls.mix.connect(lambda v: self.control("mix", v))
        self.controls.pause_toggled.connect(lambda: self.control("toggle_pause"))
        self.controls.reset.connect(lambda: self.control("reset"))
        self.controls.prime.connect(self.prime)
        self.controls.prime_edit.escaped.connect(self.setFocus)

        link.hello.connect(self.on_hello)
        link.ticks.connect(self.on_ticks)
        link.status.connect(self.on_status)
        link.params.connect(self.on_params)
        link.rejected.connect(self.on_rejected)
        link.primed.connect(self.on_primed)
        link.online_changed.connect(self.on_online)
        self.status.show_online(False, f"{link.host}:{link.port}", c)

        self._invoker = _Invoker()
        self._render_timer = QTimer(self)
        self._render_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._render_timer.setInterval(max(1, round(1000 / float(theme.render.get("fps", 60)))))
        self._render_timer.timeout.connect(self.render_frame)
        self._render_timer.start()
        self._morph_timer = QTimer(self)
        self._morph_timer.setInterval(16)
        self._morph_timer.timeout.connect(self._morph_step)
        self._shortcuts()
        self._menu()
        self.controllers = ControllerHub(self)  # MIDI and Controllers menus: MIDI, learn, autopilot, hands
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # -- layout --------------------------------------------------------------------------------
    def _build_layout(self, panels: list[str]) -> None:
        self.panels = panels
        centre = QSplitter(Qt.Orientation.Vertical)
        centre.addWidget(self.text)
        centre.addWidget(self.bars)
        centre.addWidget(self.multiples)
        centre.setStretchFactor(0, 6)
        centre.setStretchFactor(1, 2)
        centre.setStretchFactor(2, 1)
        centre.setSizes([560, 220, 190])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.puck)
        # With the whole bank (24 styles) the sliders are wider than their panel: let them scroll
        # sideways rather than squeeze the text, which is what the audience reads.
        slider_scroll = QScrollArea()
        slider_scroll.setWidget(self.sliders)
        slider_scroll.setWidgetResizable(True)
        slider_scroll.setFrameShape(QFrame.Shape.NoFrame)
        slider_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right.addWidget(slider_scroll)
        right.setSizes([560, 330])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(self.style_panel)
        main.addWidget(centre)
        main.addWidget(right)
        main.setStretchFactor(1, 1)
        main.setSizes([220, 1160, 540] if "styles" in panels else [0, 1240, 680])
        root = QWidget()
        lay = QVBoxLayout(root)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(main, 1)
        lay.addWidget(self.controls)
        lay.addWidget(self.status)
        self.setCentralWidget(root)
        widgets = {"styles": self.style_panel, "text": self.text, "bars": self.bars, "multiples": self.multiples,
                   "puck": self.puck, "sliders": self.sliders, "controls": self.controls, "status": self.status}
        for name, w in widgets.items():
            w.setVisible(name in panels)
        if "puck" not in panels and "sliders" not in panels:
            right.setVisible(False)

    def _menu(self) -> None:
        view = self.menuBar().addMenu("&View")
        self.output_action = QAction("Output window", self, checkable=True)
        self.output_action.setShortcut(QKeySequence("O"))
        self.output_action.triggered.connect(lambda on: self.show_output_window(on))
        view.addAction(self.output_action)
        full = QAction("Fullscreen", self)
        full.setShortcut(QKeySequence("F11"))
        full.triggered.connect(lambda: self.showNormal() if self.isFullScreen() else self.showFullScreen())
        view.addAction(full)
        quit_ = QAction("Quit", self)
        quit_.setShortcut(QKeySequence("Ctrl+Q"))
        quit_.triggered.connect(self.close)
        view.addAction(quit_)
        if self.mode == "fullscreen":
            self.menuBar().setVisible(False)
            self.addActions([self.output_action, full, quit_])  # shortcuts work without a menu bar

    def _shortcuts(self) -> None:
        def sc(key: str, fn: Callable[[], None]) -> None:
            QShortcut(QKeySequence(key), self, fn)
        sc("Space", lambda: self.control("toggle_pause"))
        sc("Ctrl+R", lambda: self.control("reset"))
        sc("[", lambda: self.control("temperature", self.params.temperature - 0.05))
        sc("]", lambda: self.control("temperature", self.params.temperature + 0.05))
        sc("-", lambda: self.control("rate", self.params.rate - 2))
        sc("=", lambda: self.control("rate", self.params.rate + 2))
        sc("M", lambda: self.control("mix", "product" if self.params.mix == "linear" else "linear"))
        sc("/", self.controls.prime_edit.setFocus)
        for k in range(1, 10):
            sc(str(k), lambda k=k: self.control("preset_recall", k))
            sc(f"Ctrl+{k}", lambda k=k: self.control("preset_save", k))

    def keyPressEvent(self, e: QKeyEvent) -> None:
        """Enter starts typing into the stream. Not a QShortcut: it would steal Enter from the prime field."""
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not self.controls.prime_edit.hasFocus():
            self.controls.prime_edit.setFocus()
            return
        super().keyPressEvent(e)

    # -- ControlSink ---------------------------------------------------------------------------
    def _gui(self, fn: Callable[[], None]) -> bool:
        """True if we are on the GUI thread; otherwise queue fn there and return False."""
        if QThread.currentThread() is self.thread():
            return True
        self._invoker.call.emit(fn)
        return False

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Set these styles' raw weights (0..1) by name; styles not named keep theirs."""
        if self._gui(lambda: self.set_weights(dict(weights))):
            self._local_weights({n: v for n, v in weights.items() if n in self.weights}, move_puck=True)

    def set_puck(self, x: float, y: float) -> None:
        """Move the puck (circle units, y up): the enabled styles get its normalised weights."""
        if not self._gui(lambda: self.set_puck(x, y)):
            return
        names = self.enabled_styles()
        w = self.puck.set_puck(float(x), float(y))
        self._local_weights(dict(zip(names, (float(v) for v in w), strict=True)), move_puck=False)

    def enabled_styles(self) -> list[str]:
        return [n for n in self.names if self.enabled.get(n)]

    def control(self, name: str, value: float | str | None = None) -> None:
        """One of controllers.base.CONTROLS."""
        if not self._gui(lambda: self.control(name, value)):
            return
        if name == "temperature":
            self.params.temperature = float(np.clip(float(value), *protocol.TEMPERATURE_RANGE))
            self.link.send("/tc/temperature", self.params.temperature)
        elif name == "rate":
            self.params.rate = float(np.clip(float(value), *protocol.RATE_RANGE))
            self.link.send("/tc/rate", self.params.rate)
        elif name == "mix":
            if value not in protocol.MIX_MODES:
                raise ValueError(f"mix must be one of {protocol.MIX_MODES}")
            self.params.mix = str(value)
            self.link.send("/tc/mix", self.params.mix)
        elif name in ("pause", "resume", "toggle_pause"):
            pause = (not self.paused) if name == "toggle_pause" else name == "pause"
            self.paused = pause
            self.link.send("/tc/pause" if pause else "/tc/resume")
            self.controls.show_paused(pause)
        elif name == "reset":
            self.link.send("/tc/reset")
            self._pending.clear()
            self.text.clear_text()
            if self.output:
                self.output.text.clear_text()
            self._recent.clear()
            self._recent_len = 0
        elif name == "preset_save":
            self.save_preset(int(value))
        elif name == "preset_recall":
            self.recall_preset(int(value))
        else:
            raise ValueError(f"unknown control {name!r}")
        if name in ("temperature", "rate", "mix"):
            self.controls.show_params(self.params)
            self._last_local = time.monotonic()

    def prime(self, text: str) -> None:
        text = text[: protocol.MAX_PRIME_CHARS]
        if text:
            self.link.send("/tc/prime", text)
            self.status.message.setText(f"primed: {text[:40]}")

    # -- state changes -------------------------------------------------------------------------
    def _local_weights(self, changes: Mapping[str, float], move_puck: bool, cancel_morph: bool = True) -> None:
        if cancel_morph:
            self._stop_morph()
        for n, v in changes.items():
            if n in self.weights:
                self.weights[n] = float(min(max(v, 0.0), 1.0))
        self._last_local = time.monotonic()
        self.send_weights()
        self._show_weights(move_puck)

    def send_weights(self) -> None:
        if not self.names:
            return
        vec = [float(self.weights[n]) for n in self.names]
        self.link.send("/tc/weights", *vec)
        self.weights_sent.emit(vec)

    def _show_weights(self, move_puck: bool) -> None:
        self.sliders.show_weights(self.weights)
        if move_puck:
            self.puck.show_weights(np.array([self.weights[n] for n in self.enabled_styles()]))

    def set_enabled(self, name: str, on: bool) -> None:
        if name not in self.enabled:
            return
        self.enabled[name] = bool(on)
        self.link.send("/tc/enable", name, int(bool(on)))
        self._last_local = time.monotonic()
        self._rebuild_enabled()

    def _rebuild_enabled(self) -> None:
        looks = [self.looks[n] for n in self.enabled_styles()]
        self.style_panel.show_enabled(self.enabled)
        self.sliders.set_styles(looks, self.weights)
        self.puck.set_styles([lk.display.split(" (")[0] for lk in looks], [lk.colour for lk in looks])
        self._show_weights(move_puck=True)

    # -- presets -------------------------------------------------------------------------------
    def save_preset(self, slot: int) -> None:
        self.presets.save(slot, {n: self.weights[n] for n in self.enabled_styles()})
        self.status.message.setText(f"preset {slot} saved")
        log.info("preset %d saved", slot)

    def recall_preset(self, slot: int) -> None:
        target = self.presets.get(slot)
        if target is None:
            self.status.message.setText(f"preset {slot} is empty (Ctrl+{slot} saves)")
            return
        known = {n: v for n, v in target.items() if n in self.weights}
        if not known:
            self.status.message.setText(f"preset {slot}: none of its styles are loaded")
            return
        for n, v in known.items():  # a preset needs its styles present
            if v > 0 and not self.enabled.get(n):
                self.enabled[n] = True
                self.link.send("/tc/enable", n, 1)
                self._rebuild_enabled()
        start = {n: (self.weights[n] if self.enabled[n] else 0.0) for n in self.names}
        end = {n: known.get(n, 0.0) for n in self.names}
        self._morph = (time.monotonic(), start, end)
        self.status.message.setText(f"preset {slot}: morphing over {self.morph_seconds:g} s")
        self._morph_step()
        self._morph_timer.start()

    def _morph_step(self) -> None:
        if self._morph is None:
            self._morph_timer.stop()
            return
        t0, start, end = self._morph
        t = 1.0 if self.morph_seconds <= 0 else (time.monotonic() - t0) / self.morph_seconds
        self._local_weights(morph(start, end, t), move_puck=True, cancel_morph=False)
        if t >= 1.0:
            self._stop_morph()

    def _stop_morph(self) -> None:
        self._morph = None
        self._morph_timer.stop()

    @property
    def morphing(self) -> bool:
        return self._morph is not None

    # -- engine messages -----------------------------------------------------------------------
    def on_hello(self, h: protocol.Hello) -> None:
        same_bank = h.names == self.names
        if not same_bank:
            self._adopt_bank(h)
        elif self._resync:
            self._push_state()
        elif time.monotonic() - self._last_local > INTERACTION_GUARD_S and not self.morphing:
            self._adopt_state(h)  # someone else (another frontend, TouchOSC) may have moved things
        self._resync = False
        if not self._synced:
            self._synced = True
            if h.history and not self.text.text():
                self.text.append_text(h.history, self.theme.colours["muted"])
            if self.autostart:
                self._autostart()

    def _adopt_bank(self, h: protocol.Hello) -> None:
        self.names = list(h.names)
        self.looks = {n: self.theme.style(n) for n in self.names}
        self.weights = {n: float(w) for n, w in zip(self.names, h.weights, strict=False)}
        self.enabled = {n: bool(e) for n, e in zip(self.names, h.enabled, strict=False)}
        for n in self.names:
            self.weights.setdefault(n, 0.0)
            self.enabled.setdefault(n, True)
        self._brushes = [self._brush(self.looks[n].colour) for n in self.names] + [self._brush("#9aa0aa")]
        self.style_panel.set_styles([self.looks[n] for n in self.names], self.enabled)
        self._rebuild_enabled()
        log.info("engine bank: %s", ", ".join(self.names))

    def _adopt_state(self, h: protocol.Hello) -> None:
        weights = {n: float(w) for n, w in zip(self.names, h.weights, strict=False)}
        enabled = {n: bool(e) for n, e in zip(self.names, h.enabled, strict=False)}
        if enabled != self.enabled:
            self.enabled.update(enabled)
            self.weights.update(weights)
            self._rebuild_enabled()
        elif any(abs(weights[n] - self.weights[n]) > 1e-4 for n in weights):
            self.weights.update(weights)
            self._show_weights(move_puck=True)

    def _push_state(self) -> None:
        """The engine came back (perhaps restarted): give it the performer's mix and settings."""
        log.info("re-sending weights and settings to the engine")
        for n in self.names:
            self.link.send("/tc/enable", n, int(self.enabled[n]))
        self.send_weights()
        self.link.send("/tc/temperature", self.params.temperature)
        self.link.send("/tc/rate", self.params.rate)
        self.link.send("/tc/mix", self.params.mix)
        self._last_local = time.monotonic()

    def _autostart(self) -> None:
        """Gallery mode: never sit silent. Give every enabled style equal weight if none has any."""
        on = self.enabled_styles()
        if on and not any(self.weights[n] > 0 for n in on):
            self._local_weights({n: 1.0 / len(on) for n in on}, move_puck=True)
        self.control("resume")

    def on_online(self, online: bool) -> None:
        self.status.show_online(online, f"{self.link.host}:{self.link.port}", self.theme.colours)
        if online and self._synced:
            self._resync = True
            self.link.subscribe()  # ask for a hello now rather than at the next periodic one

    def on_params(self, p: protocol.Params) -> None:
        if time.monotonic() - self._last_local > INTERACTION_GUARD_S:
            self.params = p
            self.controls.show_params(p)

    def on_status(self, s: protocol.Status) -> None:
        self.last_status = s
        if s.paused != self.paused:
            self.paused = s.paused
            self.controls.show_paused(s.paused)
        active = []
        if self._latest is not None and self.names:
            active = [self.looks[self.names[i]].display for i in self._latest.active if 0 <= i < len(self.names)]
        self.status.show_status(s, active)
        if self.rejected_reasons:
            self.status.rejected.setToolTip("\n".join(f"{k}: {v}" for k, v in self.rejected_reasons.items()))

    def on_rejected(self, counts: dict[str, int]) -> None:
        self.rejected_reasons = counts

    def on_ticks(self, ticks: list[protocol.Tick]) -> None:
        """Queue every character (tinted by its main contributor); keep only the latest for the bars."""
        n = len(self.names)
        pend = self._pending
        for t in ticks:
            colour = None
            if n and len(t.attribution) == n and t.attribution.size and t.attribution.max() > 0:
                colour = self.looks[self.names[int(np.argmax(t.attribution))]].text_colour
            if pend and pend[-1][1] == colour:
                pend[-1] = (pend[-1][0] + t.char, colour)
            else:
                pend.append((t.char, colour))
        self.ticks_received += len(ticks)
        self._latest = ticks[-1]
        self._bars_dirty = True

    def on_primed(self, text: str) -> None:
        """The performer's own words, in the stage's foreground colour (no style wrote them)."""
        if text:
            self._pending.append((text, self.theme.colours["foreground"]))

    def render_frame(self) -> None:
        """At most once per display frame: all queued characters, and the bars of the latest tick."""
        if self._pending:
            runs, self._pending = self._pending, []
            self.text.append_runs(runs)
            if self.output is not None:
                self.output.text.append_runs(runs)
            self._remember(runs)
        if self._bars_dirty and self._latest is not None:
            self._bars_dirty = False
            self._draw_bars(self._latest)

    def _remember(self, runs: list[tuple[str, str | None]]) -> None:
        for r in runs:
            self._recent.append(r)
            self._recent_len += len(r[0])
        while self._recent_len > OUTPUT_REPLAY_CHARS and len(self._recent) > 1:
            self._recent_len -= len(self._recent.popleft()[0])

    def _brush(self, colour: str) -> QBrush:
        b = self._brush_cache.get(colour)
        if b is None:
            b = self._brush_cache[colour] = QBrush(QColor(colour))
        return b

    def _draw_bars(self, t: protocol.Tick) -> None:
        n = len(self.names)
        chosen = CHAR_INDEX.get(t.char)
        active = [int(i) for i in t.active if 0 <= i < n]
        dists = None
        if n and active and len(t.weights) == n and t.dists.shape[0] == len(t.active):
            w = t.weights[active]
            dists = t.dists[[k for k, i in enumerate(t.active) if 0 <= i < n]]
            colour_idx = np.asarray(active)[np.argmax(w[:, None] * dists, axis=0)]
            brushes = self._brushes
        else:
            colour_idx, brushes = None, [self._brush("#9aa0aa")]
        if self.bars.isVisible():
            self.bars.show_distribution(t.mixed, colour_idx, brushes, chosen)
        if self.multiples.isVisible() and dists is not None:
            order = sorted(range(len(active)), key=lambda k: -float(t.weights[active[k]]))
            rows = [(self.looks[self.names[active[k]]].display, self.looks[self.names[active[k]]].colour,
                     dists[k], float(t.weights[active[k]])) for k in order]
            self.multiples.show_styles(rows, chosen)

    # -- windows -------------------------------------------------------------------------------
    def show_output_window(self, on: bool = True) -> OutputWindow | None:
        if on and self.output is None:
            self.output = OutputWindow(self.theme)
            self.output.closed.connect(lambda: self.show_output_window(False))
            self.output.text.append_runs(list(self._recent))
            screens = QGuiApplication.screens()
            if len(screens) > 1:  # a projector or second screen: fill the one this window is not on
                other = next((s for s in screens if s is not self.screen()), screens[-1])
                self.output.setGeometry(other.geometry())
                self.output.showFullScreen()
            else:
                self.output.resize(1280, 720)
                self.output.show()
        elif not on and self.output is not None:
            out, self.output = self.output, None
            out.closed.disconnect()
            out.close()
            out.deleteLater()
        self.output_action.setChecked(self.output is not None)
        return self.output

    def closeEvent(self, e: QCloseEvent) -> None:
        self.controllers.shutdown()
        self.show_output_window(False)
        self.link.stop()
        super().closeEvent(e)
        app = QApplication.instance()
        if app is not None and self.mode == "fullscreen":
            QApplication.restoreOverrideCursor()
