"""Who plays the window besides the mouse: the controllers the top layer injected (MIDI, the idle
autopilot, hand gestures), their menus, their lifecycles and the status line that says what runs.

Why an object beside `MainWindow` rather than more code in it: the window is the instrument (state,
engine, panels) and already a `ControlSink`; this hub only decides which controllers play it, and
when. It knows controllers only through `controller_api` (the frontend never imports them) and the
window only through the explicit references in `HubParts`; it never walks the window's widgets.

Threads. MIDI messages and the hand tracker call the sink on their own threads; the window's sink
methods queue themselves onto the GUI thread. The hub's own callbacks from those threads (a binding
learned, a MIDI status change, the autopilot handing over) are Qt signals, so Qt queues them too.

What counts as input for the autopilot: a drag on the puck or a slider, the control panel, any key
or mouse press in the window (an application event filter, installed only while the autopilot or
MIDI learn is on, so an idle window pays nothing), and every call MIDI or the hands make (wrapped in
`protocol.controls.ActivitySink`). The autopilot itself calls the window's `set_puck` directly, which raises none
of these, so its own moves never count as input.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

from textconductor.frontend.controller_api import (
    Controller,
    HandTracker,
    Point,
    Sink,
    Wanderer,
    WindowControllers,
)
from textconductor.frontend.hand_overlay import FollowCorner, HandOverlayWidget
from textconductor.frontend.midi_menu import MidiMenu, short
from textconductor.frontend.panels import StatusLine
from textconductor.frontend.performer import Performer
from textconductor.frontend.puck import PuckWidget
from textconductor.frontend.theme import Theme
from textconductor.protocol.controls import ActivitySink
from textconductor.protocol.defaults import AUTOPILOT_IDLE_S, AUTOPILOT_LEG_S
from textconductor.protocol.ratelimit import FailureLog

log = logging.getLogger(__name__)

PILOT_INTERVAL_MS = 50  # 20 Hz: smooth enough for a puck that crosses the circle in ~15 s
HANDS_WATCH_MS = 200
INPUT_EVENTS = {QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick, QEvent.Type.Wheel,
                QEvent.Type.KeyPress, QEvent.Type.Shortcut}


@dataclass
class HubParts:
    """What the hub touches in the window, handed over explicitly by the window that owns it."""

    window: QMainWindow  # menu bar, Ctrl+L's home, and the scope of "input in the window"
    sink: Sink  # the window as a ControlSink; the autopilot gets it raw, others wrapped as input
    performer: Performer  # the enabled styles (learn targets; the autopilot has nothing to do without)
    status: StatusLine
    puck: PuckWidget  # the hand overlay's parent; where the autopilot glides on from
    prime_edit: QWidget  # while it has the keyboard, digits are text, not learn keys
    input_signals: Sequence[SignalInstance]  # the window's own widgets reporting real input
    style_label: Callable[[str], str]  # a style's name as the performer reads it
    other_windows: Callable[[], Sequence[QWidget]]  # further windows whose input counts (output window)


class ControllerHub(QObject):
    """MIDI (its own menu), autopilot and hands (the Controllers menu) for one window."""

    _pilot_state = Signal(bool)  # from whichever thread the autopilot hands over on

    def __init__(self, parts: HubParts, controllers: WindowControllers, theme: Theme,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parts.window)
        self.parts = parts
        self.factories = controllers
        self.clock = clock
        cfg = theme.autopilot
        self.default_idle_s = float(cfg.get("idle_s", AUTOPILOT_IDLE_S))
        self.leg_s = float(cfg.get("leg_s", AUTOPILOT_LEG_S))
        self.seed: int | None = int(cfg["seed"]) if "seed" in cfg else None
        size = theme.hands.get("overlay_size", [200, 150])
        self.overlay_size = (int(size[0]), int(size[1]))

        self.autopilot: Wanderer | None = None
        self.hands: HandTracker | None = None
        self.hand_overlay: HandOverlayWidget | None = None
        self.hands_state = ""
        self._filtering = False
        self._pilot_state.connect(lambda _active: self.show_state())
        self._pilot_timer = QTimer(self)
        self._pilot_timer.setInterval(PILOT_INTERVAL_MS)
        self._pilot_timer.timeout.connect(self._pilot_tick)
        self._pilot_guard = FailureLog(log, "autopilot tick (window)")  # a broken 20 Hz tick must not flood the log
        self._hands_timer = QTimer(self)
        self._hands_timer.setInterval(HANDS_WATCH_MS)
        self._hands_timer.timeout.connect(self._watch_hands)

        # The window's own widgets report real input even while no event filter is installed.
        for sig in parts.input_signals:
            sig.connect(lambda *_: self.input_seen())
        self.midi: MidiMenu | None = MidiMenu(self, controllers.midi) if controllers.midi is not None else None
        self.autopilot_action: QAction | None = None
        self.hands_action: QAction | None = None
        self._build_controllers_menu()
        self.show_state()

    def _build_controllers_menu(self) -> None:
        if self.factories.autopilot is None and self.factories.hands is None:
            return
        ctl = self.parts.window.menuBar().addMenu("&Controllers")
        if self.factories.autopilot is not None:
            self.autopilot_action = QAction("Autopilot when idle", self, checkable=True)
            self.autopilot_action.toggled.connect(
                lambda on: self.set_autopilot(self.default_idle_s if on else None) if on != self.autopilot_on else None)
            ctl.addAction(self.autopilot_action)
        if self.factories.hands is not None:
            self.hands_action = QAction("Hands (camera 0)", self, checkable=True)
            self.hands_action.toggled.connect(
                lambda on: (self.start_hands() if on else self.stop_hands()) if on != self.hands_on else None)
            ctl.addAction(self.hands_action)

    # -- status --------------------------------------------------------------------------------
    def say(self, text: str, level: int | None = logging.INFO) -> None:
        """A line for the performer in the status bar (and the log at `level`; None: already logged)."""
        if level is not None:
            log.log(level, "%s", text)
        self.parts.status.message.setText(short(text, 140))
        self.parts.status.message.setToolTip(text)

    def show_state(self) -> None:
        """What runs, in the status line's controllers field ("MIDI: nano · autopilot after 60 s idle")."""
        parts = []
        midi_state = ""
        if self.midi is not None and self.midi.controller is not None:
            midi_state = self.midi.state
            parts.append(short(midi_state or "MIDI: starting", 50))
        if self.autopilot is not None:
            parts.append("autopilot: wandering" if self.autopilot.active
                         else f"autopilot after {self.autopilot.idle_s:g} s idle")
        if self.hands is not None:
            parts.append(short(f"hands: {self.hands_state or 'starting'}", 50))
        label = self.parts.status.controllers
        label.setText("  ·  ".join(parts))
        label.setToolTip("\n".join(x for x in (midi_state, self.hands_state) if x))

    @staticmethod
    def stop_quietly(ctl: Controller, what: str) -> None:
        """Stop `ctl`; an error while stopping is logged, never raised (shutdown must finish)."""
        try:
            ctl.stop()
        except Exception as e:  # noqa: BLE001
            log.error("%s failed to stop: %s", what, e)

    # -- autopilot -----------------------------------------------------------------------------
    @property
    def autopilot_on(self) -> bool:
        return self.autopilot is not None

    def set_autopilot(self, idle_s: float | None, seed: int | None = None) -> None:
        """Wander after `idle_s` seconds without input; None turns the autopilot off."""
        if self.autopilot is not None:
            self._pilot_timer.stop()
            self.autopilot = None
        if idle_s is not None and self.factories.autopilot is None:
            self.say("the autopilot is not available in this window", logging.WARNING)
            idle_s = None
        if idle_s is not None and self.factories.autopilot is not None:
            seed = seed if seed is not None else self.seed if self.seed is not None else random.randrange(1 << 31)
            self.autopilot = self.factories.autopilot(idle_s=float(idle_s), seed=seed, leg_s=self.leg_s,
                                                      clock=self.clock, on_state=self._pilot_state.emit)
            self.autopilot.bind(self.parts.sink)  # the raw window: its own moves are not input
            self._pilot_timer.start()
            log.info("autopilot: wanders after %g s without input (seed %d)", idle_s, seed)
        if self.autopilot_action is not None:
            self.autopilot_action.blockSignals(True)
            self.autopilot_action.setChecked(self.autopilot is not None)
            self.autopilot_action.blockSignals(False)
            if idle_s is not None:
                self.autopilot_action.setText(f"Autopilot when idle ({idle_s:g} s)")
        self.update_filter()
        self.show_state()

    def input_seen(self, puck: Point | None = None) -> None:
        """Real input (any thread): the autopilot hands over at once and waits out the idle time again."""
        ap = self.autopilot
        if ap is not None:
            ap.input_seen(puck)

    def _pilot_tick(self) -> None:
        self._pilot_guard.call(self._tick_autopilot)

    def _tick_autopilot(self) -> None:
        ap = self.autopilot
        if ap is None or not self.parts.performer.enabled_styles():
            return
        if not ap.active:
            # Whoever moved it last (slider, MIDI, hands), the wander glides on from where the puck is shown.
            p = self.parts.puck.puck
            ap.last_point = (float(p[0]), float(p[1]))
        ap.tick()

    # -- hands ---------------------------------------------------------------------------------
    @property
    def hands_on(self) -> bool:
        return self.hands is not None

    def start_hands(self, camera: int = 0, controller: HandTracker | None = None) -> bool:
        """Track a hand on `camera` (or run `controller`, e.g. one fed recorded frames) and show the overlay.

        Without mediapipe, the hand model or a camera this says which is missing in the status line and
        everything else keeps running.
        """
        self.stop_hands(quiet=True)
        if controller is None and self.factories.hands is None:
            self.say("hand tracking is not available in this window", logging.WARNING)
            return False
        ctl = controller if controller is not None else self.factories.hands(camera)  # type: ignore[misc]
        ok, reason = ctl.available()
        if not ok:
            self.say(f"Hands unavailable: {reason}", logging.WARNING)
            self._check_hands_action(False)
            return False
        self.hands = ctl
        self.hands_state = "starting"
        ctl.start(ActivitySink(self.parts.sink, self.input_seen))
        puck = self.parts.puck
        ov = HandOverlayWidget(source=ctl.overlay, parent=puck)
        ov.setObjectName("hand-overlay")
        ov.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)  # the puck stays draggable
        ov.resize(*self.overlay_size)
        FollowCorner(puck, ov)
        ov.show()
        self.hand_overlay = ov
        self._hands_timer.start()
        self._check_hands_action(True)
        if self.hands_action is not None:
            self.hands_action.setText(f"Hands (camera {camera})")
        self.say(f"Hands: starting camera {camera}; pinch to grab the puck, fist pauses, open hand resumes")
        self.show_state()
        return True

    def stop_hands(self, quiet: bool = False) -> None:
        if self.hands is None:
            return
        ctl, self.hands = self.hands, None
        self._hands_timer.stop()
        self.stop_quietly(ctl, "hands")
        if self.hand_overlay is not None:
            self.hand_overlay.hide()
            self.hand_overlay.deleteLater()
            self.hand_overlay = None
        self.hands_state = ""
        self._check_hands_action(False)
        self.show_state()
        if not quiet:
            self.say("Hands: off")

    def _check_hands_action(self, on: bool) -> None:
        if self.hands_action is None:
            return
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
            self.show_state()
        if not ctl.running and status not in ("starting", "not started"):
            self.stop_hands(quiet=True)
            self.say(f"Hands {status}" if status.startswith("unavailable") else f"Hands stopped: {status}",
                     None if status.startswith("unavailable") else logging.INFO)  # the controller logged why

    # -- input and learn clicks ----------------------------------------------------------------
    def update_filter(self) -> None:
        """Install the application event filter only while something needs it (autopilot, learn)."""
        want = (self.midi is not None and self.midi.learning) or self.autopilot is not None
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
        return top is self.parts.window or any(top is o for o in self.parts.other_windows())

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        t = ev.type()
        if t not in INPUT_EVENTS and t != QEvent.Type.ShortcutOverride and not (
                t == QEvent.Type.MouseMove and isinstance(ev, QMouseEvent)
                and ev.buttons() != Qt.MouseButton.NoButton):
            return False
        if not self._in_window(obj):
            return False
        if self.midi is not None and self.midi.learning and self.midi.learn_event(obj, ev):
            return True
        if t != QEvent.Type.ShortcutOverride:
            self.input_seen()
        return False

    # -- lifecycle -----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop every controller (the window is closing): ports released, threads ended."""
        if self.midi is not None:
            self.midi.shutdown()
        self.stop_hands(quiet=True)
        self.set_autopilot(None)
        self.update_filter()
