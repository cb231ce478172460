"""The tick loop: commands in, one character out per tick, published to every subscriber.

Timing: at a set rate the loop keeps a schedule (next tick time += 1/rate) and never bursts to
catch up after a stall; at rate 0 it runs flat out. Commands that arrive while it waits are
applied at the start of the next tick, so a weight change is heard at the next character.
Status and parameters go out once a second, the hello (names, weights, text tail) every 5 s.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from textconductor.engine import snapshot
from textconductor.engine.conductor import CommandError, Conductor
from textconductor.engine.record import Recorder
from textconductor.engine.server import EngineSocket
from textconductor.protocol import Command, Hello, Primed, Status, bundle, rejected_counts_message
from textconductor.protocol.charset import fold

log = logging.getLogger(__name__)

HELLO_EVERY_S = 5.0
STATUS_EVERY_S = 1.0
SAVE_EVERY_S = 0.5  # record flush + snapshot: a crash loses less than a second
IDLE_WAIT_S = 0.05
MAX_SUBSCRIBERS = 32


@dataclass
class Stats:
    step_s: deque = field(default_factory=lambda: deque(maxlen=1000))
    tick_times: deque = field(default_factory=lambda: deque(maxlen=4000))


class Engine:
    def __init__(self, conductor: Conductor, sock: EngineSocket, subscribers: list[tuple[str, int]] | None = None,
                 echo: Callable[[str], None] | None = None, recorder: Recorder | None = None,
                 state_path: Path | None = None) -> None:
        self.conductor, self.sock = conductor, sock
        self.subscribers: list[tuple[str, int]] = list(subscribers or [])
        self.echo = echo
        self.recorder, self.state_path = recorder, state_path
        self.stats = Stats()
        self.stopping = threading.Event()
        self._last_status = self._last_hello = self._last_save = 0.0
        self._params_dirty = True

    # -- commands --------------------------------------------------------------------------

    def handle(self, cmd: Command) -> None:
        n = cmd.name
        if n in ("subscribe", "unsubscribe"):
            host, port = cmd.args
            addr = (host or (cmd.sender[0] if cmd.sender else "127.0.0.1"), port)
            if n == "subscribe":
                if addr not in self.subscribers:
                    if len(self.subscribers) >= MAX_SUBSCRIBERS:
                        self.sock.rejected.add("too many subscribers")
                        return
                    self.subscribers.append(addr)
                    log.info("subscriber %s:%d joined", *addr)
                self.sock.send(self._hello_packet(), addr)
            elif addr in self.subscribers:
                self.subscribers.remove(addr)
                log.info("subscriber %s:%d left", *addr)
            return
        if n == "ping":
            if cmd.sender:
                self.sock.send(self._hello_packet(), cmd.sender)
            return
        try:
            self.conductor.apply(cmd)
        except CommandError as e:
            self.sock.rejected.add(e.reason, e.detail)
            return
        if self.recorder:
            self.recorder.event(self.conductor.tick_index, cmd)
        if n == "prime":
            self.publish(Primed(self.conductor.tick_index, fold(cmd.args[0])).encode())  # as it entered the text
        if n not in ("weights", "weight", "pause", "resume"):
            self._params_dirty = True

    # -- output ----------------------------------------------------------------------------

    def publish(self, data: bytes) -> None:
        for addr in self.subscribers:
            self.sock.send(data, addr)

    def _hello_packet(self) -> bytes:
        c = self.conductor
        hello = Hello(c.names, c.enabled.copy(), c.raw.astype(np.float32), c.text_tail(500))
        return bundle(hello.encode(), c.params.encode(), self.status().encode())

    def status(self) -> Status:
        now = time.monotonic()
        recent = [t for t in self.stats.tick_times if now - t <= 1.0]
        steps = list(self.stats.step_s)[-max(len(recent), 1):]
        return Status(tick=self.conductor.tick_index, rate=float(len(recent)),
                      step_ms=float(np.median(steps) * 1e3) if steps else 0.0,
                      step_ms_max=float(max(steps) * 1e3) if steps else 0.0,
                      active=len(self.conductor.bank.active), rejected=self.sock.rejected.total,
                      paused=self.conductor.paused, subscribers=len(self.subscribers))

    def save(self) -> None:
        """Record first, then the snapshot: both then describe the same tick after a crash."""
        if self.recorder:
            self.recorder.flush()
        if self.state_path:
            try:
                snap = snapshot.snapshot(self.conductor)
                snap["subscribers"] = [list(a) for a in self.subscribers]
                snapshot.write(self.state_path, snap)
            except OSError as e:
                log.error("cannot write engine state %s: %s", self.state_path, e)

    def _periodic(self, now: float) -> None:
        if now - self._last_save >= SAVE_EVERY_S:
            self.save()
            self._last_save = now
        if now - self._last_status >= STATUS_EVERY_S or self._params_dirty:
            parts = [self.status().encode(), self.conductor.params.encode()]
            counts = self.sock.rejected.snapshot()
            if counts:
                parts.append(rejected_counts_message(counts))
            self.publish(bundle(*parts))
            self._last_status, self._params_dirty = now, False
        if now - self._last_hello >= HELLO_EVERY_S:
            self.publish(self._hello_packet())
            self._last_hello = now

    # -- the loop --------------------------------------------------------------------------

    def step_once(self) -> None:
        t0 = time.perf_counter()
        tick = self.conductor.tick()
        self.stats.step_s.append(time.perf_counter() - t0)
        self.stats.tick_times.append(time.monotonic())
        self.publish(tick.encode())
        if self.echo:
            self.echo(tick.char)
        if self.recorder:
            self.recorder.tick(tick)

    def run(self, max_ticks: int | None = None) -> None:
        """Run until stop() (or max_ticks characters); survives any single bad command."""
        next_t = time.monotonic()
        produced = 0
        while not self.stopping.is_set():
            for cmd in self.sock.drain():
                self.handle(cmd)
            now = time.monotonic()
            self._periodic(now)
            if self.conductor.paused:
                cmd = self.sock.wait(IDLE_WAIT_S)
                if cmd is not None:
                    self.handle(cmd)
                next_t = time.monotonic()
                continue
            self.step_once()
            produced += 1
            if max_ticks is not None and produced >= max_ticks:
                break
            rate = self.conductor.params.rate
            if rate > 0:
                next_t = max(next_t + 1.0 / rate, time.monotonic() - 0.25)  # no burst after a stall
                while (wait := next_t - time.monotonic()) > 0 and not self.stopping.is_set():
                    cmd = self.sock.wait(min(wait, IDLE_WAIT_S))
                    if cmd is not None:
                        self.handle(cmd)
            else:
                next_t = time.monotonic()

    def stop(self) -> None:
        self.stopping.set()

    def close(self) -> None:
        self.save()
        if self.recorder:
            self.recorder.close()
        self.sock.close()


def terminal_echo(char: str) -> None:
    """--print: the text as it is written, flushed per character (like a typewriter)."""
    sys.stdout.write(char)
    sys.stdout.flush()
