"""The MIDI menu: input ports (listed afresh each time it opens, so hot-plug shows up), MIDI learn from
the UI (click a control, move a fader), and forgetting a learned mapping.

Why a piece of its own: MIDI is the one controller with a menu of its own and a mode (learn) that
changes what a click in the window means. It talks to MIDI only through `controller_api.MidiPorts`
(injected by the top layer) and to the window only through the `ControllerHub` that owns it.

Threads: the MIDI controller calls back (learned, status) on its own thread; those arrive here as
Qt signals (queued onto the GUI thread), tagged with the controller's generation so a late word
from a controller already stopped is dropped.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from textconductor.errors import UserError
from textconductor.frontend.controller_api import ControllerUnavailable, MidiInput, MidiPorts
from textconductor.protocol.controls import ActivitySink

if TYPE_CHECKING:
    from textconductor.frontend.controller_hub import ControllerHub

log = logging.getLogger(__name__)

# Widgets (by objectName) that arm MIDI learn when clicked in learn mode, and the target each arms.
LEARN_WIDGETS = {"temperature": "temperature", "rate": "rate", "mix": "mix", "pause": "pause", "reset": "reset",
                 "keep": "keep", "reject": "reject", "guard": "guard", "guard_strength": "guard_strength"}
DIGITS = {getattr(Qt.Key, f"Key_{k}"): k for k in range(1, 10)}
CONTROL_TARGETS = ("temperature", "rate", "mix", "pause", "reset", "keep", "reject", "guard", "guard_strength")


def learn_target_of(widget: QWidget | None, stop: QWidget) -> str | None:
    """The MIDI learn target a click on `widget` means (a slider, a style chip, a control), or None.

    A click lands on the innermost widget (the line edit inside a spin box), so this climbs from
    there to `stop` and takes the first name it knows (panels name their widgets for this).
    """
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


class MidiMenu(QObject):
    """The *MIDI* menu and the one MIDI input it runs (`controller`, None when off)."""

    _learned = Signal(int, str, str)  # generation, target, source described ("CC 16 on channel 1")
    _status = Signal(int, str)

    def __init__(self, hub: ControllerHub, ports: MidiPorts, api: str | None = None) -> None:
        super().__init__(hub)
        self.hub = hub
        self.ports = ports
        self.api = api
        self.controller: MidiInput | None = None
        self.state = ""
        self.learning = False
        self._gen = 0
        self._learned.connect(self._on_learned)
        self._status.connect(self._on_status)

        window = hub.parts.window
        self.menu = window.menuBar().addMenu("&MIDI")
        self.menu.aboutToShow.connect(self.refresh)
        self.learn_action = QAction("Learn (click a control, move a fader)", self, checkable=True)
        self.learn_action.setShortcut(QKeySequence("Ctrl+L"))
        self.learn_action.toggled.connect(self.set_learning)
        self.learn_targets = QMenu("Learn target", self.menu)
        self.learn_targets.aboutToShow.connect(self._fill_learn_targets)
        self.forget_action = QAction("Forget this controller's learned mapping", self)
        self.forget_action.triggered.connect(self.forget_mapping)
        self._port_group = QActionGroup(self)
        self._port_group.setExclusive(True)
        self.port_actions: dict[str, QAction] = {}
        window.addAction(self.learn_action)  # Ctrl+L also where the menu bar is hidden (fullscreen)
        self._populate(None, "")

    # -- the menu ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """List the input ports now present (called each time the menu opens: hot-plug shows up)."""
        try:
            names: list[str] | None = self.ports.list_inputs(self.api)
            reason = ""
        except ControllerUnavailable as e:
            names, reason = None, str(e)
        self._populate(names, reason)

    def _populate(self, names: list[str] | None, reason: str) -> None:
        """names None: MIDI cannot work here (`reason`); [] no ports; else one checkable item per port."""
        m = self.menu
        for a in self._port_group.actions():
            self._port_group.removeAction(a)
        m.clear()
        self.port_actions = {}
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
            a.triggered.connect(lambda _=False, n=n: self.start(n))
            self._port_group.addAction(a)
            m.addAction(a)
            self.port_actions[n] = a
        if self.controller is not None and current is None:  # started, but its port is not (yet) here
            want = self.controller.want
            a = QAction(f"{want if want is not None else 'first port'} (waiting for it)", m, checkable=True)
            a.setChecked(True)
            a.setEnabled(False)
            m.addAction(a)
        if names or self.controller is not None:
            none = QAction("None", m, checkable=True)
            none.setChecked(self.controller is None)
            none.triggered.connect(self.stop)
            self._port_group.addAction(none)
            m.addAction(none)
            self.port_actions[""] = none
        m.addSeparator()
        m.addAction(self.learn_action)
        m.addMenu(self.learn_targets)
        m.addAction(self.forget_action)
        self._set_actions()

    def _current_port(self, names: list[str]) -> str | None:
        if self.controller is None:
            return None
        if self.controller.port_name in names:
            return self.controller.port_name
        return self.ports.resolve(self.controller.want, names)

    def _fill_learn_targets(self) -> None:
        m = self.learn_targets
        m.clear()
        for n in self.hub.parts.performer.enabled_styles():
            m.addAction(self.target_label(f"style:{n}"), lambda t=f"style:{n}": self.arm(t))
        m.addSeparator()
        for t in CONTROL_TARGETS:
            m.addAction(self.target_label(t), lambda t=t: self.arm(t))
        presets = m.addMenu("Recall preset")
        saves = m.addMenu("Save preset")
        for k in range(1, 10):
            presets.addAction(str(k), lambda k=k: self.arm(f"preset:{k}"))
            saves.addAction(str(k), lambda k=k: self.arm(f"preset_save:{k}"))

    def _set_actions(self) -> None:
        # Learn itself stays enabled: with no MIDI input, Ctrl+L says what to do instead of doing nothing.
        running = self.controller is not None
        for a in (self.forget_action, self.learn_targets.menuAction()):
            a.setEnabled(running)

    def target_label(self, target: str) -> str:
        """A learn target in the performer's words ("style Jane Austen", "temperature", "recall preset 3")."""
        if target.startswith("style:"):
            return f"style {self.hub.parts.style_label(target[6:])}"
        if target.startswith("preset_save:"):
            return f"save preset {target.split(':')[1]}"
        if target.startswith("preset:"):
            return f"recall preset {target.split(':')[1]}"
        return {"guard": "loop guard on/off", "guard_strength": "loop guard strength"}.get(target, target)

    # -- the controller ------------------------------------------------------------------------
    def _values(self) -> tuple[dict[str, float], dict[str, float]]:
        """What the window shows now (read on the MIDI thread: copies, never the live dicts)."""
        perf = self.hub.parts.performer
        return dict(perf.weights), {"temperature": perf.params.temperature, "rate": perf.params.rate,
                                    "guard_strength": perf.loop_guard.strength}

    def start(self, port: str | int | None = None, api: str | None = None) -> bool:
        """Play the window from MIDI port `port` (name, part of one, index; None = first real port).

        False (with the reason in the status line) when MIDI cannot work here; the app keeps running.
        A port not present yet is fine: the controller opens it when it is plugged in.
        """
        hub = self.hub
        self.stop(quiet=True)
        if api is not None:
            self.api = api
        self._gen += 1
        gen = self._gen
        ctl = self.ports.open(port, self.api, on_learned=lambda target, src: self._learned.emit(gen, target, src),
                              on_status=lambda text: self._status.emit(gen, text), values=self._values)
        ok, reason = ctl.available()
        if not ok:
            hub.say(f"MIDI unavailable: {reason}", logging.WARNING)
            self._populate(None, reason)
            return False
        try:
            ctl.start(ActivitySink(hub.parts.sink, hub.input_seen))
        except Exception as e:  # noqa: BLE001 - a controller must never take the window down
            log.error("MIDI failed to start: %s", e, exc_info=e)
            hub.say(f"MIDI could not start: {e}", None)
            return False
        self.controller = ctl
        self.state = ctl.status
        hub.say(f"MIDI: listening on {port if port is not None else 'the first input port'}"
                f" (mapping: {self.ports.mapping_file()})")
        self._set_actions()
        hub.show_state()
        return True

    def stop(self, quiet: bool = False) -> None:
        if self.controller is None:
            return
        ctl, self.controller = self.controller, None
        self.set_learning(False)
        self.hub.stop_quietly(ctl, "MIDI")
        self.state = ""
        self._set_actions()
        self.hub.show_state()
        if not quiet:
            self.hub.say("MIDI: off")

    def _on_status(self, gen: int, text: str) -> None:
        if self.controller is None or gen != self._gen:
            return  # a late status from a controller already stopped
        self.state = text
        self.hub.say(text, None)  # the controller has logged it
        self.hub.show_state()

    # -- learn ---------------------------------------------------------------------------------
    def set_learning(self, on: bool) -> None:
        """Learn mode: a click on a slider, style chip, temperature/rate/mix, Pause or Reset (or a key
        1-9 / Ctrl+1-9 for a preset) arms that target instead of acting; the next moved control binds."""
        on = bool(on)
        if on and self.controller is None:
            self.hub.say("MIDI learn needs a MIDI input: choose one in the MIDI menu first")
            on = False
        if self.learn_action.isChecked() != on:
            self.learn_action.blockSignals(True)
            self.learn_action.setChecked(on)
            self.learn_action.blockSignals(False)
        if on == self.learning:
            return
        self.learning = on
        self.hub.update_filter()
        if on:
            self.hub.say("MIDI learn: click a slider, style, temperature, rate, mix, Pause or Reset, or press 1-9 "
                         "(Ctrl+1-9: save) for a preset; then move a control. Ctrl+L or Esc ends learn mode")
        elif self.controller is not None:
            self.controller.cancel()
            self.hub.say("MIDI learn off")

    def arm(self, target: str) -> bool:
        """Bind the next moved MIDI control to `target`."""
        if self.controller is None:
            self.hub.say("MIDI learn needs a MIDI input: choose one in the MIDI menu first")
            return False
        try:
            self.controller.arm(target)
        except UserError as e:  # an unknown target: the message lists the valid ones
            self.hub.say(str(e))
            return False
        self.hub.say(f"MIDI learn: move a fader, knob or pad for {self.target_label(target)}"
                     + (" (Esc ends learn mode)" if self.learning else ""))
        return True

    def _on_learned(self, gen: int, target: str, source: str) -> None:
        if gen != self._gen:
            return
        more = "; click another control, or Ctrl+L to end" if self.learning else ""
        self.hub.say(f"MIDI learned: {source} -> {self.target_label(target)} (saved){more}")
        if self.controller is not None:
            self.state = self.controller.status
            self.hub.show_state()

    def forget_mapping(self) -> None:
        if self.controller is not None:
            self.controller.reset_mapping()
            self.hub.say("MIDI: learned mapping forgotten; faders drive the styles in order again")

    def learn_event(self, obj: QObject, ev: QEvent) -> bool:
        """In learn mode: a press on a learnable control (or a preset key) arms it; True: swallow the event."""
        t = ev.type()
        if t in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick) and obj.isWidgetType():
            target = learn_target_of(obj, self.hub.parts.window)  # type: ignore[arg-type]
            if target is not None:
                self.arm(target)
                return True
            return False
        if t in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and isinstance(ev, QKeyEvent):
            if self.hub.parts.prime_edit.hasFocus():
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

    def shutdown(self) -> None:
        self.stop(quiet=True)
        self.learning = False
