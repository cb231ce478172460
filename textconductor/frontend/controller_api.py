"""What the window needs from controllers, as typing.Protocols: the frontend never imports them.

Why: the controllers (MIDI through rtmidi, hands through mediapipe and a camera, the autopilot)
live in `textconductor.controllers`, a layer above the frontend. The window's controller hub is
written against these small interfaces, and the top layer (`textconductor.cli.window_controllers`)
injects the real ones in a `WindowControllers`. A window built without them simply has no MIDI or
Controllers menu (the UI bench, tests of the panels). Tests can inject fakes.

The real classes satisfy most of these structurally (`MidiController` is a `MidiInput`,
`Autopilot`'s constructor is an `AutopilotFactory`, `HandController` is a `HandTracker`); only the
port listing needs a small adapter, to turn the backend's own error into `ControllerUnavailable`.

Nothing here imports Qt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from textconductor.errors import UserError
from textconductor.protocol.controls import ControlSink

Point = tuple[float, float]


class ControllerUnavailable(UserError):
    """A controller cannot work on this machine; the message says why, in the performer's words."""


# The vocabulary a controller plays the window with: the protocol's one `ControlSink`, which the
# frontend may import (it sits below both), under the name the window's code has always used.
Sink = ControlSink


class Controller(Protocol):
    """A controller with a lifecycle; `available` says in words why it cannot run here."""

    def available(self) -> tuple[bool, str]: ...

    def start(self, sink: Sink) -> None: ...

    def stop(self) -> None: ...


class MidiInput(Controller, Protocol):
    """One MIDI input port, followed through hot-plug, with MIDI learn."""

    want: str | int | None  # what was asked for (name, part of one, index; None: the first port)
    port_name: str | None  # the port open now, if any
    status: str  # its state in words ("MIDI: nanoKONTROL2")

    @property
    def armed(self) -> str | None: ...

    def arm(self, target: str) -> None:
        """Bind the next moved control to `target`; a UserError (with the valid targets) if unknown."""

    def cancel(self) -> None: ...

    def reset_mapping(self) -> None: ...


class MidiPorts(Protocol):
    """The MIDI backend: which input ports exist, and a controller for one of them."""

    def list_inputs(self, api: str | None) -> list[str]:
        """Port names present now; ControllerUnavailable(reason) when MIDI cannot work here."""

    def resolve(self, want: str | int | None, names: Sequence[str]) -> str | None:
        """The port among `names` that `want` means (as the controller itself would choose it)."""

    def open(self, port: str | int | None, api: str | None, on_learned: Callable[[str, str], None],
             on_status: Callable[[str], None],
             values: Callable[[], tuple[Mapping[str, float], Mapping[str, float]]] | None = None) -> MidiInput:
        """A controller for `port`, not started. `on_learned(target, source described)` and
        `on_status(text)` are called on the MIDI thread. `values()` gives the window's current
        (style weights by name, {"temperature": t, "rate": r}), so a fader picks up a value
        instead of jumping to where it stands (soft takeover)."""

    def mapping_file(self) -> str:
        """Where learned mappings are saved (shown to the performer)."""


class Wanderer(Protocol):
    """The autopilot: moves the puck after a while without input; real input hands over at once."""

    active: bool
    idle_s: float
    last_point: Point | None

    def bind(self, sink: Sink) -> None: ...

    def tick(self) -> object: ...

    def input_seen(self, puck: Point | None = None) -> None: ...


class AutopilotFactory(Protocol):
    def __call__(self, *, idle_s: float, seed: int, leg_s: float, clock: Callable[[], float],
                 on_state: Callable[[bool], None]) -> Wanderer: ...


class HandPicture(Protocol):
    """One snapshot of the tracked hand, for the overlay (immutable; safe between threads)."""

    landmarks: Sequence[Point]  # 21 points, 0..1 of the overlay, y down; empty with no hand
    gesture: str
    grabbed: bool
    paused: bool
    palm: Point | None
    status: str  # "tracking", "no hand", or why tracking is not running
    latency_ms: float


class HandTracker(Controller, Protocol):
    """Hand gestures from a camera (tracked on its own thread)."""

    @property
    def running(self) -> bool: ...

    def overlay(self) -> HandPicture: ...


HandsFactory = Callable[[int], HandTracker]  # camera index -> a tracker, not started


class ScoreTarget(Protocol):
    """What a score plays in the window: the ControlSink words plus prime and the loop guard."""

    def set_weights(self, weights: Mapping[str, float]) -> None: ...

    def control(self, name: str, value: float | str | None = None) -> None: ...

    def prime(self, text: str) -> None: ...

    def guard(self, on: bool | None = None, strength: float | None = None) -> None: ...


class ScorePerformance(Protocol):
    """A score being played (`controllers.score.ScorePlayer`), ticked by the window's timer."""

    taken_over: bool

    @property
    def done(self) -> bool: ...

    def tick(self) -> object: ...

    def take_over(self) -> None:
        """The performer touched a weight control: the score's weights stop; the rest plays on."""

    def hand_back(self) -> None:
        """The score has the weights again (a short glide from where the performer left them)."""

    def describe(self) -> str: ...


class ScoreOpener(Protocol):
    def __call__(self, path: str, target: ScoreTarget, chars: Callable[[], int],
                 weights: Callable[[], Mapping[str, float]], styles: Sequence[str],
                 on_say: Callable[[str], None]) -> ScorePerformance:
        """The score at `path`, checked against `styles` (the engine's), ready to play on `target`;
        a UserError naming the event and the key when it cannot be played."""


@dataclass
class WindowControllers:
    """The controllers a window may offer; None: that controller (and its menu entries) is absent."""

    midi: MidiPorts | None = None
    autopilot: AutopilotFactory | None = None
    hands: HandsFactory | None = None
    score: ScoreOpener | None = None  # the Score menu (Perform score..., hand back)
