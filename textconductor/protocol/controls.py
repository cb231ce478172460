"""The control vocabulary: what any player (a fader, a hand, a timer, the window) can ask for.

A controller speaks to a `ControlSink` in these words and never in OSC addresses, so the same
controller drives the window (a sink that also moves the on-screen slider) or the engine
directly (`client.EngineConnection`, a sink that sends datagrams). The words and ranges live
beside the command table they end up in, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from textconductor.protocol.commands import (
    CROWD_MODES,
    GUARD_STRENGTH_RANGE,
    MIX_MODES,
    RATE_RANGE,
    TEMPERATURE_RANGE,
)

PRESET_SLOTS = range(1, 10)

# Names accepted by ControlSink.control(), with the value each takes.
CONTROLS: dict[str, str] = {
    "temperature": f"float {TEMPERATURE_RANGE[0]:g}..{TEMPERATURE_RANGE[1]:g}",
    "rate": f"float chars/s, {RATE_RANGE[0]:g}..{RATE_RANGE[1]:g} (0 = unthrottled)",
    "mix": " or ".join(f"'{m}'" for m in MIX_MODES),
    "pause": "no value",
    "resume": "no value",
    "toggle_pause": "no value",
    "reset": "no value",
    "keep": "no value (the passage since the last mark or paragraph break; the window uses its selection)",
    "reject": "no value (as keep)",
    "preset_recall": f"int {PRESET_SLOTS[0]}..{PRESET_SLOTS[-1]}",
    "preset_save": f"int {PRESET_SLOTS[0]}..{PRESET_SLOTS[-1]}",
    # the engine's loop guard (/tc/guard): a button, and a fader for how hard it steers
    "guard": "1 on, 0 off, no value toggles",
    "guard_strength": f"float {GUARD_STRENGTH_RANGE[0]:g}..{GUARD_STRENGTH_RANGE[1]:g}",
    "crowd": " or ".join(f"'{m}'" for m in CROWD_MODES) + " (or 0..2); no value: the next one (a button cycles)",
    "crowd_blend": "float 0..1: how much the audience counts in blend",
}


def crowd_control(mode: str, blend: float, name: str, value: float | str | None) -> tuple[str, float]:
    """The audience's say after control `name` ('crowd' or 'crowd_blend') from (mode, blend): what
    `/tc/crowd_mode` then carries. One rule for the window and the headless client (a MIDI button
    cycles off -> blend -> crowd; a fader sets the blend and keeps the mode)."""
    if name == "crowd_blend":
        v = float(value)  # type: ignore[arg-type]
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError("value is NaN or infinite")
        return mode, min(max(v, 0.0), 1.0)
    if value is None:
        return CROWD_MODES[(CROWD_MODES.index(mode) + 1) % len(CROWD_MODES) if mode in CROWD_MODES else 0], blend
    if value in CROWD_MODES:
        return str(value), blend
    v = float(value)
    if not 0 <= v <= len(CROWD_MODES) - 1:
        raise ValueError(f"crowd must be one of {CROWD_MODES} or 0..{len(CROWD_MODES) - 1}")
    return CROWD_MODES[int(v)], blend


class ControlSink(Protocol):
    """The one small interface every controller speaks (see textconductor.controllers.base)."""

    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Set these styles' raw weights (0..1) by name; styles not named keep theirs."""

    def set_puck(self, x: float, y: float) -> None:
        """Move the puck; x, y in [-1, 1] (the style circle has radius 1, y up)."""

    def control(self, name: str, value: float | str | None = None) -> None:
        """One of CONTROLS."""

    def enabled_styles(self) -> list[str]:
        """Names of the styles currently enabled (on the sliders and the puck), in order."""


class ActivitySink:
    """Wraps a ControlSink: forwards everything and reports each call as real input.

    Give real controllers (MIDI, osc-bridge, hands) this sink and the autopilot the raw one, so any
    real input takes over from the autopilot at once; the autopilot's own moves are not input. It
    lives here, beside `ControlSink`, because the window (frontend) and the headless command lines
    (controllers) both wrap their sinks with it and neither layer may import the other.
    """

    def __init__(self, sink: ControlSink, on_input: Callable[..., None]) -> None:
        self.sink = sink
        self.on_input = on_input

    def set_weights(self, weights: Mapping[str, float]) -> None:
        self.on_input()
        self.sink.set_weights(weights)

    def set_puck(self, x: float, y: float) -> None:
        self.on_input(puck=(x, y))
        self.sink.set_puck(x, y)

    def control(self, name: str, value: float | str | None = None) -> None:
        self.on_input()
        self.sink.control(name, value)

    def enabled_styles(self) -> list[str]:
        return self.sink.enabled_styles()
