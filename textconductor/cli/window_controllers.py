"""The real controllers for the window (MIDI, autopilot, hands), wired in from the top layer.

Why here and not in the frontend: the frontend sits below `textconductor.controllers` and knows
controllers only through the Protocols in `textconductor.frontend.controller_api`. This module is the
one place that imports both: it adapts the MIDI backend to `MidiPorts`, hands the `Autopilot` class
and a `HandController` factory over as they are (they already fit the Protocols), and turns `ui`'s
command-line flags into started controllers.

Importing this module pulls in the controllers (mido, numpy), never Qt: the CLI imports it inside
its handlers only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from textconductor.controllers import midi as midi_mod
from textconductor.controllers.autopilot import Autopilot
from textconductor.frontend.controller_api import (
    ControllerUnavailable,
    MidiInput,
    ScorePerformance,
    ScoreTarget,
    WindowControllers,
)

if TYPE_CHECKING:
    from textconductor.frontend.main_window import MainWindow

log = logging.getLogger(__name__)


class MidiBackend:
    """`controller_api.MidiPorts` over `textconductor.controllers.midi` (mido + python-rtmidi).

    `mapping_path`: the MIDI learn file (None: `midi.toml` in the user config dir, read when used,
    so a test's XDG_CONFIG_HOME applies).
    """

    def __init__(self, mapping_path: Path | None = None) -> None:
        self.mapping_path = mapping_path

    def list_inputs(self, api: str | None) -> list[str]:
        try:
            return midi_mod.list_midi_inputs(api)
        except midi_mod.MidiUnavailable as e:
            raise ControllerUnavailable(str(e)) from e

    def resolve(self, want: str | int | None, names: Sequence[str]) -> str | None:
        return midi_mod.resolve_port(want, names)

    def open(self, port: str | int | None, api: str | None, on_learned: Callable[[str, str], None],
             on_status: Callable[[str], None],
             values: Callable[[], tuple[Mapping[str, float], Mapping[str, float]]] | None = None) -> MidiInput:
        return midi_mod.MidiController(
            port, api=api, store=midi_mod.MappingStore(self.mapping_path),
            on_learned=lambda target, binding: on_learned(target, binding.source.describe()),
            on_status=on_status,
            values=(lambda: midi_mod.engine_targets(*values())) if values is not None else None)

    def mapping_file(self) -> str:
        return str(midi_mod.MappingStore(self.mapping_path).path)


def open_hands(camera: int):  # a HandTracker; the import is heavy (numpy, cv2 on start)
    """A hand tracker for webcam `camera`, not started (imported here: only `--hands` pays for it)."""
    from textconductor.controllers.hands import HandController
    return HandController(camera=camera)


def open_score(path: str, target: ScoreTarget, chars: Callable[[], int], weights: Callable[[], Mapping[str, float]],
               styles: Sequence[str], on_say: Callable[[str], None]) -> ScorePerformance:  # a ScoreOpener
    """A `ScorePlayer` for the window: the score read and checked against the engine's styles."""
    from textconductor.controllers.score import ScorePlayer, check_styles, load_score
    score = load_score(path)
    check_styles(score, styles, "the engine")
    return ScorePlayer(score, target, chars, weights, on_say=on_say)


def real_controllers(mapping_path: Path | None = None) -> WindowControllers:
    """Everything the window's MIDI, Controllers and Score menus can offer on this machine."""
    return WindowControllers(midi=MidiBackend(mapping_path), autopilot=Autopilot, hands=open_hands,
                             score=open_score)


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


def start_controllers(win: MainWindow, fullscreen: bool, midi: str | int | None = None, midi_on: bool = False,
                      midi_api: str | None = None, autopilot: float | None = None, no_autopilot: bool = False,
                      hands: bool = False, camera: int = 0) -> None:
    """What `ui`'s controller flags ask for; a controller that cannot run here says so and the window runs."""
    hub = win.controllers
    if hub.midi is not None:
        hub.midi.api = midi_api
        if midi_on:
            hub.midi.start(midi)
    elif midi_on:
        log.warning("this window has no MIDI menu: --midi ignored")
    idle = autopilot_idle(autopilot, no_autopilot, fullscreen, hub.default_idle_s)
    if idle is not None:
        hub.set_autopilot(idle)
    if hands:
        hub.start_hands(camera)
