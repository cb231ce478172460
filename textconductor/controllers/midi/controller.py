"""`MidiController`: the port shell around `MidiMap` (hot-plug, MIDI learn, saving).

It polls port names about once a second, so a controller plugged in or pulled out while running
is picked up or released without a restart; a missing MIDI backend or no ports is said once, in
words, and the app keeps running (retrying with a back-off). MIDI learn: `arm(target)`, the next
moved fader/knob/pad is bound to the target, saved, and `on_learned(target, binding)` is called;
`cancel()` disarms.

Threads: messages arrive on the port's input thread and go straight to the sink (so a move
reaches the engine at the next character); the sink must be callable from any thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from textconductor.controllers.base import Controller, ControlSink, guarded
from textconductor.controllers.midi.mapping import Action, Binding, MidiMap, Source, check_target, source_of
from textconductor.controllers.midi.ports import (
    MidiUnavailable,
    PortWatch,
    device_key,
    is_through,
    list_midi_inputs,
    open_input,
    resolve_port,
)
from textconductor.controllers.midi.store import MappingStore

log = logging.getLogger(__name__)


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
        self._watch = PortWatch(api)
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
                if not names or all(is_through(n) for n in names):
                    self._set_status("MIDI: no input ports; plug a controller in (picked up automatically)",
                                     logging.WARNING)
                else:
                    self._set_status(f"MIDI: no port matches {self.want!r}; ports: {', '.join(names)}",
                                     logging.WARNING)
                return
            self._open(name)

    def _open(self, name: str) -> None:
        try:
            port = open_input(self.api, name, self._on_message)
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
            except Exception as e:  # noqa: BLE001 - a pulled device may fail to close in any way
                log.debug("closing MIDI port: %s", e)
