"""The pure core of the MIDI controller: bindings turn a mido message into `Action`s.

Why apart from ports and files: this is the part with the most cases (defaults, learned bindings,
buttons, channels, ranges), and keeping it free of backends and threads lets the tests run it
table-driven on real mido messages with no hardware (tests/controllers/test_midi_mapping.py).

Out of the box control change k drives the k-th enabled style and program change p recalls
preset p+1; learned or hand-written `Binding`s (a source such as "CC 7 on channel 1" -> a target
such as `temperature`) win.

Faders (a CC driving a style, temperature, rate or the guard's strength) go through soft takeover
(`takeover.Pickup`, the rules are there): told the engine's current values (`observe`), a fader that is far from its
target's value is held (`Action("held", target, "up" | "down")`) until it reaches it, and
`observe` answers with the `Feedback` (CC values) that show someone else's changes on the controller.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textconductor.controllers.midi.takeover import DEFAULT_TAKEOVER, TAKEOVER_MODES, Pickup
from textconductor.errors import UserError

if TYPE_CHECKING:
    from textconductor.controllers.base import ControlSink

# ---------------------------------------------------------------------------------------------
# Targets: what a binding drives.

CONTINUOUS_TARGETS = ("temperature", "rate", "guard_strength", "crowd_blend")
# Default ranges of continuous targets. Temperature and rate scale logarithmically (a knob's travel
# feels even: 0.1 -> 0.2 matters as much as 1 -> 2); a range from 0 (the loop guard's strength) linearly.
TARGET_RANGES: dict[str, tuple[float, float]] = {"temperature": (0.1, 2.0), "rate": (1.0, 60.0),
                                                 "guard_strength": (0.0, 1.0), "crowd_blend": (0.0, 1.0)}
SIMPLE_TARGETS = ("temperature", "rate", "mix", "pause", "reset", "keep", "reject",
                  "guard", "guard_strength",  # guard: the engine's loop guard, toggled per press
                  "crowd", "crowd_blend")  # crowd: the audience's say, cycled per press; crowd_blend: a fader
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


def check_takeover(mode: str) -> str:
    """`mode` if it is a soft-takeover mode ('pickup', 'jump'), else MappingError naming them."""
    if mode in TAKEOVER_MODES:
        return mode
    raise MappingError(f"unknown takeover mode {mode!r}: expected {' or '.join(TAKEOVER_MODES)}")


def is_fader_target(target: str) -> bool:
    """Targets a fader (a CC) drives continuously: the ones soft takeover and feedback are for."""
    return target.startswith("style:") or target in CONTINUOUS_TARGETS


@dataclass(frozen=True)
class Binding:
    """`source` drives `target`; lo/hi override a continuous target's default range; `takeover`
    ('pickup' | 'jump') overrides the device's soft-takeover mode for this fader (None: the device's)."""

    source: Source
    target: str
    lo: float | None = None
    hi: float | None = None
    takeover: str | None = None


@dataclass(frozen=True)
class Action:
    """What one message does to the sink: `weights` {name: w}, or a control name and value.

    `held`: a fader move soft takeover keeps back; `name` is its target, `value` the way to move
    ('up' | 'down', '' when unknown). It does nothing to the sink, but it is still the performer's input.
    """

    kind: str  # "weights" | "control" | "held"
    name: str = ""
    value: Any = None

    def apply(self, sink: ControlSink) -> None:
        if self.kind == "weights":
            sink.set_weights(self.value)
        elif self.kind == "control":
            sink.control(self.name, self.value)


@dataclass(frozen=True)
class Feedback:
    """One value to show on the controller: control change `control` = `value` (0..127) on `channel` (0..15)."""

    channel: int
    control: int
    value: int


def engine_targets(weights: Mapping[str, float], params: Mapping[str, float | str]) -> dict[str, float]:
    """The engine's values by target name ('style:NAME', 'temperature', 'rate', and 'guard_strength'
    when `params` has it), for `MidiMap.observe`."""
    out = {f"style:{name}": float(w) for name, w in weights.items()}
    for key in CONTINUOUS_TARGETS:
        v = params.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = float(v)
    return out


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


def _unscale(x: float, lo: float, hi: float) -> float:
    """The fader position (0..1) that `_log_scale` maps to `x`; values beyond the range sit at its ends,
    so a fader can always reach them (a temperature below the fader's lowest is picked up at the bottom)."""
    if lo > 0 and hi > 0 and lo != hi:
        if x <= 0:
            return 0.0 if hi > lo else 1.0
        pos = math.log(x / lo) / math.log(hi / lo)
    elif hi != lo:
        pos = (x - lo) / (hi - lo)
    else:
        return 0.0
    return min(max(pos, 0.0), 1.0)


def _range(b: Binding | None, target: str) -> tuple[float, float]:
    lo, hi = TARGET_RANGES[target]
    if b is not None:
        lo = lo if b.lo is None else b.lo
        hi = hi if b.hi is None else b.hi
    return lo, hi


def _position(target: str, value: float, b: Binding | None) -> float | None:
    """Where a fader bound by `b` stands when `target` has `value`; None for a value that is not a number."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(x):
        return None
    if target.startswith("style:"):
        return min(max(x, 0.0), 1.0)
    return _unscale(x, *_range(b, target))


class MidiMap:
    """Bindings of one controller plus the positional defaults; thread-safe.

    `positional` (on by default) lets unbound CC k drive the k-th enabled style and unbound
    program change p recall preset p+1. Buttons act on press: a CC crossing up through 64, a
    note_on with velocity > 0, any program change (so momentary buttons toggle pause per press).
    `takeover` is the device's soft-takeover mode for its faders ('pickup' or 'jump'; a binding's
    own mode wins); `feedback` whether to send values back (True: the output port of the same
    name; a string: that port), kept here because it belongs to the device, like its bindings.
    """

    def __init__(self, bindings: Iterable[Binding] = (), positional: bool = True,
                 takeover: str = DEFAULT_TAKEOVER, feedback: bool | str = False) -> None:
        self._lock = threading.Lock()
        self._bindings: dict[Source, Binding] = {}
        self.positional = positional
        self.takeover = check_takeover(takeover)
        self.feedback = feedback
        self._last: dict[Source, float] = {}  # last value per source, for press detection
        self._channels: dict[int, int] = {}  # CC number -> the channel it last came on (feedback goes there)
        self._pickup: dict[str, Pickup] = {}  # target -> soft-takeover state
        for b in bindings:
            self.bind(b.source, b.target, b.lo, b.hi, b.takeover)

    def bind(self, source: Source, target: str, lo: float | None = None, hi: float | None = None,
             takeover: str | None = None) -> Binding:
        """Bind `source` to `target`, replacing whatever either was bound to before."""
        check_target(target)
        if takeover is not None:
            check_takeover(takeover)
        b = Binding(source, target, lo, hi, takeover)
        with self._lock:
            for s in [s for s, old in self._bindings.items() if old.target == target]:
                del self._bindings[s]
            old = self._bindings.get(source)
            self._bindings[source] = b
            # A new range rescales the positions: learn the value afresh (at the next `observe`).
            self._pickup.pop(target, None)
            if old is not None:
                self._pickup.pop(old.target, None)
        return b

    def unbind(self, target: str) -> None:
        with self._lock:
            for s in [s for s, b in self._bindings.items() if b.target == target]:
                del self._bindings[s]
            self._pickup.pop(target, None)

    def clear(self) -> None:
        with self._lock:
            self._bindings.clear()
            self._pickup.clear()

    @property
    def bindings(self) -> list[Binding]:
        with self._lock:
            return list(self._bindings.values())

    def _lookup(self, src: Source) -> Binding | None:
        return self._bindings.get(src) or self._bindings.get(Source(src.kind, None, src.number))

    def translate(self, msg: Any, enabled: Sequence[str], now: float | None = None) -> list[Action]:
        """The actions `msg` causes given the enabled styles (in slider order), at time `now` (monotonic
        seconds; soft takeover tells its own late echoes by their age). Never raises on odd input."""
        now = time.monotonic() if now is None else now
        src = source_of(msg)
        if src is None:
            return []
        value = _press_value(msg)
        with self._lock:
            prev = self._last.get(src, 0.0)
            self._last[src] = value
            if src.kind == "cc" and src.channel is not None:
                self._channels[src.number] = src.channel
            binding = self._lookup(src)
            positional = self.positional
            pressed = value >= 0.5 > prev if src.kind == "cc" else (value > 0 and msg.type != "note_off")
            if binding is None:
                if not positional:
                    return []
                if src.kind == "cc" and src.number not in CHANNEL_MODE_CCS and src.number < len(enabled):
                    name = enabled[src.number]
                    return (self._hold(f"style:{name}", src, value, self.takeover, now)
                            or [Action("weights", value={name: value})])
                if src.kind == "program" and src.number + 1 in PRESETS:
                    return [Action("control", "preset_recall", src.number + 1)]
                return []
            if src.kind == "cc" and is_fader_target(binding.target):
                held = self._hold(binding.target, src, value, binding.takeover or self.takeover, now)
                if held:
                    return held
        return self._act(binding, value, pressed, src)

    def _hold(self, target: str, src: Source, pos: float, mode: str, now: float) -> list[Action]:
        """[] if the fader's move acts, else the `held` action saying which way to move (lock held)."""
        state = self._pickup.setdefault(target, Pickup())
        if state.move(pos, by=src, jump=mode == "jump", now=now):
            return []
        return [Action("held", target, state.direction())]

    # -- what the engine says: soft takeover and feedback --------------------------------------
    def observe(self, values: Mapping[str, float], enabled: Sequence[str] = (),
                now: float | None = None) -> list[Feedback]:
        """The targets' current values as the engine (or the window) has them, by target name (see
        `engine_targets`); returns the CC values to show on the controller: the ones someone other
        than this controller's faders changed, for every CC that drives them. Never raises on odd values."""
        now = time.monotonic() if now is None else now
        out: list[Feedback] = []
        with self._lock:
            for target, v in values.items():
                if not is_fader_target(target):
                    continue
                pos = _position(target, v, self._fader_binding(target))
                if pos is None:
                    continue
                if self._pickup.setdefault(target, Pickup()).observe(pos, now):
                    out += self._feedback(target, pos, enabled)
        return out

    def feedback_all(self, enabled: Sequence[str] = ()) -> list[Feedback]:
        """Every known value for every CC that drives it: what a controller just plugged in should show."""
        with self._lock:
            return [f for target, state in self._pickup.items() if state.value is not None
                    for f in self._feedback(target, state.value, enabled)]

    def waiting(self) -> dict[str, str]:
        """Targets whose fader is held by soft takeover -> the way it must move ('up' | 'down'), for a UI."""
        with self._lock:
            return {t: d for t, s in self._pickup.items() if (d := s.direction())}

    def _fader_binding(self, target: str) -> Binding | None:
        return next((b for b in self._bindings.values() if b.target == target and b.source.kind == "cc"), None)

    def _feedback(self, target: str, pos: float, enabled: Sequence[str]) -> list[Feedback]:
        """The CCs that drive `target`: its learned CC binding and, for a style, its positional CC (lock held)."""
        value = round(pos * 127)
        out = [Feedback(self._channel(b.source), b.source.number, value) for b in self._bindings.values()
               if b.target == target and b.source.kind == "cc"]
        if self.positional and target.startswith("style:") and target[6:] in enabled:
            k = list(enabled).index(target[6:])
            if k not in CHANNEL_MODE_CCS and not any(s.kind == "cc" and s.number == k for s in self._bindings):
                out.append(Feedback(self._channels.get(k, 0), k, value))
        return out

    def _channel(self, src: Source) -> int:
        """A binding's channel, or for "any channel" the one its CC last came on (the device's own), else 1."""
        return src.channel if src.channel is not None else self._channels.get(src.number, 0)

    @staticmethod
    def _act(b: Binding, value: float, pressed: bool, src: Source) -> list[Action]:
        t = b.target
        if t.startswith("style:"):
            if src.kind == "program":
                return [Action("weights", value={t[6:]: 1.0})]
            return [Action("weights", value={t[6:]: value})]
        if t in CONTINUOUS_TARGETS:
            return [Action("control", t, _log_scale(value, *_range(b, t)))]
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
        if t == "guard":
            return [Action("control", "guard")]  # no value: toggles
        if t == "crowd":  # the audience's say: a button cycles off -> blend -> crowd
            return [Action("control", "crowd")]
        if t in ("keep", "reject"):  # a pad marks the passage since the last mark (engine/marks.py)
            return [Action("control", t)]
        kind, n = t.split(":")
        return [Action("control", "preset_recall" if kind == "preset" else "preset_save", int(n))]
