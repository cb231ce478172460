"""Who plays the window: the MIDI menu and MIDI learn, the idle autopilot, and hand gestures.

Why an object beside `MainWindow` rather than more code in it: the window is the instrument (state,
engine, panels) and already a `ControlSink`; this hub only decides which controllers play it, and
when. It builds the *MIDI* and *Controllers* menus and owns the controllers' lifecycles.

Threads. MIDI messages and the hand tracker call the sink on their own threads; the window's sink
methods queue themselves onto the GUI thread. The hub's own callbacks from those threads (a binding
learned, a MIDI status change, the autopilot handing over) are Qt signals, so Qt queues them too.

What counts as input for the autopilot: a drag on the puck or a slider, the control panel, any key
or mouse press in the window (an application event filter, installed only while the autopilot or
MIDI learn is on, so an idle window pays nothing), and every call MIDI or the hands make (wrapped in
`ActivitySink`). The autopilot itself calls the window's `set_puck` directly, which raises none of
these, so its own moves never count as input.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeyEvent, QKeySequence, QMouseEvent
from PySide6.QtWidgets import QMenu, QWidget

from textconductor.controllers import midi as midi_mod
from textconductor.controllers.autopilot import ActivitySink, Autopilot
from textconductor.controllers.base import guarded, stop_safely
from textconductor.controllers.hands import HandController
from textconductor.frontend.hand_overlay import HandOverlayWidget

if TYPE_CHECKING:
    from textconductor.frontend.main_window import MainWindow

log = logging.getLogger(__name__)

DEFAULT_IDLE_S = 60.0
PILOT_INTERVAL_MS = 50  # 20 Hz: smooth enough for a puck that crosses the circle in ~15 s
HANDS_WATCH_MS = 200
# Widgets (by objectName) that arm MIDI learn when clicked in learn mode, and the target each arms.
LEARN_WIDGETS = {"temperature": "temperature", "rate": "rate", "mix": "mix", "pause": "pause", "reset": "reset"}
DIGITS = {getattr(Qt.Key, f"Key_{k}"): k for k in range(1, 10)}
INPUT_EVENTS = {QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick, QEvent.Type.Wheel,
                QEvent.Type.KeyPress, QEvent.Type.Shortcut}


def autopilot_idle(seconds: float | None, off: bool, fullscreen: bool, default_s: float) -> float | None:
    """Idle seconds before the autopilot wanders, or None for no autopilot.

    A gallery (fullscreen) must never sit still, so it is on there unless refused; a performer's
    window would be surprised by a puck that moves by itself, so there it is off unless asked for.
    """
    if off:
        return None
    if seconds is not None:
        return float(seconds)
    return float(default_s) if fullscreen else None


def learn_target_of(widget: QWidget | None, stop: QWidget) -> str | None:
    """The MIDI learn target a click on `widget` means (a slider, a style chip, a control), or None."""
    w = widget
    while w is not None and w is not stop:
        name = w.objectName()
        if name.startswith("slider-"):
            return "style:" + name[len("slider-"):]
        if name.startswith("style-"):
            return "style:" + name[len("style-"):]
        if name in LEARN_WIDGETS:
            return LEARN_WIDGETS[name]
        w = w.parentWidget()
    return None


def short(text: str, n: int = 70) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


class _FollowCorner(QObject):
    """Keeps the hand overlay in the bottom-right corner of the puck panel when that is resized."""

    def __init__(self, host: QWidget, child: QWidget) -> None:
        super().__init__(child)
        self.host, self.child = host, child
        host.installEventFilter(self)
        self.place()

    def place(self) -> None:
        m = 8
        self.child.move(max(0, self.host.width() - self.child.width() - m),
                        max(0, self.host.height() - self.child.height() - m))

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt's name
        if obj is self.host and ev.type() == QEvent.Type.Resize:
            self.place()
        return False


class ControllerHub(QObject):
    """MIDI (port menu, hot-plug, learn), autopilot and hands for one `MainWindow`."""

    # From the MIDI thread, tagged with the controller's generation so a late word from a stopped one is dropped.
    _learned = Signal(int, str, str)  # generation, target, source described ("CC 16 on channel 1")
    _midi_status = Signal(int, str)
    _pilot_state = Signal(bool)

    def __init__(self, window: MainWindow, midi_api: str | None = None, mapping_path: Path | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(window)
        self.window = window
        self.midi_api = midi_api
        self.mapping_path = mapping_path
        self.clock = clock
        cfg = window.theme.autopilot
        self.default_idle_s = float(cfg.get("idle_s", DEFAULT_IDLE_S))
        self.leg_s = float(cfg.get("leg_s", 15.0))
        self.seed: int | None = int(cfg["seed"]) if "seed" in cfg else None
        size = window.theme.hands.get("overlay_size", [200, 150])
        self.overlay_size = (int(size[0]), int(size[1]))

        self.midi: midi_mod.MidiController | None = None
        self._midi_gen = 0
        self.midi_state = ""
        self.learning = False
        self.autopilot: Autopilot | None = None
        self.hands: HandController | None = None
        self.hand_overlay: HandOverlayWidget | None = None
        self.hands_state = ""
        self._filtering = False

        self._learned.connect(self._on_learned)
        self._midi_status.connect(self._on_midi_status)
        self._pilot_state.connect(self._on_pilot_state)
        self._pilot_timer = QTimer(self)
        self._pilot_timer.setInterval(PILOT_INTERVAL_MS)
        self._pilot_timer.timeout.connect(self._pilot_tick)
        self._pilot_tick_guarded = guarded(self._tick_autopilot, "autopilot tick (window)", log)
        self._hands_timer = QTimer(self)
        self._hands_timer.setInterval(HANDS_WATCH_MS)
        self._hands_timer.timeout.connect(self._watch_hands)

        # The window's own widgets report real input even while no event filter is installed.
        w = window
        w.sliders.moved.connect(lambda *_: self.input_seen())
        w.puck.moved.connect(lambda *_: self.input_seen())
        for sig in (w.controls.temperature, w.controls.rate, w.controls.mix, w.controls.pause_toggled,
                    w.controls.reset, w.style_panel.toggled):
            sig.connect(lambda *_: self.input_seen())
        self._build_menus()
        self._show_state()

    # -- menus ---------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.window.menuBar()
        self.midi_menu = bar.addMenu("&MIDI")
        self.midi_menu.aboutToShow.connect(self.refresh_midi_menu)
        self.learn_action = QAction("Learn (click a control, move a fader)", self, checkable=True)
        self.learn_action.setShortcut(QKeySequence("Ctrl+L"))
        self.learn_action.toggled.connect(self.set_learning)
        self.learn_targets = QMenu("Learn target", self.midi_menu)
        self.learn_targets.aboutToShow.connect(self._fill_learn_targets)
        self.forget_action = QAction("Forget this controller's learned mapping", self)
        self.forget_action.triggered.connect(self.forget_mapping)
        self._port_group = QActionGroup(self)
        self._port_group.setExclusive(True)

        ctl = bar.addMenu("&Controllers")
        self.autopilot_action = QAction("Autopilot when idle", self, checkable=True)
        self.autopilot_action.toggled.connect(
            lambda on: self.set_autopilot(self.default_idle_s if on else None) if on != self.autopilot_on else None)
        ctl.addAction(self.autopilot_action)
        self.hands_action = QAction("Hands (camera 0)", self, checkable=True)
        self.hands_action.toggled.connect(
            lambda on: (self.start_hands() if on else self.stop_hands()) if on != self.hands_on else None)
        ctl.addAction(self.hands_action)
        self.window.addAction(self.learn_action)  # Ctrl+L also where the menu bar is hidden (fullscreen)
        self._populate_midi_menu(None, "")

    def refresh_midi_menu(self) -> None:
        """List the input ports now present (called each time the menu opens: hot-plug shows up)."""
        try:
            names: list[str] | None = midi_mod.list_midi_inputs(self.midi_api)
            reason = ""
        except midi_mod.MidiUnavailable as e:
            names, reason = None, str(e)
        self._populate_midi_menu(names, reason)

    def _populate_midi_menu(self, names: list[str] | None, reason: str) -> None:
        """names None: MIDI cannot work here (`reason`); [] no ports; else one checkable item per port."""
        m = self.midi_menu
        for a in self._port_group.actions():
            self._port_group.removeAction(a)
        m.clear()
        self.port_actions: dict[str, QAction] = {}
        if names is None and reason:
            item = m.addAction(short(f"MIDI unavailable: {reason}", 90))
            item.setToolTip(reason)
            item.setStatusTip(reason)
            item.setEnabled(False)
        elif names is not None and not names:
            m.addAction("No MIDI input ports: plug one in (this list refreshes when opened)").setEnabled(False)
        current = self._current_port(names or [])
        for n in names or []:
            a = QAction(n, m, checkable=True)
            a.setChecked(n == current)
            a.triggered.connect(lambda _=False, n=n: self.start_midi(n))
            self._port_group.addAction(a)
            m.addAction(a)
            self.port_actions[n] = a
        if self.midi is not None and current is None:  # started, but its port is not (yet) here
            a = QAction(f"{self.midi.want if self.midi.want is not None else 'first port'} (waiting for it)",
                        m, checkable=True)
            a.setChecked(True)
            a.setEnabled(False)
            m.addAction(a)
        if names or self.midi is not None:
            none = QAction("None", m, checkable=True)
            none.setChecked(self.midi is None)
            none.triggered.connect(self.stop_midi)
            self._port_group.addAction(none)
            m.addAction(none)
            self.port_actions[""] = none
        m.addSeparator()
        m.addAction(self.learn_action)
        m.addMenu(self.learn_targets)
        m.addAction(self.forget_action)
        self._set_midi_actions()

    def _current_port(self, names: list[str]) -> str | None:
        if self.midi is None:
            return None
        if self.midi.port_name in names:
            return self.midi.port_name
        return midi_mod.resolve_port(self.midi.want, names)

    def _fill_learn_targets(self) -> None:
        m = self.learn_targets
        m.clear()
        for n in self.window.enabled_styles():
            m.addAction(self.target_label(f"style:{n}"), lambda t=f"style:{n}": self.arm(t))
        m.addSeparator()
        for t in ("temperature", "rate", "mix", "pause", "reset"):
            m.addAction(self.target_label(t), lambda t=t: self.arm(t))
        presets = m.addMenu("Recall preset")
        saves = m.addMenu("Save preset")
        for k in range(1, 10):
            presets.addAction(str(k), lambda k=k: self.arm(f"preset:{k}"))
            saves.addAction(str(k), lambda k=k: self.arm(f"preset_save:{k}"))

    # -- status --------------------------------------------------------------------------------
    def say(self, text: str, level: int | None = logging.INFO) -> None:
        """A line for the performer in the status bar (and the log at `level`; None: already logged)."""
        if level is not None:
            log.log(level, "%s", text)
        self.window.status.message.setText(short(text, 140))
        self.window.status.message.setToolTip(text)

    def _show_state(self) -> None:
        parts = []
        if self.midi is not None:
            parts.append(short(self.midi_state or "MIDI: starting", 50))
        if self.autopilot is not None:
            parts.append("autopilot: wandering" if self.autopilot.active
                         else f"autopilot after {self.autopilot.idle_s:g} s idle")
        if self.hands is not None:
            parts.append(short(f"hands: {self.hands_state or 'starting'}", 50))
        label = self.window.status.controllers
        label.setText("  ·  ".join(parts))
        label.setToolTip("\n".join(x for x in (self.midi_state, self.hands_state) if x))

    def target_label(self, target: str) -> str:
        """A learn target in the performer's words ("style Jane Austen", "temperature", "recall preset 3")."""
        if target.startswith("style:"):
            name = target[6:]
            look = self.window.looks.get(name)
            return f"style {look.display if look else name}"
        if target.startswith("preset_save:"):
            return f"save preset {target.split(':')[1]}"
        if target.startswith("preset:"):
            return f"recall preset {target.split(':')[1]}"
        return target

    # -- MIDI ----------------------------------------------------------------------------------
    def start_midi(self, port: str | int | None = None, api: str | None = None) -> bool:
        """Play the window from MIDI port `port` (name, part of one, index; None = first real port).

        False (with the reason in the status line) when MIDI cannot work here; the app keeps running.
        A port not present yet is fine: the controller opens it when it is plugged in.
        """
        self.stop_midi(quiet=True)
        if api is not None:
            self.midi_api = api
        store = midi_mod.MappingStore(self.mapping_path)
        self._midi_gen += 1
        gen = self._midi_gen
        ctl = midi_mod.MidiController(
            port, api=self.midi_api, store=store,
            on_learned=lambda target, b: self._learned.emit(gen, target, b.source.describe()),
            on_status=lambda text: self._midi_status.emit(gen, text))
        ok, reason = ctl.available()
        if not ok:
            self.say(f"MIDI unavailable: {reason}", logging.WARNING)
            self._populate_midi_menu(None, reason)
            return False
        try:
            ctl.start(ActivitySink(self.window, self.input_seen))
        except Exception as e:  # noqa: BLE001 - a controller must never take the window down
            log.error("MIDI failed to start: %s", e, exc_info=e)
            self.say(f"MIDI could not start: {e}", None)
            return False
        self.midi = ctl
        self.midi_state = ctl.status
        self.say(f"MIDI: listening on {port if port is not None else 'the first input port'}"
                 f" (mapping: {store.path})")
        self._set_midi_actions()
        self._show_state()
        return True

    def _set_midi_actions(self) -> None:
        # Learn itself stays enabled: with no MIDI input, Ctrl+L says what to do instead of doing nothing.
        running = self.midi is not None
        for a in (self.forget_action, self.learn_targets.menuAction()):
            a.setEnabled(running)

    def stop_midi(self, quiet: bool = False) -> None:
        if self.midi is None:
            return
        ctl, self.midi = self.midi, None
        self.set_learning(False)
        stop_safely(ctl, log)
        self.midi_state = ""
        self._set_midi_actions()
        self._show_state()
        if not quiet:
            self.say("MIDI: off")

    def _on_midi_status(self, gen: int, text: str) -> None:
        if self.midi is None or gen != self._midi_gen:
            return  # a late status from a controller already stopped
        self.midi_state = text
        self.say(text, None)  # the controller has logged it
        self._show_state()

    def set_learning(self, on: bool) -> None:
        """Learn mode: a click on a slider, style chip, temperature/rate/mix, Pause or Reset (or a key
        1-9 / Ctrl+1-9 for a preset) arms that target instead of acting; the next moved control binds."""
        on = bool(on)
        if on and self.midi is None:
            self.say("MIDI learn needs a MIDI input: choose one in the MIDI menu first")
            on = False
        if self.learn_action.isChecked() != on:
            self.learn_action.blockSignals(True)
            self.learn_action.setChecked(on)
            self.learn_action.blockSignals(False)
        if on == self.learning:
            return
        self.learning = on
        self._update_filter()
        if on:
            self.say("MIDI learn: click a slider, style, temperature, rate, mix, Pause or Reset, or press 1-9 "
                     "(Ctrl+1-9: save) for a preset; then move a control. Ctrl+L or Esc ends learn mode")
        elif self.midi is not None:
            self.midi.cancel()
            self.say("MIDI learn off")

    def arm(self, target: str) -> bool:
        """Bind the next moved MIDI control to `target`."""
        if self.midi is None:
            self.say("MIDI learn needs a MIDI input: choose one in the MIDI menu first")
            return False
        try:
            self.midi.arm(target)
        except midi_mod.MappingError as e:
            self.say(str(e))
            return False
        self.say(f"MIDI learn: move a fader, knob or pad for {self.target_label(target)}"
                 + (" (Esc ends learn mode)" if self.learning else ""))
        return True

    def _on_learned(self, gen: int, target: str, source: str) -> None:
        if gen != self._midi_gen:
            return
        more = "; click another control, or Ctrl+L to end" if self.learning else ""
        self.say(f"MIDI learned: {source} -> {self.target_label(target)} (saved){more}")
        if self.midi is not None:
            self.midi_state = self.midi.status
            self._show_state()

    def forget_mapping(self) -> None:
        if self.midi is not None:
            self.midi.reset_mapping()
            self.say("MIDI: learned mapping forgotten; faders drive the styles in order again")

    # -- autopilot -----------------------------------------------------------------------------
    @property
    def autopilot_on(self) -> bool:
        return self.autopilot is not None

    def set_autopilot(self, idle_s: float | None, seed: int | None = None) -> None:
        """Wander after `idle_s` seconds without input; None turns the autopilot off."""
        if self.autopilot is not None:
            self._pilot_timer.stop()
            self.autopilot = None
        if idle_s is not None:
            seed = seed if seed is not None else self.seed if self.seed is not None else random.randrange(1 << 31)
            self.autopilot = Autopilot(idle_s=float(idle_s), seed=seed, leg_s=self.leg_s, clock=self.clock,
                                       on_state=self._pilot_state.emit)
            self.autopilot.bind(self.window)  # the raw window: its own moves are not input
            self._pilot_timer.start()
            log.info("autopilot: wanders after %g s without input (seed %d)", idle_s, seed)
        self.autopilot_action.blockSignals(True)
        self.autopilot_action.setChecked(self.autopilot is not None)
        self.autopilot_action.blockSignals(False)
        if idle_s is not None:
            self.autopilot_action.setText(f"Autopilot when idle ({idle_s:g} s)")
        self._update_filter()
        self._show_state()

    def input_seen(self, puck: tuple[float, float] | None = None) -> None:
        """Real input (any thread): the autopilot hands over at once and waits out the idle time again."""
        ap = self.autopilot
        if ap is not None:
            ap.input_seen(puck)

    def _pilot_tick(self) -> None:
        self._pilot_tick_guarded()

    def _tick_autopilot(self) -> None:
        ap = self.autopilot
        if ap is None or not self.window.enabled_styles():
            return
        if not ap.active:
            # Whoever moved it last (slider, MIDI, hands), the wander glides on from where the puck is shown.
            p = self.window.puck.puck
            ap.last_point = (float(p[0]), float(p[1]))
        ap.tick()

    def _on_pilot_state(self, active: bool) -> None:
        self._show_state()

    # -- hands ---------------------------------------------------------------------------------
    @property
    def hands_on(self) -> bool:
        return self.hands is not None

    def start_hands(self, camera: int = 0, controller: HandController | None = None) -> bool:
        """Track a hand on `camera` (or run `controller`, e.g. one fed recorded frames) and show the overlay.

        Without mediapipe, the hand model or a camera this says which is missing in the status line and
        everything else keeps running.
        """
        self.stop_hands(quiet=True)
        ctl = controller or HandController(camera=camera)
        ok, reason = ctl.available()
        if not ok:
            self.say(f"Hands unavailable: {reason}", logging.WARNING)
            self._check_hands_action(False)
            return False
        self.hands = ctl
        self.hands_state = "starting"
        ctl.start(ActivitySink(self.window, self.input_seen))
        ov = HandOverlayWidget(source=ctl.overlay, parent=self.window.puck)
        ov.setObjectName("hand-overlay")
        ov.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)  # the puck stays draggable
        ov.resize(*self.overlay_size)
        _FollowCorner(self.window.puck, ov)
        ov.show()
        self.hand_overlay = ov
        self._hands_timer.start()
        self._check_hands_action(True)
        self.hands_action.setText(f"Hands (camera {camera})")
        self.say(f"Hands: starting camera {camera}; pinch to grab the puck, fist pauses, open hand resumes")
        self._show_state()
        return True

    def stop_hands(self, quiet: bool = False) -> None:
        if self.hands is None:
            return
        ctl, self.hands = self.hands, None
        self._hands_timer.stop()
        stop_safely(ctl, log)
        if self.hand_overlay is not None:
            self.hand_overlay.hide()
            self.hand_overlay.deleteLater()
            self.hand_overlay = None
        self.hands_state = ""
        self._check_hands_action(False)
        self._show_state()
        if not quiet:
            self.say("Hands: off")

    def _check_hands_action(self, on: bool) -> None:
        self.hands_action.blockSignals(True)
        self.hands_action.setChecked(on)
        self.hands_action.blockSignals(False)

    def _watch_hands(self) -> None:
        """Poll the tracker's state (it lives on its own thread) and say when it cannot run or ended."""
        ctl = self.hands
        if ctl is None:
            return
        status = ctl.overlay().status
        if status != self.hands_state:
            self.hands_state = status
            self._show_state()
        if not ctl.running and status not in ("starting", "not started"):
            self.stop_hands(quiet=True)
            self.say(f"Hands {status}" if status.startswith("unavailable") else f"Hands stopped: {status}",
                     None if status.startswith("unavailable") else logging.INFO)  # the controller logged why

    # -- input and learn clicks ----------------------------------------------------------------
    def _update_filter(self) -> None:
        from PySide6.QtWidgets import QApplication
        want = self.learning or self.autopilot is not None
        app = QApplication.instance()
        if app is None or want == self._filtering:
            return
        if want:
            app.installEventFilter(self)
        else:
            app.removeEventFilter(self)
        self._filtering = want

    def _in_window(self, obj: QObject) -> bool:
        w = obj if obj.isWidgetType() else obj.parent()
        if w is None or not w.isWidgetType():
            return False
        top = w.window()
        return top is self.window or (self.window.output is not None and top is self.window.output)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt's name
        t = ev.type()
        if t not in INPUT_EVENTS and t != QEvent.Type.ShortcutOverride and not (
                t == QEvent.Type.MouseMove and isinstance(ev, QMouseEvent)
                and ev.buttons() != Qt.MouseButton.NoButton):
            return False
        if not self._in_window(obj):
            return False
        if self.learning and self._learn_event(obj, ev):
            return True
        if t != QEvent.Type.ShortcutOverride:
            self.input_seen()
        return False

    def _learn_event(self, obj: QObject, ev: QEvent) -> bool:
        """In learn mode: a press on a learnable control (or a preset key) arms it and is swallowed."""
        t = ev.type()
        if t in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick) and obj.isWidgetType():
            target = learn_target_of(obj, self.window)  # type: ignore[arg-type]
            if target is not None:
                self.arm(target)
                return True
            return False
        if t in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and isinstance(ev, QKeyEvent):
            if self.window.controls.prime_edit.hasFocus():
                return False  # typing into the stream: digits are text
            key = ev.key()
            if key not in DIGITS and key != Qt.Key.Key_Escape:
                return False
            if t == QEvent.Type.ShortcutOverride:
                ev.accept()  # deliver it as a key press (to us) instead of triggering the preset shortcut
                return True
            if key == Qt.Key.Key_Escape:
                self.set_learning(False)
            else:
                ctrl = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
                self.arm(f"{'preset_save' if ctrl else 'preset'}:{DIGITS[key]}")
            return True
        return False

    # -- lifecycle -----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop every controller (the window is closing): ports released, threads ended."""
        self.stop_midi(quiet=True)
        self.stop_hands(quiet=True)
        self.set_autopilot(None)
        self.learning = False
        self._update_filter()
