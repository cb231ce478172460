"""The engine's UDP socket: a receive thread that validates, and sending to subscribers.

The receive thread only parses and validates (textconductor.protocol) and queues commands; the
tick loop applies them between ticks, so no lock is needed around the model state and a flood of
packets can delay a character by at most the time it takes to drain the queue. Rejections are
counted per reason and logged at most once per reason every few seconds, so garbage cannot fill
a disk.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from collections import Counter

from textconductor.errors import UserError
from textconductor.protocol import MAX_PACKET, Command, Rejected, is_error, parse_packet
from textconductor.protocol.address import resolve_allow_list
from textconductor.protocol.ratelimit import RateLimitedLog

log = logging.getLogger(__name__)

LOG_EVERY_S = 5.0
QUEUE_LIMIT = 10_000  # beyond this, commands are dropped (and counted), never memory


class RejectLog:
    """Counts rejections per reason; logs the first of each reason, then a summary every few s."""

    def __init__(self) -> None:
        self._limit = RateLimitedLog(LOG_EVERY_S)

    def add(self, reason: str, detail: str = "") -> None:
        due = self._limit.add(reason)
        if due:
            log.warning("rejected %d message(s): %s%s", due.n, reason, f" ({detail})" if detail else "")

    @property
    def counts(self) -> Counter[str]:
        return Counter(self._limit.snapshot())

    @property
    def total(self) -> int:
        return self._limit.total

    def snapshot(self) -> dict[str, int]:
        return self._limit.snapshot()


class EngineSocket:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, allow: list[str] | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        try:
            self.sock.bind((host, port))
        except OSError as e:
            raise UserError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
        self.address = self.sock.getsockname()
        self.allow = resolve_allow_list(host, allow, who="control the engine")
        self.commands: queue.Queue[Command] = queue.Queue(QUEUE_LIMIT)
        self.rejected = RejectLog()
        self.received = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="osc-receive", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        try:
            self.sock.close()
        except OSError:
            pass

    def _receive(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data, sender = self.sock.recvfrom(MAX_PACKET + 1)
            except TimeoutError:
                continue
            except OSError as e:
                if self._stop.is_set():
                    return
                # e.g. ICMP port unreachable from a vanished subscriber, reported on the next recv
                log.debug("recv: %s", e)
                continue
            self.received += 1
            if sender[0] not in self.allow:
                self.rejected.add("host not allowed", sender[0])
                continue
            for item in parse_packet(data, sender):
                if isinstance(item, Rejected):
                    if is_error(item):
                        self.rejected.add(item.reason, item.address)
                    continue
                try:
                    self.commands.put_nowait(item)
                except queue.Full:
                    self.rejected.add("engine busy: command queue full")

    def drain(self) -> list[Command]:
        out = []
        while True:
            try:
                out.append(self.commands.get_nowait())
            except queue.Empty:
                return out

    def wait(self, timeout: float) -> Command | None:
        try:
            return self.commands.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None

    def send(self, data: bytes, to: tuple[str, int]) -> bool:
        try:
            self.sock.sendto(data, to)
            return True
        except OSError as e:
            log.debug("send to %s failed: %s", to, e)
            return False
