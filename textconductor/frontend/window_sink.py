"""The window as the `ControlSink` every controller plays, and the performer's state as the panels,
controllers and tests read it off the window.

Why apart from `main_window`: this is the window's contract with the outside (MIDI, autopilot,
hands, scores, tests), each call handed to the Qt-free `Performer`; the main window is the wiring
and the drawing. A controller may call from its own thread: `_gui` re-queues the call on the GUI
thread (through `Invoker`), so the performer is only ever touched there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, Qt, QThread, Signal

from textconductor import protocol
from textconductor.frontend.curation import MARK_CONTROLS
from textconductor.frontend.presets import PresetStore


class Invoker(QObject):
    """Runs callables on the GUI thread: controllers may call the ControlSink from their own threads."""

    call = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.call.connect(lambda f: f(), Qt.ConnectionType.QueuedConnection)


class WindowSink:
    """Mixed into `MainWindow` (which owns `performer`, `puck`, `curation`, `stream` and `_invoker`):
    implements `textconductor.controllers.base.ControlSink`."""

    # -- the performer's state, as the panels and tests read it --------------------------------
    @property
    def names(self) -> list[str]:
        return self.performer.names

    @property
    def weights(self) -> dict[str, float]:
        return self.performer.weights

    @property
    def enabled(self) -> dict[str, bool]:
        return self.performer.enabled

    @property
    def params(self) -> protocol.Params:
        return self.performer.params

    @property
    def paused(self) -> bool:
        return self.performer.paused

    @property
    def presets(self) -> PresetStore:
        return self.performer.presets

    @property
    def morph_seconds(self) -> float:
        return self.performer.morph_seconds

    @morph_seconds.setter
    def morph_seconds(self, seconds: float) -> None:
        self.performer.morph_seconds = float(seconds)

    @property
    def morphing(self) -> bool:
        return self.performer.morphing

    @property
    def ticks_received(self) -> int:
        return self.stream.ticks_received

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
            self.performer.set_weights({n: v for n, v in weights.items() if n in self.weights}, move_puck=True)

    def set_puck(self, x: float, y: float) -> None:
        """Move the puck (circle units, y up): the enabled styles get its normalised weights."""
        if not self._gui(lambda: self.set_puck(x, y)):
            return
        names = self.enabled_styles()
        w = self.puck.set_puck(float(x), float(y))
        self.performer.set_weights(dict(zip(names, (float(v) for v in w), strict=True)), move_puck=False)

    def enabled_styles(self) -> list[str]:
        return self.performer.enabled_styles()

    def control(self, name: str, value: float | str | None = None) -> None:
        """One of controllers.base.CONTROLS."""
        if self._gui(lambda: self.control(name, value)):
            if name in MARK_CONTROLS:
                self.curation.mark(name)  # the selection if there is one
            else:
                self.performer.control(name, value)

    def set_enabled(self, name: str, on: bool) -> None:
        self.performer.set_enabled(name, on)

    def prime(self, text: str) -> None:
        self.performer.prime(text)

    def save_preset(self, slot: int) -> None:
        self.performer.save_preset(slot)

    def recall_preset(self, slot: int) -> None:
        self.performer.recall_preset(slot)

    def send_weights(self) -> None:
        self.performer.send_weights()
