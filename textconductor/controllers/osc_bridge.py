"""osc-bridge: OSC tools that do not speak the engine's protocol, mapped onto a ControlSink.

The engine accepts `/style/<name>` faders and `/wek/outputs` itself, but two common sources need
a mapping in between:

* a TouchOSC (or any) XY pad sending `/puck x y`: the puck -> weights rule lives with the puck,
  not in the engine, so the bridge turns the position into weights (`sink.set_puck`);
* Wekinator with fewer outputs than the bank has styles, or outputs outside 0..1 (regression
  overshoots): `/wek/outputs` here drives the enabled styles in order, clamped to 0..1, or
  (`wek_puck`) two outputs move the puck.

Everything else the engine understands and a ControlSink can express (`/style/<name>`,
`/tc/weight`, `/tc/weights`, `/tc/temperature`, `/tc/rate`, `/tc/mix`, `/tc/pause`, `/tc/resume`,
`/tc/reset`) is validated with the engine's own parser and passed on, so one TouchOSC layout can
point at the bridge alone. Bad packets are counted and logged (rate-limited), never fatal.
"""

from __future__ import annotations

import logging
import math
import socket
import threading
from collections import Counter
from collections.abc import Iterable

from textconductor import protocol
from textconductor.controllers.base import Controller, ControlSink, guarded
from textconductor.errors import UserError
from textconductor.protocol.address import AllowListError, resolve_allow_list
from textconductor.protocol.ratelimit import RateLimitedLog
from textconductor.protocol.udp import serve
from textconductor.protocol.wire import Rejected, unpack

log = logging.getLogger(__name__)

DEFAULT_BRIDGE_PORT = 57140
PUCK_ADDRESS = "/puck"


class BridgeError(UserError):
    """An unusable bridge option (address, allow-list)."""


class OscBridge(Controller):
    """Listen on `host:port` for OSC and drive the sink.

    `xy_range`: 'unit' (TouchOSC's default 0..1 pads, mapped to -1..1) or 'signed' (already -1..1).
    `flip_y`: for pads whose y grows downwards; `swap_xy`: for pads that send (y, x).
    `allow`: sender hosts accepted besides 127.0.0.1 (needed when listening beyond loopback; the rule is
    the engine's, `protocol.address.resolve_allow_list`).
    """

    name = "osc-bridge"

    def __init__(self, port: int = DEFAULT_BRIDGE_PORT, host: str = protocol.DEFAULT_HOST,
                 allow: Iterable[str] = (), xy_range: str = "unit", flip_y: bool = False, swap_xy: bool = False,
                 wek_puck: bool = False) -> None:
        if xy_range not in ("unit", "signed"):
            raise BridgeError(f"xy range must be 'unit' or 'signed', not {xy_range!r}")
        try:
            self.allow = resolve_allow_list(host, allow, who="send to the bridge: each tablet or computer")
        except AllowListError as e:
            raise BridgeError(str(e)) from None
        self.host, self.port = host, port
        self.xy_range, self.flip_y, self.swap_xy, self.wek_puck = xy_range, flip_y, swap_xy, wek_puck
        self.rejected: Counter[str] = Counter()
        self.handled = 0
        self.sock: socket.socket | None = None
        self._sink: ControlSink | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._handle_guarded = guarded(self.handle_packet, "osc-bridge message handling", log)
        self._reject_totals = RateLimitedLog(every_s=10.0)

    def available(self) -> tuple[bool, str]:
        return True, ""

    def start(self, sink: ControlSink) -> None:
        """Bind the socket (raises BridgeError if the port is taken) and serve on a thread."""
        self._sink = sink
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.port))
        except OSError as e:
            sock.close()
            raise BridgeError(f"cannot listen on {self.host}:{self.port}: {e}") from e
        sock.settimeout(0.25)
        self.sock = sock
        self.port = sock.getsockname()[1]  # port 0 -> the one the system chose
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="osc-bridge", daemon=True)
        self._thread.start()
        log.info("osc-bridge listening on %s:%d (/puck x y, /wek/outputs, /style/<name>, /tc/...)",
                 self.host, self.port)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _serve(self) -> None:
        assert self.sock is not None
        serve(self.sock, self._stop, self._receive)

    def _receive(self, data: bytes, sender: tuple[str, int]) -> None:
        if sender[0] not in self.allow:
            self._reject("sender not allowed", sender[0])
            return
        self._handle_guarded(data, sender)

    # -- mapping -------------------------------------------------------------------------------
    def handle_packet(self, data: bytes, sender: tuple[str, int] | None = None) -> None:
        """Map one datagram onto the sink (also the test entry point)."""
        sink = self._sink
        if sink is None:
            return
        for msg in unpack(data):
            if isinstance(msg, Rejected):
                self._reject(msg.reason)
                continue
            address, args = msg
            if address == PUCK_ADDRESS:
                self._puck(sink, args)
            elif address == "/wek/outputs":
                self._wekinator(sink, args)
            else:
                self._engine_message(sink, address, args, sender)

    def _puck(self, sink: ControlSink, args: tuple) -> None:
        if len(args) != 2 or not all(_is_number(a) for a in args):
            self._reject("/puck expects two numbers (x y)", PUCK_ADDRESS)
            return
        x, y = (float(a) for a in args)
        if self.swap_xy:
            x, y = y, x
        if self.xy_range == "unit":
            x, y = 2 * x - 1, 2 * y - 1
        if self.flip_y:
            y = -y
        sink.set_puck(min(max(x, -1.0), 1.0), min(max(y, -1.0), 1.0))
        self.handled += 1

    def _wekinator(self, sink: ControlSink, args: tuple) -> None:
        if not args or not all(_is_number(a) for a in args):
            self._reject("/wek/outputs expects numbers", "/wek/outputs")
            return
        values = [min(max(float(a), 0.0), 1.0) for a in args]
        if self.wek_puck:
            if len(values) != 2:
                self._reject("/wek/outputs with --wek-puck expects two outputs", "/wek/outputs")
                return
            sink.set_puck(2 * values[0] - 1, 2 * values[1] - 1)
        else:
            enabled = sink.enabled_styles()
            if not enabled:
                return
            sink.set_weights(dict(zip(enabled, values, strict=False)))
        self.handled += 1

    def _engine_message(self, sink: ControlSink, address: str, args: tuple, sender) -> None:
        cmd = protocol.parse_message(address, args, sender)
        if isinstance(cmd, protocol.Rejected):
            if protocol.is_error(cmd):
                self._reject(cmd.reason, cmd.address)
            return
        name, args = cmd.name, cmd.args
        if name == "weight":
            style, w = args
            if isinstance(style, int):
                enabled = sink.enabled_styles()
                if style >= len(enabled):
                    self._reject("style index beyond the enabled styles", address)
                    return
                style = enabled[style]
            sink.set_weights({style: w})
        elif name == "weights":
            sink.set_weights(dict(zip(sink.enabled_styles(), args, strict=False)))
        elif name in ("temperature", "rate", "mix"):
            sink.control(name, args[0])
        elif name in ("pause", "resume", "reset"):
            sink.control(name)
        else:
            self._reject(f"{address} is not forwarded by the bridge; send it to the engine", address)
            return
        self.handled += 1

    def _reject(self, reason: str, address: str = "") -> None:
        """Count; log each new reason at once, then totals at most every 10 s (a flood must not fill the log)."""
        self.rejected[reason] += 1
        if self.rejected[reason] == 1:
            log.warning("osc-bridge rejected %s: %s", address or "a packet", reason)
        elif self._reject_totals.add():
            log.warning("osc-bridge rejected so far: %s", dict(self.rejected))


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
