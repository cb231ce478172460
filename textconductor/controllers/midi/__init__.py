"""MIDI controller: faders, knobs, pads and buttons (mido + python-rtmidi) move the weights.

Split the way mido splits itself, so each layer is tested without hardware:

* `mapping` (pure): `MidiMap` turns a mido message into `Action`s through `Binding`s and the
  positional defaults, and the engine's values into soft takeover and `Feedback`.
* `takeover` (pure): `Pickup`, the soft-takeover state machine of one fader.
* `feedback`: `FeedbackSender`, feedback CCs to an output port, rate-limited.
* `store`: `MappingStore`, the TOML file with one table per controller (tomllib reads, tomli-w writes).
* `ports`: backends, port listing and opening, and `MidiUnavailable` with the reason in words;
  the only module that calls mido/rtmidi (lazily), and the tests' seam (`ports._backend`).
* `controller`: `MidiController`, the hot-plug poll, MIDI learn, saving, and following the engine's values.

The names below are re-exported so `from textconductor.controllers import midi; midi.X` keeps
working for every public name the single module had.
"""

from __future__ import annotations

from textconductor.controllers.midi.controller import MidiController, engine_values
from textconductor.controllers.midi.feedback import FeedbackSender
from textconductor.controllers.midi.mapping import (
    CHANNEL_MODE_CCS,
    CONTINUOUS_TARGETS,
    PREFIX_TARGETS,
    PRESETS,
    SIMPLE_TARGETS,
    TARGET_RANGES,
    Action,
    Binding,
    Feedback,
    MappingError,
    MidiMap,
    Source,
    check_takeover,
    check_target,
    engine_targets,
    source_of,
)
from textconductor.controllers.midi.ports import (
    MidiUnavailable,
    device_key,
    list_midi_inputs,
    list_midi_outputs,
    resolve_port,
)
from textconductor.controllers.midi.store import MappingStore, default_mapping_path
from textconductor.controllers.midi.takeover import PICKUP_TOLERANCE, TAKEOVER_MODES, Pickup

__all__ = [
    "CHANNEL_MODE_CCS", "CONTINUOUS_TARGETS", "PICKUP_TOLERANCE", "PREFIX_TARGETS", "PRESETS", "SIMPLE_TARGETS",
    "TAKEOVER_MODES", "TARGET_RANGES",
    "Action", "Binding", "Feedback", "FeedbackSender", "MappingError", "MappingStore", "MidiController", "MidiMap",
    "MidiUnavailable", "Pickup", "Source",
    "check_takeover", "check_target", "default_mapping_path", "device_key", "engine_targets", "engine_values",
    "list_midi_inputs", "list_midi_outputs", "resolve_port", "source_of",
]
