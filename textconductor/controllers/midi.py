"""MIDI controller: faders, knobs, pads and buttons (mido + python-rtmidi) move the weights.

Three layers, so each can be tested without hardware:

* `MidiMap` (pure): turns a mido message into `Action`s. Out of the box control change k drives
  the k-th enabled style and program change p recalls preset p+1; learned or hand-written
  `Binding`s (a source such as "CC 7 on channel 1" -> a target such as `temperature`) win.
* `MappingStore`: one TOML file under the user's config directory, one table per controller
  (named by its port name without ALSA's client:port numbers, so re-plugging keeps the mapping).
* `MidiController`: the port shell. It polls port names about once a second, so a controller
  plugged in or pulled out while running is picked up or released without a restart; a missing
  MIDI backend (no libasound2, no /dev/snd/seq, no JACK server) or no ports is said once, in words,
  and the app keeps running. MIDI learn: `arm(target)`, the next moved fader/knob/pad is bound to
  the target, saved, and `on_learned(target, binding)` is called; `cancel()` disarms.

Threads: messages arrive on the controller's MIDI input thread and go straight to the sink (so a move reaches the
engine at the next character); the sink must be callable from any thread.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textconductor.controllers.base import Controller, ControlSink, guarded
from textconductor.errors import UserError

log = logging.getLogger(__name__)

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


class MidiUnavailable(UserError):
    """No usable MIDI backend here (reason in words)."""


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


# ---------------------------------------------------------------------------------------------
# Persistence: TOML, one table per controller. tomllib reads it; we write it ourselves (the
# structure is fixed and small, so no tomli-w dependency).

def device_key(port_name: str) -> str:
    """A port name without what changes on re-plug: ALSA's ' 20:0' suffix, JACK/rtmidi client prefixes."""
    name = re.sub(r"\s+\d+:\d+$", "", port_name.strip())
    name = re.sub(r"^RtMidi(In|Out) Client:", "", name)
    return name or port_name


def _toml_str(s: str) -> str:
    return json.dumps(s)  # JSON string escapes are a subset of TOML basic-string escapes


def default_mapping_path() -> Path:
    import platformdirs
    return Path(platformdirs.user_config_dir("textconductor")) / "midi.toml"


class MappingStore:
    """The MIDI mapping file. A damaged file is reported and set aside (`.bak`), never fatal."""

    HEADER = ("# textconductor MIDI mappings: one table per controller, written by MIDI learn; safe to edit.\n"
              "# Targets: style:NAME, temperature, rate, mix, pause, reset, preset:1..9, preset_save:1..9.\n"
              "# Sources: kind = cc | note | program; channel 1..16 (leave out = any channel); number 0..127.\n"
              "# positional = true: unbound CC k drives the k-th enabled style, program p recalls preset p+1.\n")

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_mapping_path()
        self._lock = threading.Lock()

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            backup = self.path.with_suffix(".toml.bak")
            os.replace(self.path, backup)
            log.error("MIDI mapping file %s is not valid TOML (%s); moved it to %s, using defaults",
                      self.path, e, backup)
            return {}
        devices = data.get("devices", {})
        return devices if isinstance(devices, dict) else {}

    def devices(self) -> list[str]:
        with self._lock:
            return sorted(self._read())

    def load(self, device: str) -> MidiMap:
        """The mapping saved for `device` (a port name or its key); defaults if none. Bad entries are skipped."""
        with self._lock:
            entry = self._read().get(device_key(device), {})
        if not isinstance(entry, dict):
            return MidiMap()
        bindings = []
        for raw in entry.get("bindings", []):
            try:
                bindings.append(_binding_from_toml(raw))
            except (MappingError, KeyError, TypeError, ValueError) as e:
                log.warning("%s: skipped a bad binding for %s: %r (%s)", self.path, device, raw, e)
        return MidiMap(bindings, positional=bool(entry.get("positional", True)))

    def save(self, device: str, mapping: MidiMap) -> None:
        """Write `mapping` for `device`, keeping every other device's table; atomic (temp file + rename)."""
        with self._lock:
            devices = self._read()
            devices[device_key(device)] = {
                "positional": mapping.positional,
                "bindings": [_binding_to_toml(b) for b in sorted(mapping.bindings, key=_sort_key)],
            }
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".toml.tmp")
            tmp.write_text(self._render(devices), encoding="utf-8")
            os.replace(tmp, self.path)

    def _render(self, devices: dict[str, Any]) -> str:
        out = [self.HEADER]
        for name in sorted(devices):
            entry = devices[name]
            if not isinstance(entry, dict):
                continue
            positional = "true" if entry.get("positional", True) else "false"
            out.append(f"\n[devices.{_toml_str(name)}]\npositional = {positional}")
            out.append("bindings = [")
            for raw in entry.get("bindings", []):
                try:
                    b = _binding_from_toml(raw)  # re-validate what we keep from the old file
                except (MappingError, KeyError, TypeError, ValueError):
                    continue
                out.append("  " + _inline(_binding_to_toml(b)) + ",")
            out.append("]")
        return "\n".join(out) + "\n"


def _sort_key(b: Binding) -> tuple:
    return (b.source.kind, b.source.number, -1 if b.source.channel is None else b.source.channel)


def _inline(d: dict[str, Any]) -> str:
    parts = []
    for k, v in d.items():
        if isinstance(v, str):
            parts.append(f"{k} = {_toml_str(v)}")
        elif isinstance(v, float):
            parts.append(f"{k} = {v!r}")
        else:
            parts.append(f"{k} = {int(v)}")
    return "{ " + ", ".join(parts) + " }"


def _binding_to_toml(b: Binding) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": b.source.kind}
    if b.source.channel is not None:
        d["channel"] = b.source.channel + 1
    d["number"] = b.source.number
    d["target"] = b.target
    if b.lo is not None:
        d["lo"] = float(b.lo)
    if b.hi is not None:
        d["hi"] = float(b.hi)
    return d


def _binding_from_toml(raw: Any) -> Binding:
    if not isinstance(raw, dict):
        raise TypeError("a binding is a table")
    kind = raw["kind"]
    if kind not in ("cc", "note", "program"):
        raise ValueError(f"kind must be cc, note or program, not {kind!r}")
    number = raw["number"]
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 127:
        raise ValueError("number must be 0..127")
    channel = raw.get("channel")
    if channel is not None and (isinstance(channel, bool) or not isinstance(channel, int) or not 1 <= channel <= 16):
        raise ValueError("channel must be 1..16")
    lo, hi = raw.get("lo"), raw.get("hi")
    for v in (lo, hi):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)):
            raise ValueError("lo/hi must be numbers")
    target = check_target(str(raw["target"]))
    return Binding(Source(kind, None if channel is None else channel - 1, number), target,
                   None if lo is None else float(lo), None if hi is None else float(hi))


# ---------------------------------------------------------------------------------------------
# Ports.

def _backend(api: str | None = None):
    """A mido backend object; `api` e.g. 'UNIX_JACK' or 'LINUX_ALSA' (None: mido's default / $MIDO_BACKEND)."""
    import mido
    if api is None:
        return mido.backend
    return mido.Backend(api if "/" in api or "." in api else f"mido.backends.rtmidi/{api}")


def _unavailable_reason(e: BaseException) -> str:
    if isinstance(e, ImportError):
        return (f"no MIDI backend ({e}); install python-rtmidi and the ALSA library "
                "(Debian: apt-get install libasound2)")
    text = str(e) or type(e).__name__
    if "ALSA" in text or "sequencer" in text:
        return (f"the ALSA sequencer is not available ({text}); /dev/snd/seq is missing "
                "(load snd-seq, or run with --midi-api UNIX_JACK and a JACK server)")
    if "JACK" in text:
        return f"no JACK server ({text}); start one (jackd) or use the ALSA backend"
    return text


def list_midi_inputs(api: str | None = None) -> list[str]:
    """Names of the MIDI input ports now present, for a menu; MidiUnavailable(reason) if MIDI cannot work here."""
    try:
        return list(_backend(api).get_input_names())
    except (ImportError, OSError, RuntimeError) as e:  # rtmidi's SystemError is an OSError
        raise MidiUnavailable(_unavailable_reason(e)) from e


class _PortWatch:
    """Lists input ports for the once-a-second hot-plug poll.

    With an explicit rtmidi API one client is kept open and asked each time: opening a client per
    poll costs ~170 ms on JACK (and flickers in JACK's graph). Otherwise mido's own listing, which
    probes the APIs afresh each call (cheap on ALSA).
    """

    def __init__(self, api: str | None) -> None:
        self.api = api
        self._midi_in: Any = None

    def names(self) -> list[str]:
        if self.api is None or "/" in self.api or "." in self.api:
            return list_midi_inputs(self.api)
        try:
            if self._midi_in is None:
                import rtmidi
                self._midi_in = rtmidi.MidiIn(getattr(rtmidi, f"API_{self.api}"), "textconductor port watch")
            return list(self._midi_in.get_ports())
        except (ImportError, OSError, RuntimeError, AttributeError) as e:
            self.close()
            raise MidiUnavailable(_unavailable_reason(e)) from e

    def close(self) -> None:
        if self._midi_in is not None:
            try:
                self._midi_in.delete()
            except Exception as e:  # already gone with its server
                log.debug("closing the port watch: %s", e)
            self._midi_in = None


def _is_through(name: str) -> bool:
    return name.lower().startswith("midi through")


def resolve_port(want: str | int | None, names: Sequence[str]) -> str | None:
    """The port to open among `names`: by index, exact name, name without numbers, or substring.

    With no wish, the first port that is not ALSA's always-present 'Midi Through'.
    """
    if want is None:
        return next((n for n in names if not _is_through(n)), None)
    if isinstance(want, int):
        return names[want] if 0 <= want < len(names) else None
    if want in names:
        return want
    key = device_key(want).lower()
    for n in names:
        if device_key(n).lower() == key:
            return n
    return next((n for n in names if want.lower() in n.lower()), None)


class MidiController(Controller):
    """One MIDI input port, followed through hot-plug, mapped by `MidiMap`, learned and saved.

    `port` is a name (or part of one) or an index into the port list; None takes the first real
    port. `api` picks the rtmidi API ('UNIX_JACK', 'LINUX_ALSA'). `on_status(text)` hears every
    change of state in words ("MIDI: nanoKONTROL2", "MIDI: no input ports", "MIDI unavailable: ...").
    """

    name = "MIDI"

    def __init__(self, port: str | int | None = None, api: str | None = None, store: MappingStore | None = None,
                 poll_s: float = 1.0, on_learned: Callable[[str, Binding], None] | None = None,
                 on_status: Callable[[str], None] | None = None) -> None:
        self.want = port
        self.api = api
        self.store = store
        self.poll_s = poll_s
        self.on_learned = on_learned
        self.on_status = on_status
        self.mapping = MidiMap()
        self.port_name: str | None = None
        self.status = "MIDI: not started"
        self.messages = 0
        self._port: Any = None
        self._sink: ControlSink | None = None
        self._armed: str | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._backoff = 0.0
        self._watch = _PortWatch(api)
        self.reset_on_open = False  # forget the saved bindings of the next device opened
        self._on_message = guarded(self._handle, "MIDI message handling", log)

    # -- Controller --------------------------------------------------------------------------
    def available(self) -> tuple[bool, str]:
        """False with the reason when no MIDI backend works here (no ports is fine: one may be plugged in)."""
        try:
            list_midi_inputs(self.api)
            return True, ""
        except MidiUnavailable as e:
            return False, str(e)

    def start(self, sink: ControlSink) -> None:
        """Begin polling for the port (first poll at once, on the poll thread: never blocks the caller)."""
        self._sink = sink
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll_loop, name="midi-poll", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._close_port()
        self._watch.close()

    # -- learn ---------------------------------------------------------------------------------
    def arm(self, target: str) -> None:
        """MIDI learn: the next moved fader/knob/pad/button is bound to `target` (replacing its old binding)."""
        check_target(target)
        with self._lock:
            self._armed = target
        log.info("MIDI learn: move a control for %s", target)

    def cancel(self) -> None:
        with self._lock:
            self._armed = None

    @property
    def armed(self) -> str | None:
        with self._lock:
            return self._armed

    def bind(self, source: Source, target: str) -> Binding:
        """Bind without learning (from a menu or a test); saved like a learned binding."""
        b = self.mapping.bind(source, target)
        self._save()
        return b

    def reset_mapping(self) -> None:
        """Back to the defaults (positional CC/program mapping), saved."""
        self.mapping.clear()
        self.mapping.positional = True
        self._save()

    # -- messages ------------------------------------------------------------------------------
    def handle(self, msg: Any) -> list[Action]:
        """Process one mido message (the port callback; tests call it directly). Never raises."""
        return self._on_message(msg) or []

    def _handle(self, msg: Any) -> list[Action]:
        self.messages += 1
        learned = None
        with self._lock:
            target = self._armed
            if target is not None and self._is_move(msg):
                src = source_of(msg)
                assert src is not None
                learned = self.mapping.bind(src, target)
                self._armed = None
        if learned is not None:
            log.info("MIDI learn: %s -> %s", learned.source.describe(), learned.target)
            self._save()
            if self.on_learned is not None:
                guarded(self.on_learned, "MIDI learn callback", log)(learned.target, learned)
            return []
        sink = self._sink
        if sink is None:
            return []
        enabled = sink.enabled_styles() if self.mapping.positional else []
        actions = self.mapping.translate(msg, enabled)
        for a in actions:
            a.apply(sink)
        return actions

    @staticmethod
    def _is_move(msg: Any) -> bool:
        t = getattr(msg, "type", None)
        return t in ("control_change", "program_change") or (t == "note_on" and msg.velocity > 0)

    def _save(self) -> None:
        if self.store is None or self.port_name is None:
            return
        try:
            self.store.save(self.port_name, self.mapping)
        except OSError as e:
            log.error("could not save the MIDI mapping to %s: %s", self.store.path, e)

    # -- ports and hot-plug --------------------------------------------------------------------
    def _set_status(self, text: str, level: int = logging.INFO) -> None:
        if text == self.status:
            return
        self.status = text
        log.log(level, "%s", text)
        if self.on_status is not None:
            guarded(self.on_status, "MIDI status callback", log)(text)

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            wait = self.poll_s
            try:
                self.poll()
                self._backoff = 0.0
            except MidiUnavailable as e:
                # Each failed attempt makes ALSA/JACK print to stderr: back off to at most once a minute.
                self._backoff = min(60.0, max(5.0, self._backoff * 2))
                wait = self._backoff
                self._set_status(f"MIDI unavailable: {e}", logging.WARNING)
            except Exception as e:  # keep polling whatever happens
                log.error("MIDI port poll failed: %s", e, exc_info=e)
            self._stop.wait(wait)

    def poll(self) -> None:
        """One hot-plug check: release a vanished port, open the wanted one if it (re)appeared."""
        names = self._watch.names()
        with self._lock:
            if self.port_name is not None and self.port_name not in names:
                self._set_status(f"MIDI: {device_key(self.port_name)} unplugged; waiting for it to come back",
                                 logging.WARNING)
                self._close_port()
            if self._port is not None:
                return
            name = resolve_port(self.want, names)
            if name is None:
                if self.status.startswith("MIDI: ") and "unplugged" in self.status:
                    return  # keep saying which device we wait for
                if not names or all(_is_through(n) for n in names):
                    self._set_status("MIDI: no input ports; plug a controller in (picked up automatically)",
                                     logging.WARNING)
                else:
                    self._set_status(f"MIDI: no port matches {self.want!r}; ports: {', '.join(names)}",
                                     logging.WARNING)
                return
            self._open(name)

    def _open(self, name: str) -> None:
        try:
            port = _open_input(self.api, name, self._on_message)
        except (OSError, RuntimeError, ImportError) as e:
            self._set_status(f"MIDI: cannot open {name}: {e}", logging.WARNING)
            return
        self._port = port
        self.port_name = name
        if isinstance(self.want, int):
            self.want = name  # follow this device through re-plugging, wherever it lands in the list
        if self.store is not None:
            self.mapping = self.store.load(name)
        if self.reset_on_open:
            self.reset_on_open = False
            self.reset_mapping()
        n = len(self.mapping.bindings)
        self._set_status(f"MIDI: {device_key(name)}" + (f" ({n} learned binding(s))" if n else ""))

    def _close_port(self) -> None:
        with self._lock:
            port, self._port, self.port_name = self._port, None, None
        if port is not None:
            try:
                port.close()
            except Exception as e:  # a pulled device may fail to close cleanly
                log.debug("closing MIDI port: %s", e)


class _RtInput:
    """An rtmidi input read by our own thread, so rtmidi's MIDI thread never runs Python.

    Why not mido's callback port: its callback runs Python on rtmidi's thread, which then needs
    the GIL. Closing the port holds the GIL and waits for that thread; JACK gives up waiting and
    cancels the thread, which can die holding the interpreter's GIL mutex, and the whole app
    freezes (reproduced under load with the JACK test: a fader moving while the port closes).
    Here rtmidi only queues in C++; a Python thread drains the queue (~2 ms latency at worst).
    """

    POLL_S = 0.002

    def __init__(self, api: str | None, name: str, callback: Callable[[Any], None]) -> None:
        import mido
        import rtmidi
        rtapi = getattr(rtmidi, f"API_{api}") if api else rtmidi.API_UNSPECIFIED
        self._rt = rtmidi.MidiIn(rtapi, "textconductor")
        ports = self._rt.get_ports()
        if name not in ports:
            self._rt.delete()
            raise OSError(f"unknown port {name!r}")
        self._rt.open_port(ports.index(name), "textconductor in")
        self._rt.ignore_types(sysex=True, timing=True, active_sense=True)  # clock alone is 24 messages a beat
        self._parse = mido.Message.from_bytes
        self._callback = callback
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="midi-in", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            got = self._rt.get_message()
            if got is None:
                time.sleep(self.POLL_S)
                continue
            try:
                msg = self._parse(got[0])
            except ValueError:
                continue  # not a complete MIDI message
            self._callback(msg)  # guarded by the controller: never raises

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._rt.close_port()
        self._rt.delete()


def _open_input(api: str | None, name: str, callback: Callable[[Any], None]) -> Any:
    """An input port on `name` delivering mido messages to `callback`; `.close()` to release."""
    backend = _backend(api)
    if getattr(backend, "name", "").startswith("mido.backends.rtmidi"):
        return _RtInput(backend.api or None, name, callback)
    return backend.open_input(name, callback=callback)  # another mido backend: its own threading
