"""The frontend's only connection to the engine: OSC over one UDP socket, on the Qt event loop.

A Qt shell over the protocol's engine client (`textconductor.protocol.client.EngineClient`, which
decodes, learns the bank and turns controls into datagrams): a `QUdpSocket` with `readyRead`
drains every pending datagram at once (no thread, no sleeping dispatcher), hands each to the
client, and emits Qt signals. Ticks are emitted as one batch per drain, so a burst of characters
costs the UI one update, not one per tick.

Liveness: any valid message from the engine counts as a sign of life; with none for
`offline_after` seconds the link reports offline. It re-sends `/tc/subscribe` periodically (often
while offline, rarely while online), so a restarted engine picks this frontend up again by itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtNetwork import QAbstractSocket, QHostAddress, QUdpSocket

from textconductor import protocol
from textconductor.protocol.client import EngineClient
from textconductor.protocol.messages import Marked, Verbatim
from textconductor.protocol.wire import Rejected, unpack_messages

log = logging.getLogger(__name__)


# The engine's datagrams walked by the protocol's one walker (damaged parts skipped); kept under
# this name for the window's tools.
decode_outgoing = unpack_messages


def parse_endpoint(text: str, default_port: int = protocol.DEFAULT_PORT) -> tuple[str, int]:
    """'HOST:PORT', 'HOST', ':PORT' or 'PORT' -> (host, port); ValueError if the port is not one."""
    return protocol.parse_address(text, default_port, what="engine address")


class EngineLink(QObject):
    """Sends controls to one engine and turns what it publishes into signals."""

    hello = Signal(object)  # protocol.Hello
    ticks = Signal(list)  # [protocol.Tick], in arrival order, one batch per socket drain
    status = Signal(object)  # protocol.Status
    params = Signal(object)  # protocol.Params
    rejected = Signal(dict)  # {reason: count}
    primed = Signal(str)  # performer text that entered the stream (between ticks, in order)
    guards = Signal(object)  # protocol.Guards: the loop guard's setting and the guards' counters
    guarded = Signal(object)  # protocol.Guarded: a guard acted; emitted before the batch holding that tick
    marked = Signal(object)  # protocol.messages.Marked: a passage kept or rejected (frontend/curation.py)
    verbatim = Signal(object)  # protocol.messages.Verbatim: ticks copied from a corpus (frontend/provenance_marks.py)
    crowd = Signal(object)  # protocol.CrowdState or CrowdPoints: the audience (frontend/crowd.py)
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
        self.client = EngineClient()  # decodes what arrives, learns the bank; controls -> datagrams
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
            self.send_datagrams([self.client.unsubscribe(self.listen_port)])

    # -- sending -------------------------------------------------------------------------------
    def send(self, address: str, *args: Any) -> None:
        """Fire and forget; an engine that is away simply misses it (we re-send state on reconnect)."""
        self.send_datagrams([protocol.message(address, *args)])

    def send_datagrams(self, datagrams: Sequence[bytes]) -> None:
        """Datagrams made by `self.client` (`link.send_datagrams(link.client.set_weights(...))`)."""
        for data in datagrams:
            self.sock.writeDatagram(data, self._engine_addr, self.port)

    def subscribe(self) -> None:
        self._last_subscribe = time.monotonic()
        self.send_datagrams([self.client.subscribe(self.listen_port)])

    # -- receiving -----------------------------------------------------------------------------
    @property
    def undecodable(self) -> int:
        """Parts of the engine's datagrams that could not be decoded (counted by the client)."""
        return self.client.undecodable

    def _drain(self) -> None:
        ticks: list[protocol.Tick] = []
        while self.sock.hasPendingDatagrams():
            dgram = self.sock.receiveDatagram()
            for msg in self.client.receive(dgram.data().data()):
                if isinstance(msg, Rejected):
                    log.debug("bad %s from engine: %s", msg.address or "datagram", msg.reason)
                    continue
                self._alive()
                if isinstance(msg, protocol.Tick):
                    ticks.append(msg)
                    continue
                if isinstance(msg, protocol.Primed) and ticks:  # the text goes between the ticks around it
                    self.ticks.emit(ticks)
                    ticks = []
                self._dispatch(msg)
        if ticks:
            self.ticks.emit(ticks)

    def _dispatch(self, msg: protocol.Output) -> None:
        if isinstance(msg, protocol.Primed):
            self.primed.emit(msg.text)
        elif isinstance(msg, protocol.Status):
            self.status.emit(msg)
        elif isinstance(msg, protocol.Hello):
            self.hello.emit(msg)
        elif isinstance(msg, protocol.Params):
            self.params.emit(msg)
        elif isinstance(msg, protocol.RejectedCounts):
            self.rejected.emit(msg.counts)
        elif isinstance(msg, Marked):
            self.marked.emit(msg)
        elif isinstance(msg, Verbatim):
            self.verbatim.emit(msg)
        elif isinstance(msg, protocol.Guards):
            self.guards.emit(msg)
        elif isinstance(msg, protocol.Guarded):
            self.guarded.emit(msg)
        elif isinstance(msg, (protocol.CrowdState, protocol.CrowdPoints)):
            self.crowd.emit(msg)

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
