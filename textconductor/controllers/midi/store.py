"""The MIDI mapping file: TOML, one table per controller, read with tomllib and written with tomli-w.

Why a file per user and a table per controller: learned bindings belong to a physical device, not
to a session, so they are saved the moment they are learned and found again when that device is
plugged in (tables are named by `device_key`, the port name without ALSA's client:port numbers,
so re-plugging keeps the mapping). The file is meant to be hand-edited too: bad entries are
skipped with a warning, and a file that is not TOML at all is set aside as `.bak`, never fatal.
Fields added later (`takeover`, `feedback`) are optional, so files written before them still load.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w

from textconductor.controllers.midi.mapping import (
    SOURCE_KINDS,
    Binding,
    MappingError,
    MidiMap,
    Source,
    check_takeover,
    check_target,
)
from textconductor.controllers.midi.ports import device_key
from textconductor.controllers.midi.takeover import DEFAULT_TAKEOVER

log = logging.getLogger(__name__)

# A binding that cannot be read back from the file; each is skipped, not fatal.
_BAD_BINDING = (MappingError, KeyError, TypeError, ValueError)


def default_mapping_path() -> Path:
    import platformdirs
    return Path(platformdirs.user_config_dir("textconductor")) / "midi.toml"


class MappingStore:
    """The MIDI mapping file. A damaged file is reported and set aside (`.bak`), never fatal."""

    HEADER = ("# textconductor MIDI mappings: one table per controller, written by MIDI learn; safe to edit.\n"
              "# Targets: style:NAME, temperature, rate, mix, pause, reset, keep, reject, preset:1..9,\n"
              "#   preset_save:1..9.\n"
              "# Sources: kind = cc | note | program; channel 1..16 (leave out = any channel); number 0..127.\n"
              "# positional = true: unbound CC k drives the k-th enabled style, program p recalls preset p+1.\n"
              "# takeover = \"pickup\": a fader acts once it reaches the current value (\"jump\": at once);\n"
              "#   per device, and per binding to override it. feedback = true: send values back to the\n"
              "#   output port of the same name (motorised faders, LED rings); or the name of another port.\n")

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
                bindings.append(binding_from_toml(raw))
            except _BAD_BINDING as e:
                log.warning("%s: skipped a bad binding for %s: %r (%s)", self.path, device, raw, e)
        fields = _device_fields(entry, lambda what: log.warning("%s: %s for %s; using the default",
                                                                 self.path, what, device))
        return MidiMap(bindings, **fields)

    def save(self, device: str, mapping: MidiMap) -> None:
        """Write `mapping` for `device`, keeping every other device's table; atomic (temp file + rename)."""
        with self._lock:
            devices = self._read()
            devices[device_key(device)] = {
                "positional": mapping.positional,
                "takeover": mapping.takeover,
                "feedback": mapping.feedback,
                "bindings": [binding_to_toml(b) for b in sorted(mapping.bindings, key=_sort_key)],
            }
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".toml.tmp")
            tmp.write_text(self._render(devices), encoding="utf-8")
            os.replace(tmp, self.path)

    def _render(self, devices: dict[str, Any]) -> str:
        """The file's text: the header, then every device's table, re-validated (what another
        device's table held that can no longer be read is dropped rather than written back)."""
        clean: dict[str, Any] = {}
        for name in sorted(devices):
            entry = devices[name]
            if not isinstance(entry, dict):
                continue
            bindings = []
            for raw in entry.get("bindings", []):
                try:
                    bindings.append(binding_to_toml(binding_from_toml(raw)))
                except _BAD_BINDING:
                    continue
            clean[name] = {**_device_fields(entry), "bindings": bindings}
        return self.HEADER + "\n" + tomli_w.dumps({"devices": clean}, indent=2)


def _device_fields(entry: dict[str, Any], warn: Callable[[str], None] = lambda what: None) -> dict[str, Any]:
    """A device table's settings besides its bindings, each checked; a bad one is `warn`ed about and
    replaced by its default (the bindings, which took the performer time to learn, still load)."""
    takeover = entry.get("takeover", DEFAULT_TAKEOVER)
    try:
        check_takeover(takeover)
    except MappingError as e:
        warn(str(e))
        takeover = DEFAULT_TAKEOVER
    feedback = entry.get("feedback", False)
    if not isinstance(feedback, (bool, str)) or feedback == "":
        warn(f"feedback must be true, false or a port name, not {feedback!r}")
        feedback = False
    return {"positional": bool(entry.get("positional", True)), "takeover": takeover, "feedback": feedback}


def _sort_key(b: Binding) -> tuple:
    return (b.source.kind, b.source.number, -1 if b.source.channel is None else b.source.channel)


def binding_to_toml(b: Binding) -> dict[str, Any]:
    """A binding as its TOML table; channels are 1-based in the file, as on the devices' own panels."""
    d: dict[str, Any] = {"kind": b.source.kind}
    if b.source.channel is not None:
        d["channel"] = b.source.channel + 1
    d["number"] = b.source.number
    d["target"] = b.target
    if b.lo is not None:
        d["lo"] = float(b.lo)
    if b.hi is not None:
        d["hi"] = float(b.hi)
    if b.takeover is not None:
        d["takeover"] = b.takeover
    return d


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def binding_from_toml(raw: Any) -> Binding:
    """A binding from its TOML table; KeyError/TypeError/ValueError/MappingError say what is wrong."""
    if not isinstance(raw, dict):
        raise TypeError("a binding is a table")
    kind = raw["kind"]
    if kind not in SOURCE_KINDS:
        raise ValueError(f"kind must be cc, note or program, not {kind!r}")
    number = raw["number"]
    if not _is_int(number) or not 0 <= number <= 127:
        raise ValueError("number must be 0..127")
    channel = raw.get("channel")
    if channel is not None and (not _is_int(channel) or not 1 <= channel <= 16):
        raise ValueError("channel must be 1..16")
    lo, hi = raw.get("lo"), raw.get("hi")
    for v in (lo, hi):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)):
            raise ValueError("lo/hi must be numbers")
    target = check_target(str(raw["target"]))
    takeover = raw.get("takeover")
    if takeover is not None:
        check_takeover(takeover)
    return Binding(Source(kind, None if channel is None else channel - 1, number), target,
                   None if lo is None else float(lo), None if hi is None else float(hi), takeover)
