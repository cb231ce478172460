"""The frontend's only connection to the engine: OSC over one UDP socket, on the Qt event loop.

A `QUdpSocket` with `readyRead` drains every pending datagram at once (no thread, no sleeping
dispatcher), decodes engine output with `textconductor.protocol`, and emits Qt signals. Ticks are
emitted as one batch per drain, so a burst of characters costs the UI one update, not one per tick.

Liveness: any valid message from the engine counts as a sign of life; with none for
`offline_after` seconds the link reports offline. It re-sends `/tc/subscribe` periodically (often
while offline, rarely while online), so a restarted engine picks this frontend up again by itself.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtNetwork import QAbstractSocket, QHostAddress, QUdpSocket
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage

from textconductor import protocol
from textconductor.protocol.charset import CHARS

log = logging.getLogger(__name__)
VOCAB = len(CHARS)


def decode_outgoing(data: bytes) -> list[tuple[str, tuple]]:
    """(address, args) of every message in an engine datagram; bundles flattened; [] if undecodable."""
    out: list[tuple[str, tuple]] = []

    def walk(b: OscBundle, depth: int) -> None:
        for item in b:
            if isinstance(item, OscBundle):
                if depth < protocol.MAX_BUNDLE_DEPTH:
                    walk(item, depth + 1)
            else:
                out.append((item.address, tuple(item.params)))
    try:
        if OscBundle.dgram_is_bundle(data):
            walk(OscBundle(data), 0)
        elif OscMessage.dgram_is_message(data):
            m = OscMessage(data)
            out.append((m.address, tuple(m.params)))
    except Exception as e:  # python-osc raises assorted errors on malformed input
        log.debug("undecodable datagram (%s)", type(e).__name__)
        return []
    return out


def parse_endpoint(text: str, default_port: int = protocol.DEFAULT_PORT) -> tuple[str, int]:
    """'HOST:PORT', 'HOST' or ':PORT' -> (host, port)."""
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "")
    return (host or protocol.DEFAULT_HOST), (int(port) if port else default_port)


class EngineLink(QObject):
    """Sends controls to one engine and turns what it publishes into signals."""

    hello = Signal(object)  # protocol.Hello
    ticks = Signal(list)  # [protocol.Tick], in arrival order, one batch per socket drain
    status = Signal(object)  # protocol.Status
    params = Signal(object)  # protocol.Params
    rejected = Signal(dict)  # {reason: count}
    primed = Signal(str)  # performer text that entered the stream (between ticks, in order)
    online_changed = Signal(bool)

    def __init__(self, host: str = protocol.DEFAULT_HOST, port: int = protocol.DEFAULT_PORT, listen_port: int = 0,
                 offline_after: float = 2.5, resubscribe: float = 1.0, resubscribe_online: float = 5.0,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host, self.port = host, port
        self._engine_addr = QHostAddress(host if host != "localhost" else "127.0.0.1")
        self.offline_after = offline_after
        self.resubscribe_offline, self.resubscribe_online = resubscribe, resubscribe_online
        self.online = False
        self.last_heard = 0.0
        self.received = 0
        self.undecodable = 0
        self._last_subscribe = 0.0
        self.sock = QUdpSocket(self)
        local = self._engine_addr.isLoopback()
        bind = QHostAddress(QHostAddress.SpecialAddress.LocalHost if local else QHostAddress.SpecialAddress.AnyIPv4)
        if not self.sock.bind(bind, listen_port):
            raise OSError(f"cannot listen on UDP port {listen_port}: {self.sock.errorString()}")
        # A burst of ticks at an unthrottled rate must not overflow the kernel buffer while we paint.
        self.sock.setSocketOption(QAbstractSocket.SocketOption.ReceiveBufferSizeSocketOption, 4 << 20)
        self.listen_port = self.sock.localPort()
        self.sock.readyRead.connect(self._drain)
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._housekeeping)

    def start(self) -> None:
        self.subscribe()
        self._timer.start()

    def stop(self, unsubscribe: bool = True) -> None:
        self._timer.stop()
        if unsubscribe:
            self.send("/tc/unsubscribe", self.listen_port)

    # -- sending -------------------------------------------------------------------------------
    def send(self, address: str, *args: Any) -> None:
        """Fire and forget; an engine that is away simply misses it (we re-send state on reconnect)."""
        self.sock.writeDatagram(protocol.message(address, *args), self._engine_addr, self.port)

    def subscribe(self) -> None:
        self._last_subscribe = time.monotonic()
        self.send("/tc/subscribe", self.listen_port)

    # -- receiving -----------------------------------------------------------------------------
    def _drain(self) -> None:
        ticks: list[protocol.Tick] = []
        while self.sock.hasPendingDatagrams():
            dgram = self.sock.receiveDatagram()
            for address, args in decode_outgoing(dgram.data().data()):
                try:
                    if address == protocol.OUT_TICK:
                        t = protocol.Tick.decode(args)
                        if t.mixed.size != VOCAB or len(t.char) != 1 or t.attribution.size != t.weights.size:
                            raise ValueError("tick with wrong sizes")
                        ticks.append(t)
                        self._alive()
                    elif address == protocol.OUT_PRIMED:
                        if ticks:  # keep the order: the ticks before the primed text first
                            self.ticks.emit(ticks)
                            ticks = []
                        self._alive()
                        self.primed.emit(str(args[1]))
                    else:
                        self._dispatch(address, args)
                except (ValueError, TypeError) as e:
                    self.undecodable += 1
                    log.debug("bad %s from engine: %s", address, e)
        if ticks:
            self.ticks.emit(ticks)

    def _dispatch(self, address: str, args: tuple) -> None:
        if address == protocol.OUT_STATUS:
            s = protocol.Status.decode(args)
            self._alive()
            self.status.emit(s)
        elif address == protocol.OUT_HELLO:
            h = protocol.Hello.decode(args)
            self._alive()
            self.hello.emit(h)
        elif address == protocol.OUT_PARAMS:
            p = protocol.Params.decode(args)
            self._alive()
            self.params.emit(p)
        elif address == protocol.OUT_REJECTED:
            counts = {str(args[i]): int(args[i + 1]) for i in range(0, len(args) - 1, 2)}
            self._alive()
            self.rejected.emit(counts)

    def _alive(self) -> None:
        self.received += 1
        self.last_heard = time.monotonic()
        if not self.online:
            self.online = True
            log.info("engine %s:%d online", self.host, self.port)
            self.online_changed.emit(True)

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if self.online and now - self.last_heard > self.offline_after:
            self.online = False
            log.warning("engine %s:%d offline (silent for %.1f s)", self.host, self.port, now - self.last_heard)
            self.online_changed.emit(False)
        period = self.resubscribe_online if self.online else self.resubscribe_offline
        if now - self._last_subscribe >= period:
            self.subscribe()
