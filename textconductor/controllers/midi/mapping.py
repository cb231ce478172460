"""The pure core of the MIDI controller: bindings turn a mido message into `Action`s.

Why apart from ports and files: this is the part with the most cases (defaults, learned bindings,
buttons, channels, ranges), and keeping it free of backends and threads lets the tests run it
table-driven on real mido messages with no hardware (tests/controllers/test_midi_mapping.py).

Out of the box control change k drives the k-th enabled style and program change p recalls
preset p+1; learned or hand-written `Binding`s (a source such as "CC 7 on channel 1" -> a target
such as `temperature`) win.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textconductor.errors import UserError

if TYPE_CHECKING:
    from textconductor.controllers.base import ControlSink

# ---------------------------------------------------------------------------------------------
# Targets: what a binding drives.

CONTINUOUS_TARGETS = ("temperature", "rate")
# Default ranges of continuous targets; both scale logarithmically (a knob's travel feels even:
# 0.1 -> 0.2 matters as much as 1 -> 2).
TARGET_RANGES: dict[str, tuple[float, float]] = {"temperature": (0.1, 2.0), "rate": (1.0, 60.0)}
SIMPLE_TARGETS = ("temperature", "rate", "mix", "pause", "reset")
PREFIX_TARGETS = ("style:", "preset:", "preset_save:")
PRESETS = range(1, 10)
# Channel-mode messages (all notes off, reset all controllers, ...) are not faders.
CHANNEL_MODE_CCS = range(120, 128)
SOURCE_KINDS = ("cc", "note", "program")


class MappingError(UserError):
    """A binding or mapping file that cannot be used."""


def check_target(target: str) -> str:
    """`target` if it is one a binding can drive, else MappingError naming the valid ones."""
    if target in SIMPLE_TARGETS:
        return target
    for prefix in PREFIX_TARGETS:
        if target.startswith(prefix):
            rest = target[len(prefix):]
            if prefix == "style:" and rest and len(rest) <= 64:
                return target
            if prefix != "style:" and rest.isdigit() and int(rest) in PRESETS:
                return target
    raise MappingError(f"unknown MIDI target {target!r}: expected style:NAME, "
                       f"{', '.join(SIMPLE_TARGETS)}, preset:1..9 or preset_save:1..9")


@dataclass(frozen=True)
class Source:
    """A physical control: kind 'cc' | 'note' | 'program', MIDI channel 0..15 (None = any), number."""

    kind: str
    channel: int | None
    number: int

    def describe(self) -> str:
        ch = "any channel" if self.channel is None else f"channel {self.channel + 1}"
        kind = "CC" if self.kind == "cc" else self.kind
        return f"{kind} {self.number} on {ch}"


@dataclass(frozen=True)
class Binding:
    """`source` drives `target`; lo/hi override a continuous target's default range."""

    source: Source
    target: str
    lo: float | None = None
    hi: float | None = None


@dataclass(frozen=True)
class Action:
    """What one message does to the sink: `weights` {name: w}, or a control name and value."""

    kind: str  # "weights" | "control"
    name: str = ""
    value: Any = None

    def apply(self, sink: ControlSink) -> None:
        if self.kind == "weights":
            sink.set_weights(self.value)
        else:
            sink.control(self.name, self.value)


def source_of(msg: Any) -> Source | None:
    """The control a mido message came from, or None for messages no binding can use."""
    t = getattr(msg, "type", None)
    if t == "control_change":
        return Source("cc", msg.channel, msg.control)
    if t in ("note_on", "note_off"):
        return Source("note", msg.channel, msg.note)
    if t == "program_change":
        return Source("program", msg.channel, msg.program)
    return None


def _press_value(msg: Any) -> float:
    """0..1: a CC's value, a note's velocity (note_off and velocity 0 are 0), a program change 1."""
    if msg.type == "control_change":
        return msg.value / 127
    if msg.type == "note_on":
        return msg.velocity / 127
    if msg.type == "program_change":
        return 1.0
    return 0.0


def _log_scale(v: float, lo: float, hi: float) -> float:
    if v <= 0.0 or v >= 1.0:
        return lo if v <= 0.0 else hi  # exact ends: the top of a fader is exactly the maximum
    if lo > 0 and hi > 0:
        return lo * (hi / lo) ** v
    return lo + (hi - lo) * v


class MidiMap:
    """Bindings of one controller plus the positional defaults; thread-safe.

    `positional` (on by default) lets unbound CC k drive the k-th enabled style and unbound
    program change p recall preset p+1. Buttons act on press: a CC crossing up through 64, a
    note_on with velocity > 0, any program change (so momentary buttons toggle pause per press).
    """

    def __init__(self, bindings: Iterable[Binding] = (), positional: bool = True) -> None:
        self._lock = threading.Lock()
        self._bindings: dict[Source, Binding] = {}
        self.positional = positional
        self._last: dict[Source, float] = {}  # last value per source, for press detection
        for b in bindings:
            self.bind(b.source, b.target, b.lo, b.hi)

    def bind(self, source: Source, target: str, lo: float | None = None, hi: float | None = None) -> Binding:
        """Bind `source` to `target`, replacing whatever either was bound to before."""
        check_target(target)
        b = Binding(source, target, lo, hi)
        with self._lock:
            for s in [s for s, old in self._bindings.items() if old.target == target]:
                del self._bindings[s]
            self._bindings[source] = b
        return b

    def unbind(self, target: str) -> None:
        with self._lock:
            for s in [s for s, b in self._bindings.items() if b.target == target]:
                del self._bindings[s]

    def clear(self) -> None:
        with self._lock:
            self._bindings.clear()

    @property
    def bindings(self) -> list[Binding]:
        with self._lock:
            return list(self._bindings.values())

    def _lookup(self, src: Source) -> Binding | None:
        return self._bindings.get(src) or self._bindings.get(Source(src.kind, None, src.number))

    def translate(self, msg: Any, enabled: Sequence[str]) -> list[Action]:
        """The actions `msg` causes given the enabled styles (in slider order). Never raises on odd input."""
        src = source_of(msg)
        if src is None:
            return []
        value = _press_value(msg)
        with self._lock:
            prev = self._last.get(src, 0.0)
            self._last[src] = value
            binding = self._lookup(src)
            positional = self.positional
        pressed = value >= 0.5 > prev if src.kind == "cc" else (value > 0 and msg.type != "note_off")
        if binding is None:
            if not positional:
                return []
            if src.kind == "cc" and src.number not in CHANNEL_MODE_CCS and src.number < len(enabled):
                return [Action("weights", value={enabled[src.number]: value})]
            if src.kind == "program" and src.number + 1 in PRESETS:
                return [Action("control", "preset_recall", src.number + 1)]
            return []
        return self._act(binding, value, pressed, src)

    @staticmethod
    def _act(b: Binding, value: float, pressed: bool, src: Source) -> list[Action]:
        t = b.target
        if t.startswith("style:"):
            if src.kind == "program":
                return [Action("weights", value={t[6:]: 1.0})]
            return [Action("weights", value={t[6:]: value})]
        if t in CONTINUOUS_TARGETS:
            lo, hi = TARGET_RANGES[t]
            lo = lo if b.lo is None else b.lo
            hi = hi if b.hi is None else b.hi
            return [Action("control", t, _log_scale(value, lo, hi))]
        if t == "mix":
            if src.kind == "cc":
                return [Action("control", "mix", "product" if value >= 0.5 else "linear")]
            return [Action("control", "mix", "product")] if pressed else []
        if not pressed:
            return []
        if t == "pause":
            return [Action("control", "toggle_pause")]
        if t == "reset":
            return [Action("control", "reset")]
        kind, n = t.split(":")
        return [Action("control", "preset_recall" if kind == "preset" else "preset_save", int(n))]
