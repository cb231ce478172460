"""`OscSink`: a ControlSink that talks straight to the engine over OSC (docs/osc.md).

Why: a MIDI controller, the osc-bridge or the autopilot can then run headless beside an engine,
with no frontend (a gallery box, a rehearsal without a screen). The sink learns the engine's
styles by pinging it (`/tc/ping` -> `/tc/hello` answered to the sender) and keeps pinging, so an
engine that starts late or restarts is picked up without restarting the controller.

Sending never blocks and never raises: UDP to a dead engine is simply lost (and logged once).
Presets are the sink's own (in memory): `preset_save n` remembers the weights and settings this
sink knows, `preset_recall n` sends them back.
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from collections.abc import Mapping

from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage

from textconductor import protocol
from textconductor.controllers.puck import puck_weights

log = logging.getLogger(__name__)

PING_EVERY_S = 2.0


def parse_engine_address(text: str) -> tuple[str, int]:
    """'HOST:PORT', ':PORT', 'PORT' or 'HOST' -> (host, port), defaults from the protocol."""
    text = text.strip()
    host, sep, port_s = text.rpartition(":")
    if not sep:
        host, port_s = (("", text) if text.isdigit() else (text, ""))
    host = host or protocol.DEFAULT_HOST
    try:
        port = int(port_s) if port_s else protocol.DEFAULT_PORT
    except ValueError:
        raise ValueError(f"bad engine address {text!r}: expected HOST:PORT") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"bad engine address {text!r}: port must be 1..65535")
    return host, port


class OscSink:
    """ControlSink over UDP to one engine. Thread-safe; call `close()` when done."""

    def __init__(self, host: str = protocol.DEFAULT_HOST, port: int = protocol.DEFAULT_PORT,
                 styles: list[str] | None = None, ping: bool = True) -> None:
        self.address = (host, port)
        self._lock = threading.Lock()
        self._names: list[str] = list(styles or [])  # bank order, from /tc/hello
        self._enabled: list[bool] = [True] * len(self._names)
        self._weights: dict[str, float] = {}
        self._params: dict[str, float | str] = {}
        self._presets: dict[int, tuple[dict[str, float], dict[str, float | str]]] = {}
        self._paused = False
        self._hello = threading.Event()
        self._closed = threading.Event()
        self._send_failed_logged = False
        self.sent = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1" if host in ("127.0.0.1", "localhost") else "0.0.0.0", 0))
        self.sock.settimeout(0.25)
        self._thread: threading.Thread | None = None
        if ping:
            self._thread = threading.Thread(target=self._receive_loop, name="osc-sink", daemon=True)
            self._thread.start()

    # -- ControlSink -----------------------------------------------------------------------
    def set_weights(self, weights: Mapping[str, float]) -> None:
        """One `/tc/weight name w` per style, in one bundle (one datagram: applied together)."""
        msgs = []
        with self._lock:
            for name, w in weights.items():
                w = _clamp(w, 0.0, 1.0)
                self._weights[name] = w
                msgs.append(protocol.message("/tc/weight", str(name), w))
        if msgs:
            self._send(msgs[0] if len(msgs) == 1 else protocol.bundle(*msgs))

    def set_puck(self, x: float, y: float) -> None:
        """Weights for the puck at (x, y) over the enabled styles; one `/tc/weights` when the bank is known."""
        with self._lock:
            names, enabled = list(self._names), list(self._enabled)
        on = [n for n, e in zip(names, enabled, strict=True) if e]
        weights = puck_weights(_clamp(x, -1, 1), _clamp(y, -1, 1), on)
        if not weights:
            return
        with self._lock:
            self._weights.update(weights)
        self._send(protocol.message("/tc/weights", *(float(weights.get(n, 0.0)) for n in names)))

    def control(self, name: str, value: float | str | None = None) -> None:
        if name == "temperature":
            v = _clamp(float(value), *protocol.TEMPERATURE_RANGE)
            self._params["temperature"] = v
            self._send(protocol.message("/tc/temperature", v))
        elif name == "rate":
            v = _clamp(float(value), *protocol.RATE_RANGE)
            self._params["rate"] = v
            self._send(protocol.message("/tc/rate", v))
        elif name == "mix":
            mode = value if value in protocol.MIX_MODES else protocol.MIX_MODES[int(bool(value))]
            self._params["mix"] = mode
            self._send(protocol.message("/tc/mix", mode))
        elif name in ("pause", "resume", "toggle_pause"):
            with self._lock:
                pause = (not self._paused) if name == "toggle_pause" else name == "pause"
                self._paused = pause
            self._send(protocol.message("/tc/pause" if pause else "/tc/resume"))
        elif name == "reset":
            self._send(protocol.message("/tc/reset"))
        elif name == "preset_save":
            with self._lock:
                self._presets[_preset(value)] = (dict(self._weights), dict(self._params))
            log.info("preset %d saved", _preset(value))
        elif name == "preset_recall":
            preset = self._presets.get(_preset(value))
            if preset is None:
                log.info("preset %d is empty", _preset(value))
                return
            weights, params = preset
            if weights:
                self.set_weights(weights)
            for key, v in params.items():
                self.control(key, v)
        else:
            raise ValueError(f"unknown control {name!r}")

    def enabled_styles(self) -> list[str]:
        with self._lock:
            return [n for n, e in zip(self._names, self._enabled, strict=True) if e]

    # -- engine link -------------------------------------------------------------------------
    def wait_for_engine(self, timeout: float) -> bool:
        """True once the engine has answered a ping with `/tc/hello` (style names known)."""
        return self._hello.wait(timeout)

    @property
    def styles(self) -> list[str]:
        """Every style the engine has loaded, bank order."""
        with self._lock:
            return list(self._names)

    def close(self) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.sock.close()

    def _send(self, data: bytes) -> None:
        try:
            self.sock.sendto(data, self.address)
            self.sent += 1
        except OSError as e:
            if not self._send_failed_logged:
                self._send_failed_logged = True
                log.warning("cannot send to the engine at %s:%d (%s); still trying", *self.address, e)

    def _receive_loop(self) -> None:
        next_ping = 0.0
        while not self._closed.is_set():
            now = time.monotonic()
            if now >= next_ping:
                self._send(protocol.message("/tc/ping"))
                next_ping = now + PING_EVERY_S
            try:
                data, _ = self.sock.recvfrom(protocol.MAX_PACKET)
            except (TimeoutError, ConnectionRefusedError):
                continue  # Linux reports an earlier datagram to a closed port here: engine not up yet
            except OSError:
                if self._closed.is_set():
                    return
                continue
            try:
                self._on_packet(data)
            except Exception as e:  # a malformed answer must not end the link
                log.debug("ignored a bad packet from the engine: %s", e)

    def _on_packet(self, data: bytes) -> None:
        """The engine answers a ping with a bundle (hello, params, status); take what we use."""
        if OscBundle.dgram_is_bundle(data):
            for item in OscBundle(data):
                if isinstance(item, OscMessage):
                    self._on_message(item)
        elif OscMessage.dgram_is_message(data):
            self._on_message(OscMessage(data))

    def _on_message(self, msg: OscMessage) -> None:
        if msg.address == protocol.OUT_HELLO:
            hello = protocol.Hello.decode(tuple(msg.params))
            names = list(hello.names)
            enabled = [bool(v) for v in hello.enabled]
            weights = [float(v) for v in hello.weights]
            if len(enabled) != len(names):
                enabled = [True] * len(names)
            with self._lock:
                first = not self._hello.is_set() or names != self._names
                self._names, self._enabled = names, enabled
                if len(weights) == len(names):
                    self._weights.update(zip(names, weights, strict=True))
            if first:
                log.info("engine at %s:%d has %d style(s): %s", *self.address, len(names), ", ".join(names))
            self._hello.set()
        elif msg.address == protocol.OUT_STATUS:
            with self._lock:
                self._paused = bool(protocol.Status.decode(tuple(msg.params)).paused)
        elif msg.address == protocol.OUT_PARAMS:
            params = protocol.Params.decode(tuple(msg.params))
            with self._lock:
                self._params.update(temperature=params.temperature, rate=params.rate, mix=params.mix)


def _clamp(v: float, lo: float, hi: float) -> float:
    v = float(v)
    if not math.isfinite(v):
        raise ValueError("value is NaN or infinite")
    return min(max(v, lo), hi)


def _preset(value: float | str | None) -> int:
    n = int(value)  # type: ignore[arg-type]
    if not 1 <= n <= 9:
        raise ValueError(f"preset must be 1..9, got {value!r}")
    return n
