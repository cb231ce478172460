"""The performer's state, without Qt: weights, enabled styles, settings, presets and morphs, and the
interaction guard that decides when the engine's view of the mix may overwrite ours.

Why a plain-Python model: the rules here (what a control sends, when a hello is adopted or answered
with our state, how a preset morphs) are the instrument's behaviour, and tests should drive them
with a fake clock and a list of sent commands, not through a window and qtbot. The window owns one
`Performer`, forwards its `events.send` to the engine link and redraws its panels on the other events.

State flows one way: a change (a panel, a controller, a preset) updates the state here, the implied
engine commands go out through `events.send`, then observers redraw. A redraw never feeds back as a
change. Every method must be called on one thread (the window's GUI thread).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from textconductor import protocol
from textconductor.frontend.events import Event
from textconductor.frontend.presets import PresetStore, morph
from textconductor.protocol.controls import crowd_control

log = logging.getLogger(__name__)

INTERACTION_GUARD_S = 2.0  # after a local change, ignore the engine's echo of older weights this long
DEFAULT_MORPH_S = 1.5


class PerformerEvents:
    """What observers of a `Performer` can hear. Each is an `Event`; arguments as listed."""

    def __init__(self) -> None:
        self.send = Event("send")  # (address, *args): a command for the engine
        self.weights_sent = Event("weights_sent")  # (list[float]): the raw weights just sent, bank order
        self.bank_changed = Event("bank_changed")  # (): a new bank: names, weights and enabled all replaced
        self.enabled_changed = Event("enabled_changed")  # (): the enabled set changed (sliders, puck, chips)
        self.weights_changed = Event("weights_changed")  # (move_puck: bool): weights changed, same styles
        self.params_changed = Event("params_changed")  # (protocol.Params)
        self.paused_changed = Event("paused_changed")  # (bool)
        self.cleared = Event("cleared")  # (): reset: the text starts again
        self.message = Event("message")  # (str): a line for the performer (status line)
        self.morphing_changed = Event("morphing_changed")  # (bool): a preset morph started / ended
        self.loop_guard_changed = Event("loop_guard_changed")  # (protocol.Guards): setting or counters
        self.guarded = Event("guarded")  # (protocol.Guarded): a guard acted before that tick's character


class Performer:
    """The instrument's state and the commands each change implies; see the module docstring.

    `clock` is injectable so tests can step the interaction guard and preset morphs by hand.
    """

    def __init__(self, presets: PresetStore | None = None, morph_seconds: float = DEFAULT_MORPH_S,
                 guard_s: float = INTERACTION_GUARD_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.presets = presets or PresetStore()
        self.morph_seconds = float(morph_seconds)
        self.guard_s = float(guard_s)
        self.clock = clock
        self.events = PerformerEvents()
        self.names: list[str] = []
        self.weights: dict[str, float] = {}
        self.enabled: dict[str, bool] = {}
        self.params = protocol.Params()
        self.paused = False
        self.synced = False  # have we ever taken the engine's state?
        self.resync = False  # push our state at the next hello (the engine came back)
        self.last_local = -math.inf  # when the performer last changed something here
        self._morph: tuple[float, dict[str, float], dict[str, float]] | None = None
        # The engine's loop guard and blocklist (/tc/guards) as last reported, with our own setting on
        # top; `guard_acts` counts the /tc/guarded this window saw, by kind (the cuts have no engine total).
        self.loop_guard = protocol.Guards()
        self.crowd_mode: tuple[str, float] = ("off", 0.5)  # the audience's say, as the engine last said (crowd.py)
        self.guard_acts: dict[str, int] = {}
        self._guard_set = False  # the performer set the guard here: push it to an engine that comes back

    # -- reading -------------------------------------------------------------------------------
    def enabled_styles(self) -> list[str]:
        """Enabled style names in bank order (the sliders' and the puck's order)."""
        return [n for n in self.names if self.enabled.get(n)]

    def enabled_weights(self) -> np.ndarray:
        """Raw weights of the enabled styles, in `enabled_styles()` order (what the puck shows)."""
        return np.array([self.weights[n] for n in self.enabled_styles()])

    @property
    def morphing(self) -> bool:
        return self._morph is not None

    def guard_active(self) -> bool:
        """True while a local change is recent enough that the engine's older view must not win."""
        return self.clock() - self.last_local <= self.guard_s

    # -- changes from the performer ------------------------------------------------------------
    def _send(self, address: str, *args: Any) -> None:
        self.events.send.emit(address, *args)

    def _touched(self) -> None:
        self.last_local = self.clock()

    def set_weights(self, changes: Mapping[str, float], move_puck: bool = True, cancel_morph: bool = True) -> None:
        """Set these styles' raw weights (clamped to 0..1); unknown names are ignored.

        `move_puck` False when the puck itself is the source (it already sits where the performer put
        it; the centroid of the weights would move it). A manual change cancels a running morph.
        """
        if cancel_morph:
            self.stop_morph()
        for n, v in changes.items():
            if n in self.weights:
                self.weights[n] = float(min(max(v, 0.0), 1.0))
        self._touched()
        self.send_weights()
        self.events.weights_changed.emit(move_puck)

    def send_weights(self) -> None:
        if not self.names:
            return
        vec = [float(self.weights[n]) for n in self.names]
        self._send("/tc/weights", *vec)
        self.events.weights_sent.emit(vec)

    def set_enabled(self, name: str, on: bool) -> None:
        """Add a style to (or take it off) the sliders and the puck; the engine keeps it loaded."""
        if name not in self.enabled:
            return
        self.enabled[name] = bool(on)
        self._send("/tc/enable", name, int(bool(on)))
        self._touched()
        self.events.enabled_changed.emit()

    def control(self, name: str, value: float | str | None = None) -> None:
        """One of controllers.base.CONTROLS (the ControlSink vocabulary); ValueError for anything else."""
        if name == "temperature":
            self.params.temperature = float(np.clip(float(value), *protocol.TEMPERATURE_RANGE))
            self._send("/tc/temperature", self.params.temperature)
        elif name == "rate":
            self.params.rate = float(np.clip(float(value), *protocol.RATE_RANGE))
            self._send("/tc/rate", self.params.rate)
        elif name == "mix":
            if value not in protocol.MIX_MODES:
                raise ValueError(f"mix must be one of {protocol.MIX_MODES}")
            self.params.mix = str(value)
            self._send("/tc/mix", self.params.mix)
        elif name in ("pause", "resume", "toggle_pause"):
            pause = (not self.paused) if name == "toggle_pause" else name == "pause"
            self.paused = pause
            self._send("/tc/pause" if pause else "/tc/resume")
            self.events.paused_changed.emit(pause)
        elif name == "reset":
            self._send("/tc/reset")
            self.events.cleared.emit()
        elif name in ("keep", "reject"):  # the passage since the last mark (a selection goes through curation)
            self._send(f"/tc/{name}")
        elif name in ("crowd", "crowd_blend"):  # the audience's say (frontend/crowd.py shows the engine's word)
            self.crowd_mode = crowd_control(*self.crowd_mode, name, value)
            self._send("/tc/crowd_mode", self.crowd_mode[0], float(self.crowd_mode[1]))
        elif name == "preset_save":
            self.save_preset(int(value))
        elif name == "preset_recall":
            self.recall_preset(int(value))
        elif name in ("guard", "guard_strength"):
            self._set_loop_guard(name, value)
        else:
            raise ValueError(f"unknown control {name!r}")
        if name in ("temperature", "rate", "mix"):
            self.events.params_changed.emit(self.params)
            self._touched()

    def _set_loop_guard(self, name: str, value: float | str | None) -> None:
        """`guard`: 1 on, 0 off, None toggles; `guard_strength`: 0..1 (clamped; keeps on/off as it is)."""
        g = self.loop_guard = dataclasses.replace(self.loop_guard)  # a copy: the link's message stays as it came
        if name == "guard":
            g.on = (not g.on) if value is None else bool(float(value))
            self._send("/tc/guard", int(g.on))
        else:
            v = float(value)  # type: ignore[arg-type]
            if not math.isfinite(v):
                raise ValueError("guard strength must be a number")
            g.strength = float(np.clip(v, *protocol.GUARD_STRENGTH_RANGE))
            self._send("/tc/guard", int(g.on), g.strength)
        self._guard_set = True
        self._touched()
        self.events.loop_guard_changed.emit(g)

    def prime(self, text: str) -> None:
        """Type `text` into the stream (cut to what the protocol carries)."""
        text = text[: protocol.MAX_PRIME_CHARS]
        if text:
            self._send("/tc/prime", text)
            self.events.message.emit(f"primed: {text[:40]}")

    # -- presets and morphs --------------------------------------------------------------------
    def save_preset(self, slot: int) -> None:
        self.presets.save(slot, {n: self.weights[n] for n in self.enabled_styles()})
        self.events.message.emit(f"preset {slot} saved")
        log.info("preset %d saved", slot)

    def recall_preset(self, slot: int) -> None:
        """Morph from the current mix to preset `slot` over `morph_seconds`, enabling styles it needs."""
        target = self.presets.get(slot)
        if target is None:
            self.events.message.emit(f"preset {slot} is empty (Ctrl+{slot} saves)")
            return
        known = {n: v for n, v in target.items() if n in self.weights}
        if not known:
            self.events.message.emit(f"preset {slot}: none of its styles are loaded")
            return
        for n, v in known.items():  # a preset needs its styles present
            if v > 0 and not self.enabled.get(n):
                self.enabled[n] = True
                self._send("/tc/enable", n, 1)
                self.events.enabled_changed.emit()
        start = {n: (self.weights[n] if self.enabled[n] else 0.0) for n in self.names}
        end = {n: known.get(n, 0.0) for n in self.names}
        self._morph = (self.clock(), start, end)
        self.events.message.emit(f"preset {slot}: morphing over {self.morph_seconds:g} s")
        self.events.morphing_changed.emit(True)
        self.morph_step()

    def morph_step(self) -> None:
        """Advance a running morph to now (a pure function of time: a late timer only skips frames)."""
        if self._morph is None:
            return
        t0, start, end = self._morph
        t = 1.0 if self.morph_seconds <= 0 else (self.clock() - t0) / self.morph_seconds
        self.set_weights(morph(start, end, t), move_puck=True, cancel_morph=False)
        if t >= 1.0:
            self.stop_morph()

    def stop_morph(self) -> None:
        if self._morph is None:
            return
        self._morph = None
        self.events.morphing_changed.emit(False)

    # -- the engine's view ---------------------------------------------------------------------
    def on_hello(self, h: protocol.Hello) -> bool:
        """Reconcile with the engine's hello; True the first time (the caller shows history, autostarts).

        Another bank is adopted as it is. The same bank after the engine came back gets our state
        pushed. Otherwise the engine's weights win only once the performer has been idle for the
        guard time and no morph runs: someone else (another frontend, TouchOSC) may have moved things,
        but an echo of weights older than our last change must not snap the sliders back.
        """
        if h.names != self.names:
            self._adopt_bank(h)
        elif self.resync:
            self.push_state()
        elif not self.guard_active() and not self.morphing:
            self._adopt_state(h)
        self.resync = False
        if self.synced:
            return False
        self.synced = True
        return True

    def _adopt_bank(self, h: protocol.Hello) -> None:
        self.names = list(h.names)
        self.weights = {n: float(w) for n, w in zip(self.names, h.weights, strict=False)}
        self.enabled = {n: bool(e) for n, e in zip(self.names, h.enabled, strict=False)}
        for n in self.names:
            self.weights.setdefault(n, 0.0)
            self.enabled.setdefault(n, True)
        self.events.bank_changed.emit()
        self.events.enabled_changed.emit()
        log.info("engine bank: %s", ", ".join(self.names))

    def _adopt_state(self, h: protocol.Hello) -> None:
        weights = {n: float(w) for n, w in zip(self.names, h.weights, strict=False)}
        enabled = {n: bool(e) for n, e in zip(self.names, h.enabled, strict=False)}
        if enabled != self.enabled:
            self.enabled.update(enabled)
            self.weights.update(weights)
            self.events.enabled_changed.emit()
        elif any(abs(weights[n] - self.weights[n]) > 1e-4 for n in weights):
            self.weights.update(weights)
            self.events.weights_changed.emit(True)

    def push_state(self) -> None:
        """The engine came back (perhaps restarted): give it the performer's mix and settings."""
        log.info("re-sending weights and settings to the engine")
        for n in self.names:
            self._send("/tc/enable", n, int(self.enabled[n]))
        self.send_weights()
        self._send("/tc/temperature", self.params.temperature)
        self._send("/tc/rate", self.params.rate)
        self._send("/tc/mix", self.params.mix)
        if self._guard_set:  # only what the performer chose: else the engine's own setting stands
            self._send("/tc/guard", int(self.loop_guard.on), self.loop_guard.strength)
        self._touched()

    def autostart(self) -> None:
        """Gallery mode: never sit silent. Give every enabled style equal weight if none has any, and resume."""
        on = self.enabled_styles()
        if on and not any(self.weights[n] > 0 for n in on):
            self.set_weights({n: 1.0 / len(on) for n in on}, move_puck=True)
        self.control("resume")

    def on_online(self, online: bool) -> bool:
        """The link went on/offline; True when the caller should ask for a hello now (we had synced before)."""
        if online and self.synced:
            self.resync = True
            return True
        return False

    def on_params(self, p: protocol.Params) -> None:
        if not self.guard_active():
            self.params = p
            self.events.params_changed.emit(p)

    def on_status(self, s: protocol.Status) -> None:
        if s.paused != self.paused:
            self.paused = s.paused
            self.events.paused_changed.emit(s.paused)

    def on_guards(self, g: protocol.Guards) -> None:
        """The engine's guards: the counters always; the setting only outside the interaction guard
        (an echo older than the performer's last click must not flip the switch back)."""
        if self.guard_active():
            g = dataclasses.replace(g, on=self.loop_guard.on, strength=self.loop_guard.strength)
        self.loop_guard = g
        self.events.loop_guard_changed.emit(g)

    def on_guarded(self, g: protocol.Guarded) -> None:
        self.guard_acts[g.kind] = self.guard_acts.get(g.kind, 0) + 1
        self.events.guarded.emit(g)
