"""The engine client: what an engine has told us, and the datagrams that play it. No Qt.

Two layers, so every process shares the same rules whatever its event loop:

* `EngineClient` does no I/O. `receive(datagram)` decodes what the engine publishes and learns
  its bank (from `/tc/hello`), settings (`/tc/params`) and pause state (`/tc/status`);
  `set_weights`, `set_puck`, `control`, ... turn the control vocabulary (`controls.CONTROLS`)
  into the datagrams to send, with values clamped to what the engine accepts. The window's Qt
  link drives it from a QUdpSocket.
* `EngineConnection` is that client on a plain UDP socket with a receive thread that keeps
  pinging (or subscribing), so an engine that starts late or restarts is picked up by itself.
  It is a `ControlSink`: `OscSink`, the examples and the test fakes are built on it, and a new
  controller is one file against it (examples/xy_pad.py).

Sending never blocks and never raises: UDP to a dead engine is simply lost (and logged once).
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from textconductor.protocol.address import DEFAULT_HOST, DEFAULT_PORT
from textconductor.protocol.charset import VOCAB_SIZE
from textconductor.protocol.commands import (
    ADDRESS,
    GUARD_STRENGTH_RANGE,
    MAX_PRIME_CHARS,
    MIX_MODES,
    RATE_RANGE,
    TEMPERATURE_RANGE,
)
from textconductor.protocol.controls import CONTROLS, PRESET_SLOTS, crowd_control
from textconductor.protocol.messages import CrowdState, Guards, Hello, Output, Params, Status, Tick, decode_output
from textconductor.protocol.puck_geometry import weights_by_name
from textconductor.protocol.wire import MAX_PACKET, Rejected, bundle, message, unpack

log = logging.getLogger(__name__)

PING_EVERY_S = 2.0
# A hello or params report does not overwrite a value this client sent less than this long ago: the
# report may have left the engine before our datagram arrived (a ping answered just before it), and
# taking it would make the client believe, until the next report, a value the engine no longer has.
# A round trip, however slow, is far shorter; a real change by someone else this soon after ours is
# learned from the next report instead.
LOCAL_WINS_S = 0.5


class EngineClient:
    """State of one engine as its messages describe it, and controls as datagrams. Thread-safe.

    Weights and settings are remembered as this client last sent or learned them, so presets
    (`preset_save n` / `preset_recall n`, in memory) can send them back.
    """

    def __init__(self, styles: Sequence[str] | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._sent_at: dict[str, float] = {}  # style or setting -> when this client last sent it
        self._names: list[str] = list(styles or [])  # bank order, from /tc/hello
        self._enabled: list[bool] = [True] * len(self._names)
        self._weights: dict[str, float] = {}
        self._params: dict[str, float | str] = {}
        self._presets: dict[int, tuple[dict[str, float], dict[str, float | str]]] = {}
        self._paused = False
        self.hello_seen = threading.Event()
        self.last_hello: Hello | None = None
        self.last_params: Params | None = None
        self.last_status: Status | None = None
        self.last_guards: Guards | None = None
        self.crowd_mode: tuple[str, float] = ("off", 0.5)  # the audience's say as last sent or learned
        self.undecodable = 0  # parts of the engine's datagrams that could not be decoded

    # -- what the engine told us -------------------------------------------------------------
    @property
    def styles(self) -> list[str]:
        """Every style the engine has loaded, bank order."""
        with self._lock:
            return list(self._names)

    def enabled_styles(self) -> list[str]:
        with self._lock:
            return [n for n, e in zip(self._names, self._enabled, strict=True) if e]

    @property
    def paused(self) -> bool:
        with self._lock:
            return self._paused

    @property
    def weights(self) -> dict[str, float]:
        """Each style's raw weight as last sent or learned (a copy); for a controller that must know
        where a value is before moving it (MIDI soft takeover)."""
        with self._lock:
            return dict(self._weights)

    @property
    def params(self) -> dict[str, float | str]:
        """temperature, rate and mix as last sent or learned (a copy)."""
        with self._lock:
            return dict(self._params)

    def receive(self, data: bytes) -> list[Output | Rejected]:
        """One datagram from the engine: its messages in order, learned from; never raises.

        A part that cannot be decoded (wire damage, or arguments that do not fit the message)
        comes back as a `Rejected` and is counted in `undecodable`; addresses the engine does not
        publish are skipped. A tick must fit the character set, since its indices mean characters.
        """
        out: list[Output | Rejected] = []
        for m in unpack(data):
            if isinstance(m, Rejected):
                out.append(m)
                continue
            try:
                msg = decode_output(m.address, m.args)
                if isinstance(msg, Tick) and (msg.mixed.size != VOCAB_SIZE or len(msg.char) != 1
                                              or msg.attribution.size != msg.weights.size):
                    raise ValueError("tick with wrong sizes")
            except (ValueError, TypeError) as e:
                out.append(Rejected(f"bad message ({e})", m.address))
                continue
            if msg is not None:
                self._learn(msg)
                out.append(msg)
        with self._lock:
            self.undecodable += sum(isinstance(m, Rejected) for m in out)
        return out

    def _learn(self, msg: Output) -> None:
        if isinstance(msg, Hello):
            names = list(msg.names)
            enabled = [bool(v) for v in msg.enabled]
            weights = [float(v) for v in msg.weights]
            if len(enabled) != len(names):
                enabled = [True] * len(names)
            with self._lock:
                self._names, self._enabled = names, enabled
                if len(weights) == len(names):
                    self._weights.update((n, w) for n, w in zip(names, weights, strict=True) if not self._ours(n))
                self.last_hello = msg
            self.hello_seen.set()
        elif isinstance(msg, Status):
            with self._lock:
                self._paused = bool(msg.paused)
                self.last_status = msg
        elif isinstance(msg, Params):
            with self._lock:
                self._params.update((k, getattr(msg, k)) for k in ("temperature", "rate", "mix") if not self._ours(k))
                self.last_params = msg
        elif isinstance(msg, Guards):
            with self._lock:
                self.last_guards = msg
        elif isinstance(msg, CrowdState):
            with self._lock:
                if not self._ours("crowd"):
                    self.crowd_mode = (msg.mode, float(msg.blend))

    def _ours(self, key: str) -> bool:
        """True if this client sent `key` too recently for a report to be newer (lock held)."""
        sent = self._sent_at.get(key)
        return sent is not None and self._clock() - sent < LOCAL_WINS_S

    # -- controls -> datagrams -----------------------------------------------------------------
    def set_weights(self, weights: Mapping[str, float]) -> list[bytes]:
        """One `/tc/weight name w` per style, in one bundle (one datagram: applied together)."""
        msgs = []
        with self._lock:
            now = self._clock()
            for name, w in weights.items():
                w = _clamp(w, 0.0, 1.0)
                self._weights[name] = w
                self._sent_at[name] = now
                msgs.append(message(ADDRESS["weight"], str(name), w))
        if not msgs:
            return []
        return [msgs[0] if len(msgs) == 1 else bundle(*msgs)]

    def set_puck(self, x: float, y: float) -> list[bytes]:
        """Weights for the puck at (x, y) over the enabled styles; one `/tc/weights` once the bank is known."""
        with self._lock:
            names, enabled = list(self._names), list(self._enabled)
        on = [n for n, e in zip(names, enabled, strict=True) if e]
        weights = weights_by_name(_clamp(x, -1, 1), _clamp(y, -1, 1), on)
        if not weights:
            return []
        with self._lock:
            self._weights.update(weights)
            now = self._clock()
            self._sent_at.update((n, now) for n in weights)
        return [message(ADDRESS["weights"], *(float(weights.get(n, 0.0)) for n in names))]

    def control(self, name: str, value: float | str | None = None) -> list[bytes]:
        """One of `controls.CONTROLS`; out-of-range values are clamped, NaN raises ValueError."""
        if name == "temperature":
            v = _clamp(float(value), *TEMPERATURE_RANGE)  # type: ignore[arg-type]
            self._remember(name, v)
            return [message(ADDRESS[name], v)]
        if name == "rate":
            v = _clamp(float(value), *RATE_RANGE)  # type: ignore[arg-type]
            self._remember(name, v)
            return [message(ADDRESS[name], v)]
        if name == "mix":
            mode = value if value in MIX_MODES else MIX_MODES[int(bool(value))]
            self._remember(name, mode)  # type: ignore[arg-type]
            return [message(ADDRESS[name], mode)]
        if name in ("pause", "resume", "toggle_pause"):
            with self._lock:
                pause = (not self._paused) if name == "toggle_pause" else name == "pause"
                self._paused = pause
            return [message(ADDRESS["pause" if pause else "resume"])]
        if name == "reset":
            return [message(ADDRESS["reset"])]
        if name in ("keep", "reject"):  # a mark on the passage since the last one (engine/marks.py)
            return [message(ADDRESS[name])]
        if name == "guard":  # ready for CONTROLS: a button (1 on, 0 off; None toggles what the engine said)
            known = self.last_guards
            on = (not known.on if known is not None else False) if value is None else bool(float(value))
            return self.guard(on)
        if name == "guard_strength":  # ready for CONTROLS: a fader, 0..1
            return self.guard(None, float(value))  # type: ignore[arg-type]
        if name in ("crowd", "crowd_blend"):  # the audience's say: /tc/crowd_mode (docs/osc.md)
            with self._lock:
                self.crowd_mode = crowd_control(*self.crowd_mode, name, value)
                self._sent_at["crowd"] = self._clock()
                mode, blend = self.crowd_mode
            return [message(ADDRESS["crowd_mode"], mode, float(blend))]
        if name == "preset_save":
            slot = _preset(value)
            with self._lock:
                self._presets[slot] = (dict(self._weights), dict(self._params))
            log.info("preset %d saved", slot)
            return []
        if name == "preset_recall":
            slot = _preset(value)
            with self._lock:
                preset = self._presets.get(slot)
            if preset is None:
                log.info("preset %d is empty", slot)
                return []
            weights, params = preset
            out = self.set_weights(weights) if weights else []
            for key, v in params.items():
                out += self.control(key, v)
            return out
        raise ValueError(f"unknown control {name!r} (one of {', '.join(CONTROLS)})")

    def _remember(self, name: str, value: float | str) -> None:
        with self._lock:
            self._params[name] = value
            self._sent_at[name] = self._clock()

    def enable(self, style: str | int, on: bool) -> list[bytes]:
        return [message(ADDRESS["enable"], style, int(bool(on)))]

    def guard(self, on: bool | None = None, strength: float | None = None) -> list[bytes]:
        """The loop guard on or off and its strength (0..1, clamped); what is not given stays as
        the engine last reported it (on, when it has not reported yet)."""
        with self._lock:
            known = self.last_guards
        if on is None:
            on = known.on if known is not None else True
        if strength is None:
            return [message(ADDRESS["guard"], int(bool(on)))]
        return [message(ADDRESS["guard"], int(bool(on)), _clamp(strength, *GUARD_STRENGTH_RANGE))]

    def prime(self, text: str) -> list[bytes]:
        """Performer text into the history (cut to what the engine accepts; nothing for '')."""
        text = text[:MAX_PRIME_CHARS]
        return [message(ADDRESS["prime"], text)] if text else []

    @staticmethod
    def ping() -> bytes:
        return message(ADDRESS["ping"])

    @staticmethod
    def subscribe(port: int, host: str | None = None) -> bytes:
        return message(ADDRESS["subscribe"], *((host,) if host else ()), port)

    @staticmethod
    def unsubscribe(port: int, host: str | None = None) -> bytes:
        return message(ADDRESS["unsubscribe"], *((host,) if host else ()), port)


class EngineConnection:
    """An `EngineClient` on a UDP socket: a ControlSink that plays one engine. Call `close()`.

    The receive thread pings every `keepalive_s` (or, with `subscribe`, subscribes, so ticks
    arrive too) and learns from every answer; `on_message` sees each decoded message on that
    thread. `ping=False` and `subscribe=False`: send only, no thread.
    """

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, styles: list[str] | None = None,
                 ping: bool = True, *, subscribe: bool = False, listen_port: int = 0,
                 on_message: Callable[[Output], None] | None = None, keepalive_s: float = PING_EVERY_S) -> None:
        self.address = (host, port)
        self.client = EngineClient(styles)
        self.subscribed = subscribe
        self.keepalive_s = keepalive_s
        self.on_message = on_message
        self.sent = 0
        self._closed = threading.Event()
        self._send_failed_logged = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # Loopback to a local engine (nothing else can reach the socket); every interface otherwise.
        self.sock.bind(("127.0.0.1" if host in ("127.0.0.1", "localhost") else "0.0.0.0", listen_port))
        self.sock.settimeout(0.25)
        self.listen_port: int = self.sock.getsockname()[1]
        self._thread: threading.Thread | None = None
        if ping or subscribe:
            self._thread = threading.Thread(target=self._receive_loop, name="engine-client", daemon=True)
            self._thread.start()

    # -- ControlSink -----------------------------------------------------------------------
    def set_weights(self, weights: Mapping[str, float]) -> None:
        self.send_datagrams(self.client.set_weights(weights))

    def set_puck(self, x: float, y: float) -> None:
        self.send_datagrams(self.client.set_puck(x, y))

    def control(self, name: str, value: float | str | None = None) -> None:
        self.send_datagrams(self.client.control(name, value))

    def enabled_styles(self) -> list[str]:
        return self.client.enabled_styles()

    # -- more of the engine --------------------------------------------------------------------
    def enable(self, style: str | int, on: bool) -> None:
        self.send_datagrams(self.client.enable(style, on))

    def prime(self, text: str) -> None:
        self.send_datagrams(self.client.prime(text))

    def guard(self, on: bool | None = None, strength: float | None = None) -> None:
        """The loop guard on or off, and its strength (see `EngineClient.guard`)."""
        self.send_datagrams(self.client.guard(on, strength))

    @property
    def styles(self) -> list[str]:
        """Every style the engine has loaded, bank order."""
        return self.client.styles

    def wait_for_engine(self, timeout: float) -> bool:
        """True once the engine has answered with `/tc/hello` (style names known)."""
        return self.client.hello_seen.wait(timeout)

    def send(self, address: str, *args: object) -> None:
        """Any message (for what the control vocabulary does not cover)."""
        self.send_datagrams([message(address, *args)])

    def send_datagrams(self, datagrams: Sequence[bytes]) -> None:
        for data in datagrams:
            try:
                self.sock.sendto(data, self.address)
                self.sent += 1
            except OSError as e:
                if not self._send_failed_logged:
                    self._send_failed_logged = True
                    log.warning("cannot send to the engine at %s:%d (%s); still trying", *self.address, e)

    def close(self) -> None:
        if self.subscribed and not self._closed.is_set():
            self.send_datagrams([self.client.unsubscribe(self.listen_port)])  # so the engine stops sending here
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.sock.close()

    def _keepalive(self) -> bytes:
        return self.client.subscribe(self.listen_port) if self.subscribed else self.client.ping()

    def _receive_loop(self) -> None:
        next_ping = 0.0
        while not self._closed.is_set():
            now = time.monotonic()
            if now >= next_ping:
                self.send_datagrams([self._keepalive()])
                next_ping = now + self.keepalive_s
            try:
                data, _ = self.sock.recvfrom(MAX_PACKET)
            except (TimeoutError, ConnectionRefusedError):
                continue  # Linux reports an earlier datagram to a closed port here: engine not up yet
            except OSError:
                if self._closed.is_set():
                    return
                continue
            try:
                self._on_datagram(data)
            except Exception as e:  # noqa: BLE001 - a malformed answer or a failing callback must not end the link
                log.debug("ignored a bad packet from the engine: %s", e)

    def _on_datagram(self, data: bytes) -> None:
        before = self.client.styles if self.client.hello_seen.is_set() else None
        for msg in self.client.receive(data):
            if isinstance(msg, Rejected):
                log.debug("undecodable part of a packet from the engine: %s", msg.reason)
                continue
            if isinstance(msg, Hello) and msg.names != before:
                before = list(msg.names)
                log.info("engine at %s:%d has %d style(s): %s", *self.address, len(msg.names), ", ".join(msg.names))
            if self.on_message is not None:
                self.on_message(msg)


def _clamp(v: float, lo: float, hi: float) -> float:
    v = float(v)
    if not math.isfinite(v):
        raise ValueError("value is NaN or infinite")
    return min(max(v, lo), hi)


def _preset(value: float | str | None) -> int:
    n = int(value)  # type: ignore[arg-type]
    if n not in PRESET_SLOTS:
        raise ValueError(f"preset must be {PRESET_SLOTS[0]}..{PRESET_SLOTS[-1]}, got {value!r}")
    return n
