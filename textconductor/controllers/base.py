"""The one small interface every controller speaks.

A controller turns some input (MIDI, a hand, a timer, an OSC tool) into calls on a `ControlSink`.
The frontend's main window is a sink (so a fader moves the on-screen slider too); `OscSink` in
`osc_sink.py` is a sink that talks straight to the engine, for running a controller headless.
Controllers run on their own thread or timer, never block the caller, and must survive their
own failures: `start` reports a missing device as `available() -> (False, reason)`, not a crash.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Protocol

# Names accepted by ControlSink.control(), with the value each takes.
CONTROLS: dict[str, str] = {
    "temperature": "float 0.05..5",
    "rate": "float chars/s, 0..1000 (0 = unthrottled)",
    "mix": "'linear' or 'product'",
    "pause": "no value",
    "resume": "no value",
    "toggle_pause": "no value",
    "reset": "no value",
    "preset_recall": "int 1..9",
    "preset_save": "int 1..9",
}


class ControlSink(Protocol):
    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Set these styles' raw weights (0..1) by name; styles not named keep theirs."""

    def set_puck(self, x: float, y: float) -> None:
        """Move the puck; x, y in [-1, 1] (the style circle has radius 1, y up)."""

    def control(self, name: str, value: float | str | None = None) -> None:
        """One of CONTROLS."""

    def enabled_styles(self) -> list[str]:
        """Names of the styles currently enabled (on the sliders and the puck), in order."""


class Controller(ABC):
    """Start/stop lifecycle; `available` says why a controller cannot run here, in words."""

    name: str = "controller"

    @abstractmethod
    def start(self, sink: ControlSink) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    def available(self) -> tuple[bool, str]:
        return True, ""
