"""The tick loop: commands in, one character out per tick, published to every subscriber.

Timing: at a set rate the loop keeps a schedule (next tick time += 1/rate) and never bursts to
catch up after a stall; at rate 0 it runs flat out. Commands that arrive while it waits are
applied at the start of the next tick, so a weight change is heard at the next character.
Status and parameters go out once a second, the hello (names, weights, text tail) every 5 s.

Subscriptions are leases: `/tc/subscribe` starts or renews one for `lease_s` seconds (every client
of the project renews it well within that), and a lease not renewed expires. So clients that
vanish without unsubscribing free their place by themselves, and a new window is never locked
out. Subscribers named when the engine starts (`--subscribe`, a benchmark's listener) do not expire.

The blocklist file is watched here (the conductor never touches a file): when it changes, its
entries are applied as a `blocklist` command, so the performance record replays the change.
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
from textconductor.engine.blocklist import parse
from textconductor.engine.conductor import CommandError, Conductor
from textconductor.engine.record import Recorder
from textconductor.engine.server import EngineSocket
from textconductor.protocol import Command, Guarded, Guards, Hello, Primed, Status, bundle, rejected_counts_message
from textconductor.protocol.defaults import SUBSCRIPTION_LEASE_S

log = logging.getLogger(__name__)

HELLO_EVERY_S = 5.0
STATUS_EVERY_S = 1.0
SAVE_EVERY_S = 0.5  # record flush + snapshot: a crash loses less than a second
IDLE_WAIT_S = 0.05
MAX_SUBSCRIBERS = 32
BLOCKLIST_CHECK_S = 1.0  # how often the blocklist file is looked at (a stat; read only when it changed)

Address = tuple[str, int]


@dataclass
class Stats:
    step_s: deque = field(default_factory=lambda: deque(maxlen=1000))
    tick_times: deque = field(default_factory=lambda: deque(maxlen=4000))


class BlocklistFile:
    """The operator's blocklist file: read when its size or time stamp changes, never otherwise.

    A missing file is an empty list (the operator may create it later); a file that cannot be
    read keeps the list in force and is logged once per change.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int] | None = None

    def changed(self) -> list[str] | None:
        """The entries when the file changed since the last call (the first call always reads)."""
        try:
            st = self.path.stat()
            key = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            key = (0, -1)
        except OSError as e:
            log.debug("blocklist %s: %s", self.path, e)
            return None
        if key == self._seen:
            return None
        self._seen = key
        if key == (0, -1):
            return []
        try:
            return parse(self.path.read_text(encoding="utf-8", errors="replace"))
        except OSError as e:
            log.error("cannot read the blocklist %s (%s): keeping the list in force", self.path, e)
            return None


class Engine:
    def __init__(self, conductor: Conductor, sock: EngineSocket, subscribers: list[Address] | None = None,
                 echo: Callable[[str], None] | None = None, recorder: Recorder | None = None,
                 state_path: Path | None = None, *, leased: list[Address] | None = None,
                 lease_s: float = SUBSCRIPTION_LEASE_S, blocklist: Path | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`subscribers` never expire; `leased` (restored from a snapshot) hold a fresh lease."""
        self.conductor, self.sock = conductor, sock
        self.lease_s, self.clock = lease_s, clock
        self._leases: dict[Address, float | None] = dict.fromkeys(subscribers or [])  # address -> expiry
        for addr in leased or []:
            self._leases.setdefault(addr, clock() + lease_s)
        self.echo = echo
        self.recorder, self.state_path = recorder, state_path
        self.blocklist = BlocklistFile(blocklist) if blocklist else None
        self.stats = Stats()
        self.stopping = threading.Event()
        self._last_status = self._last_hello = self._last_save = self._last_blocklist = 0.0
        self._params_dirty = True

    # -- subscribers -----------------------------------------------------------------------

    @property
    def subscribers(self) -> list[Address]:
        """Everyone the output goes to, in the order they subscribed."""
        return list(self._leases)

    @property
    def permanent(self) -> list[Address]:
        return [a for a, expiry in self._leases.items() if expiry is None]

    def expire(self) -> None:
        """Drop the subscribers whose lease ran out."""
        now = self.clock()
        for addr in [a for a, expiry in self._leases.items() if expiry is not None and expiry <= now]:
            del self._leases[addr]
            log.info("subscriber %s:%d expired (not renewed for %.0f s)", addr[0], addr[1], self.lease_s)

    def _subscribe(self, addr: Address) -> bool:
        self.expire()
        if addr in self._leases:
            if self._leases[addr] is not None:
                self._leases[addr] = self.clock() + self.lease_s
            return True
        if len(self._leases) >= MAX_SUBSCRIBERS:
            self.sock.rejected.add("too many subscribers")
            return False
        self._leases[addr] = self.clock() + self.lease_s
        log.info("subscriber %s:%d joined", *addr)
        return True

    # -- commands --------------------------------------------------------------------------

    def handle(self, cmd: Command) -> None:
        n = cmd.name
        if n in ("subscribe", "unsubscribe"):
            host, port = cmd.args
            addr = (host or (cmd.sender[0] if cmd.sender else "127.0.0.1"), port)
            if n == "subscribe":
                if self._subscribe(addr):
                    self.sock.send(self._hello_packet(), addr)
            elif addr in self._leases:
                del self._leases[addr]
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
        if n == "prime" and self.conductor.last_primed:  # as it entered the text: folded, blocked words cut
            self.publish(Primed(self.conductor.tick_index, self.conductor.last_primed).encode())
        if n not in ("weights", "weight", "pause", "resume"):
            self._params_dirty = True

    # -- output ----------------------------------------------------------------------------

    def publish(self, data: bytes) -> None:
        for addr in self.subscribers:
            self.sock.send(data, addr)

    def _hello_packet(self) -> bytes:
        c = self.conductor
        hello = Hello(c.names, c.enabled.copy(), c.raw.astype(np.float32), c.text_tail(500))
        return bundle(hello.encode(), c.params.encode(), self.status().encode(), self.guards().encode())

    def status(self) -> Status:
        now = time.monotonic()
        recent = [t for t in self.stats.tick_times if now - t <= 1.0]
        steps = list(self.stats.step_s)[-max(len(recent), 1):]
        return Status(tick=self.conductor.tick_index, rate=float(len(recent)),
                      step_ms=float(np.median(steps) * 1e3) if steps else 0.0,
                      step_ms_max=float(max(steps) * 1e3) if steps else 0.0,
                      active=len(self.conductor.bank.active), rejected=self.sock.rejected.total,
                      paused=self.conductor.paused, subscribers=len(self.subscribers))

    def guards(self) -> Guards:
        c = self.conductor
        g, n = c.guard, c.counts
        return Guards(on=g.on, strength=g.strength, escape=g.escape, loop_acts=n.loop_acts, loop_chars=n.loop_chars,
                      blocked=n.blocked, prime_dropped=n.prime_dropped, blocklist=len(c.blocklist.blocklist))

    def check_blocklist(self) -> None:
        """Apply the blocklist file's entries if it changed (as a recorded command)."""
        if self.blocklist is None:
            return
        entries = self.blocklist.changed()
        if entries is None or frozenset(entries) == self.conductor.blocklist.blocklist.entries:
            return
        log.info("blocklist %s: %d entr%s", self.blocklist.path, len(entries), "y" if len(entries) == 1 else "ies")
        self.handle(Command("blocklist", tuple(entries)))

    def save(self) -> None:
        """Record first, then the snapshot: both then describe the same tick after a crash."""
        if self.recorder:
            self.recorder.flush()
        if self.state_path:
            try:
                snap = snapshot.snapshot(self.conductor)
                snap["subscribers"] = [list(a) for a in self.subscribers]
                snap["permanent_subscribers"] = [list(a) for a in self.permanent]
                snapshot.write(self.state_path, snap)
            except OSError as e:
                log.error("cannot write engine state %s: %s", self.state_path, e)

    def _periodic(self, now: float) -> None:
        if now - self._last_save >= SAVE_EVERY_S:
            self.save()
            self._last_save = now
        if now - self._last_blocklist >= BLOCKLIST_CHECK_S:
            self.check_blocklist()
            self._last_blocklist = now
        if now - self._last_status >= STATUS_EVERY_S or self._params_dirty:
            self.expire()
            parts = [self.status().encode(), self.conductor.params.encode(), self.guards().encode()]
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
        for kind in self.conductor.events:  # before the tick, so a window marks the right place
            self.publish(Guarded(tick.tick, kind).encode())
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
