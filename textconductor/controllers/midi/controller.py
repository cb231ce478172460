"""`MidiController`: the port shell around `MidiMap` (hot-plug, MIDI learn, saving).

It polls port names about once a second, so a controller plugged in or pulled out while running
is picked up or released without a restart; a missing MIDI backend or no ports is said once, in
words, and the app keeps running (retrying with a back-off). MIDI learn: `arm(target)`, the next
moved fader/knob/pad is bound to the target, saved, and `on_learned(target, binding)` is called;
`cancel()` disarms.

Soft takeover and feedback need the engine's current values: `values`, a function returning them
by target name (`mapping.engine_targets`). When the sink is (or wraps, e.g. in an `ActivitySink`)
the protocol's engine client (`OscSink`, `EngineConnection`), it is found by itself: the client
knows at once what this process sent (presets, the autopilot on the same sink) and hears the
engine's hello (every 2 s by ping) for what others did. Without values the faders act at once,
as before soft takeover. With them a small thread compares them `feedback_hz` times a second and
sends someone else's changes to the output port (`feedback`: True for the device's own output,
a port name, or None to follow the mapping file's `feedback`).

Threads: messages arrive on the port's input thread and go straight to the sink (so a move
reaches the engine at the next character); the sink must be callable from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from textconductor.controllers.base import Controller, ControlSink, guarded
from textconductor.controllers.midi.feedback import FeedbackSender
from textconductor.controllers.midi.mapping import (
    Action,
    Binding,
    MidiMap,
    Source,
    check_target,
    engine_targets,
    source_of,
)
from textconductor.controllers.midi.ports import (
    MidiUnavailable,
    PortWatch,
    device_key,
    is_through,
    list_midi_outputs,
    midi_available,
    open_input,
    open_output,
    resolve_output,
    resolve_port,
)
from textconductor.controllers.midi.store import MappingStore
from textconductor.protocol.client import EngineClient

log = logging.getLogger(__name__)

FEEDBACK_RETRY_S = 5.0

# The engine's current values by target name ('style:NAME', 'temperature', 'rate').
ValueSource = Callable[[], Mapping[str, float]]


def engine_values(sink: object) -> ValueSource | None:
    """The values of the engine client behind `sink` (itself, or wrapped in `.sink` by an ActivitySink
    and the like), or None when there is none (a window sink passes its own `values`)."""
    for _ in range(8):  # wrappers of wrappers, never a cycle
        client = getattr(sink, "client", None)
        if isinstance(client, EngineClient):
            return lambda: engine_targets(client.weights, _with_guard(client))
        sink = getattr(sink, "sink", None)
        if sink is None:
            return None
    return None


def _with_guard(client: EngineClient) -> dict[str, float | str]:
    """The client's params plus the loop guard's strength as the engine last reported it (if it did)."""
    params = client.params
    guards = client.last_guards
    if guards is not None:
        params["guard_strength"] = float(guards.strength)
    return params


class MidiController(Controller):
    """One MIDI input port, followed through hot-plug, mapped by `MidiMap`, learned and saved.

    `port` is a name (or part of one) or an index into the port list; None takes the first real
    port. `api` picks the rtmidi API ('UNIX_JACK', 'LINUX_ALSA'). `on_status(text)` hears every
    change of state in words ("MIDI: nanoKONTROL2", "MIDI: no input ports", "MIDI unavailable: ...").
    """

    name = "MIDI"

    def __init__(self, port: str | int | None = None, api: str | None = None, store: MappingStore | None = None,
                 poll_s: float = 1.0, on_learned: Callable[[str, Binding], None] | None = None,
                 on_status: Callable[[str], None] | None = None, values: ValueSource | None = None,
                 feedback: bool | str | None = None, feedback_hz: float = 25.0) -> None:
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
        self.values = values
        self.feedback = feedback
        self.feedback_hz = feedback_hz
        self.held = 0  # fader moves kept back by soft takeover
        self.feedback_port: str | None = None
        self._feedback_retry_at = 0.0
        self._out: FeedbackSender | None = None
        self._feedback_thread: threading.Thread | None = None
        self._on_message = guarded(self._handle, "MIDI message handling", log)
        self._refresh_guarded = guarded(self._refresh, "MIDI reading the engine's values", log)

    # -- Controller --------------------------------------------------------------------------
    def available(self) -> tuple[bool, str]:
        """False with the reason when no MIDI backend works here (no ports is fine: one may be plugged in)."""
        return midi_available(self.api)

    def start(self, sink: ControlSink) -> None:
        """Begin polling for the port (first poll at once, on the poll thread: never blocks the caller)."""
        self._sink = sink
        if self.values is None:
            self.values = engine_values(sink)
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll_loop, name="midi-poll", daemon=True)
        self._thread.start()
        if self.values is not None:
            self._feedback_thread = threading.Thread(target=self._feedback_loop, name="midi-feedback", daemon=True)
            self._feedback_thread.start()
        else:
            log.info("MIDI: the engine's values are not known here: faders act at once (no soft takeover)")

    def stop(self) -> None:
        self._stop.set()
        for thread in (self._thread, self._feedback_thread):
            if thread is not None:
                thread.join(timeout=5)
        self._thread = self._feedback_thread = None
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

    def bind(self, source: Source, target: str, takeover: str | None = None) -> Binding:
        """Bind without learning (from a menu or a test); saved like a learned binding."""
        b = self.mapping.bind(source, target, takeover=takeover)
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
        out = self._out
        if out is not None and getattr(msg, "type", None) == "control_change":
            out.seen(msg.channel, msg.control, msg.value)  # the device shows this now
        enabled = sink.enabled_styles() if self.mapping.positional else []
        if self.values is not None:
            self._refresh_guarded(enabled)  # takeover decides on the freshest values, not 40 ms old ones
        actions = self.mapping.translate(msg, enabled)
        for a in actions:
            a.apply(sink)
        if actions and all(a.kind == "held" for a in actions):
            self.held += 1
            log.debug("MIDI: %s held by soft takeover (move %s to take over)", actions[0].name, actions[0].value)
            on_input = getattr(sink, "on_input", None)  # an ActivitySink: reaching for a value is input too
            if callable(on_input):
                on_input()
        return actions

    # -- the engine's values: soft takeover and feedback ---------------------------------------
    def _refresh(self, enabled: list[str] | None = None) -> None:
        """Tell the mapping the current values; queue what someone else changed as feedback."""
        values = self.values
        if values is None:
            return
        if enabled is None:
            enabled = self._enabled()
        changed = self.mapping.observe(values(), enabled)
        out = self._out
        if changed and out is not None:
            out.offer(changed)

    def _feedback_loop(self) -> None:
        """Follow the values while started: pickup is lost and feedback sent even when no fader moves."""
        period = 1.0 / max(self.feedback_hz, 0.1)
        while not self._stop.wait(period):
            self._refresh_guarded()
            out = self._out
            if out is not None:
                out.flush()

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
                self._retry_feedback()
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
        self._feedback_retry_at = time.monotonic() + FEEDBACK_RETRY_S
        self._show_open(name, self._open_feedback(name))

    def _show_open(self, name: str, feedback_note: str) -> None:
        n = len(self.mapping.bindings)
        notes = [f"{n} learned binding(s)"] if n else []
        if feedback_note:
            notes.append(feedback_note)
        self._set_status(f"MIDI: {device_key(name)}" + (f" ({'; '.join(notes)})" if notes else ""))

    def _feedback_wanted(self) -> bool | str:
        return self.feedback if self.feedback is not None else self.mapping.feedback

    def _retry_feedback(self) -> None:
        """A device's output port may appear after its input (a JACK client registers them one by one):
        look again now and then, quietly (listing ports opens a client: ~170 ms on JACK)."""
        if self._out is not None or not self._feedback_wanted() or self.port_name is None:
            return
        now = time.monotonic()
        if now < self._feedback_retry_at:
            return
        self._feedback_retry_at = now + FEEDBACK_RETRY_S
        note = self._open_feedback(self.port_name, quiet=True)
        if self._out is not None:
            self._show_open(self.port_name, note)

    def _open_feedback(self, input_name: str, quiet: bool = False) -> str:
        """Open the feedback port for the device on `input_name` if asked for; a note for the status line."""
        want = self._feedback_wanted()
        if not want:
            return ""
        level = logging.DEBUG if quiet else logging.WARNING
        try:
            name = resolve_output(want, input_name, list_midi_outputs(self.api))
            if name is None:
                log.log(level, "MIDI feedback: no output port %s yet; looking again every %.0f s",
                        repr(want) if isinstance(want, str) else f"named like {device_key(input_name)!r}",
                        FEEDBACK_RETRY_S)
                return "no feedback port"
            out = FeedbackSender(open_output(self.api, name))
        except (MidiUnavailable, OSError, RuntimeError, ImportError) as e:
            log.log(level, "MIDI feedback: cannot open an output port: %s", e)
            return "no feedback port"
        self._out, self.feedback_port = out, name
        if self.values is None:
            log.warning("MIDI feedback to %s: the engine's values are not known here, so nothing to send", name)
        else:
            self._refresh_guarded()
            out.offer(self.mapping.feedback_all(self._enabled()))  # what a device just plugged in should show
            out.flush()
        return f"feedback to {device_key(name)}"

    def _enabled(self) -> list[str]:
        sink = self._sink
        return sink.enabled_styles() if sink is not None and self.mapping.positional else []

    def _close_port(self) -> None:
        with self._lock:
            port, self._port, self.port_name = self._port, None, None
            out, self._out, self.feedback_port = self._out, None, None
        if out is not None:
            out.close()
        if port is not None:
            try:
                port.close()
            except Exception as e:  # noqa: BLE001 - a pulled device may fail to close in any way
                log.debug("closing MIDI port: %s", e)
