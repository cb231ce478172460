"""MIDI controller: faders, knobs, pads and buttons (mido + python-rtmidi) move the weights.

Split the way mido splits itself, so each layer is tested without hardware:

* `mapping` (pure): `MidiMap` turns a mido message into `Action`s through `Binding`s and the
  positional defaults.
* `store`: `MappingStore`, the TOML file with one table per controller (tomllib reads, tomli-w writes).
* `ports`: backends, port listing and opening, and `MidiUnavailable` with the reason in words;
  the only module that calls mido/rtmidi (lazily), and the tests' seam (`ports._backend`).
* `controller`: `MidiController`, the hot-plug poll, MIDI learn and saving.

The names below are re-exported so `from textconductor.controllers import midi; midi.X` keeps
working for every public name the single module had.
"""

from __future__ import annotations

from textconductor.controllers.midi.controller import MidiController
from textconductor.controllers.midi.mapping import (
    CHANNEL_MODE_CCS,
    CONTINUOUS_TARGETS,
    PREFIX_TARGETS,
    PRESETS,
    SIMPLE_TARGETS,
    TARGET_RANGES,
    Action,
    Binding,
    MappingError,
    MidiMap,
    Source,
    check_target,
    source_of,
)
from textconductor.controllers.midi.ports import MidiUnavailable, device_key, list_midi_inputs, resolve_port
from textconductor.controllers.midi.store import MappingStore, default_mapping_path

__all__ = [
    "CHANNEL_MODE_CCS", "CONTINUOUS_TARGETS", "PREFIX_TARGETS", "PRESETS", "SIMPLE_TARGETS", "TARGET_RANGES",
    "Action", "Binding", "MappingError", "MappingStore", "MidiController", "MidiMap", "MidiUnavailable", "Source",
    "check_target", "default_mapping_path", "device_key", "list_midi_inputs", "resolve_port", "source_of",
]
