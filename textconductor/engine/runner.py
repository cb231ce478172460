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
from textconductor.engine.hotload import HotLoader, StylesWatch
from textconductor.engine.hotload import join as join_style
from textconductor.engine.marks import KINDS as MARK_KINDS
from textconductor.engine.marks import MarkBook
from textconductor.engine.provenance import LiveProvenance
from textconductor.engine.record import Recorder
from textconductor.engine.server import EngineSocket
from textconductor.protocol import Command, Guarded, Guards, Hello, Primed, Status, bundle, rejected_counts_message
from textconductor.protocol.defaults import EXTERNAL_CLOCK_HOLD_S, SUBSCRIPTION_LEASE_S
from textconductor.protocol.messages import CrowdPoints, CrowdState
from textconductor.protocol.wire import blob_f32

log = logging.getLogger(__name__)

HELLO_EVERY_S = 5.0
STATUS_EVERY_S = 1.0
SAVE_EVERY_S = 0.5  # record flush + snapshot: a crash loses less than a second
IDLE_WAIT_S = 0.05
MAX_SUBSCRIBERS = 32
BLOCKLIST_CHECK_S = 1.0  # how often the blocklist file is looked at (a stat; read only when it changed)
STYLES_CHECK_S = 2.0  # how often a watched styles folder is looked at (engine --watch-styles)

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
                 clock: Callable[[], float] = time.monotonic, styles_dir: Path | None = None,
                 watch_styles: bool = False) -> None:
        """`subscribers` never expire; `leased` (restored from a snapshot) hold a fresh lease."""
        self.conductor, self.sock = conductor, sock
        self.lease_s, self.clock = lease_s, clock
        self._leases: dict[Address, float | None] = dict.fromkeys(subscribers or [])  # address -> expiry
        for addr in leased or []:
            self._leases.setdefault(addr, clock() + lease_s)
        self.echo = echo
        self.recorder, self.state_path = recorder, state_path
        self.blocklist = BlocklistFile(blocklist) if blocklist else None
        self.marks = MarkBook(conductor.names)  # /tc/keep, /tc/reject (engine/marks.py)
        self.hotload = HotLoader(conductor.bank, styles_dir)  # /tc/load (engine/hotload.py)
        self.styles_watch = StylesWatch(styles_dir) if styles_dir and watch_styles else None
        self._last_styles = 0.0
        self.stats = Stats()
        self.provenance: LiveProvenance | None = None  # verbatim marks, set by root.start_engine (--index)
        self.stopping = threading.Event()
        self._last_status = self._last_hello = self._last_save = self._last_blocklist = 0.0
        self._params_dirty = True
        self._external_until = float("-inf")  # the engine's own rate is silent until then (/tc/advance)
        self.watchers: list[Callable[[], None]] = []  # called in this thread after state changed (OSCQuery values)
        self.services: list = []  # closed with the engine: the OSCQuery server and mDNS (engine/oscquery.py)

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
                    if marks := self.marks.announce():  # the window draws the recent marks
                        self.sock.send(marks, addr)
            elif addr in self._leases:
                del self._leases[addr]
                log.info("subscriber %s:%d left", *addr)
            return
        if n == "ping":
            if cmd.sender:
                self.sock.send(self._hello_packet(), cmd.sender)
            return
        if n == "crowd_points":  # the audience server's puck cloud: relayed to the windows, not applied
            phones, connected, blob = cmd.args
            self.publish(CrowdPoints(phones, connected, blob_f32(blob)).encode())
            return
        if n == "load":  # read on the loader thread; joined between ticks (join_styles)
            try:
                self.hotload.request(*cmd.args)
            except CommandError as e:
                self.sock.rejected.add(e.reason, e.detail)
            return
        if n == "advance":
            self.advance(cmd.args[0])
            return
        if n in MARK_KINDS:
            self.mark(cmd)
            return
        try:
            self.conductor.apply(cmd)
        except CommandError as e:
            self.sock.rejected.add(e.reason, e.detail)
            return
        if self.recorder:
            self.recorder.event(self.conductor.tick_index, cmd)
        self.marks.applied(self.conductor.tick_index, n, self.conductor.last_primed)
        if self.provenance is not None and n in ("prime", "reset"):  # no verbatim span runs across a break
            self.provenance.reset()
        if n == "prime" and self.conductor.last_primed:  # as it entered the text: folded, blocked words cut
            self.publish(Primed(self.conductor.tick_index, self.conductor.last_primed).encode())
        if n not in ("weights", "weight", "pause", "resume", "crowd"):
            self._params_dirty = True
        for watch in self.watchers:
            watch()

    # -- output ----------------------------------------------------------------------------

    def publish(self, data: bytes) -> None:
        for addr in self.subscribers:
            self.sock.send(data, addr)

    def _hello_packet(self) -> bytes:
        c = self.conductor
        hello = Hello(c.names, c.enabled.copy(), c.raw.astype(np.float32), c.text_tail(500))
        return bundle(hello.encode(), c.params.encode(), self.status().encode(), self.guards().encode(),
                      self.crowd_state().encode())

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

    def crowd_state(self) -> CrowdState:
        cw = self.conductor.crowd
        w = cw.weights / cw.weights.sum() if cw.weights is not None and len(cw.weights) == len(self.conductor.names) \
            else np.zeros(len(self.conductor.names))
        return CrowdState(cw.mode, cw.blend, w.astype(np.float32))

    def check_blocklist(self) -> None:
        """Apply the blocklist file's entries if it changed (as a recorded command)."""
        if self.blocklist is None:
            return
        entries = self.blocklist.changed()
        if entries is None or frozenset(entries) == self.conductor.blocklist.blocklist.entries:
            return
        log.info("blocklist %s: %d entr%s", self.blocklist.path, len(entries), "y" if len(entries) == 1 else "ies")
        self.handle(Command("blocklist", tuple(entries)))

    def join_styles(self) -> None:
        """Swap in the styles the loader finished (between ticks), record them, tell everyone."""
        for item in self.hotload.ready():
            if isinstance(item, CommandError):
                self.sock.rejected.add(item.reason, item.detail)
                continue
            t0 = time.perf_counter()
            try:
                k = join_style(self.conductor, item)
            except CommandError as e:
                self.sock.rejected.add(e.reason, e.detail)
                continue
            self.hotload.loaded.append((item.name, time.monotonic() - item.requested, item.thread,
                                        time.perf_counter() - t0))
            log.info("style %s loaded as #%d from %s (read and stacked in %.0f ms)", item.name, k, item.path,
                     item.prepared_s * 1e3)
            if self.recorder:
                self.recorder.event(self.conductor.tick_index,
                                    Command("load", (item.name, item.weight, str(item.path), item.sha256)))
            self.publish(self._hello_packet())
            self._params_dirty = True

    def save(self) -> None:
        """Record first, then the snapshot: both then describe the same tick after a crash."""
        if self.recorder:
            self.recorder.flush()
        if self.state_path:
            try:
                snap = snapshot.snapshot(self.conductor)
                snap["subscribers"] = [list(a) for a in self.subscribers]
                snap["permanent_subscribers"] = [list(a) for a in self.permanent]
                snap["marks"] = self.marks.state()
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
        if self.styles_watch and now - self._last_styles >= STYLES_CHECK_S:
            for name in self.styles_watch.changed():
                self.handle(Command("load", (name, 0.0)))
            self._last_styles = now
        if now - self._last_status >= STATUS_EVERY_S or self._params_dirty:
            self.expire()
            parts = [self.status().encode(), self.conductor.params.encode(), self.guards().encode(),
                     self.crowd_state().encode()]
            counts = self.sock.rejected.snapshot()
            if counts:
                parts.append(rejected_counts_message(counts))
            self.publish(bundle(*parts))
            self._last_status, self._params_dirty = now, False
            for watch in self.watchers:  # once a second too: a style loaded between ticks (/tc/load)
                watch()
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
        if self.provenance is not None and (verbatim := self.provenance.after_tick(tick)):
            self.publish(verbatim)
        if self.echo:
            self.echo(tick.char)
        if self.recorder:
            self.recorder.tick(tick)
        self.marks.observe(tick, self.conductor.params.temperature, self.conductor.params.mix)

    def mark(self, cmd: Command) -> None:
        """Keep or reject a passage: resolved to ticks, recorded (not as an event: replay skips it), told."""
        c = self.conductor
        self.marks.names = c.names
        try:
            m = self.marks.resolve(cmd.name, cmd.args, c.tick_index, c.params.seed)
        except CommandError as e:
            self.sock.rejected.add(e.reason, e.detail)
            return
        log.info("%s: ticks %d..%d (%d characters)", "kept" if m.kind == "keep" else "rejected", m.start_tick,
                 m.end_tick, len(m.text))
        if self.recorder:
            self.recorder.mark(m.line())
        self.publish(self.marks.marked(m.kind, m.start_tick, m.end_tick).encode())

    def advance(self, n: int) -> None:
        """An external clock's beat (`/tc/advance n`): n characters now, and the own rate held for
        EXTERNAL_CLOCK_HOLD_S. Not recorded: it decides when characters come, never which, so the
        record's events and text ticks replay the same text."""
        self._external_until = self.clock() + EXTERNAL_CLOCK_HOLD_S
        if not self.conductor.paused:
            for _ in range(n):
                self.step_once()

    def run(self, max_ticks: int | None = None) -> None:
        """Run until stop() (or max_ticks characters); survives any single bad command."""
        next_t = time.monotonic()
        produced = 0
        while not self.stopping.is_set():
            for cmd in self.sock.drain():
                self.handle(cmd)
            self.join_styles()
            now = time.monotonic()
            self._periodic(now)
            if self.conductor.paused or self.clock() < self._external_until:  # an external clock ticks
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
        for service in self.services:  # first, so discovery says goodbye while the engine still answers
            service.close()
        self.save()
        if self.recorder:
            self.recorder.close()
        self.sock.close()


def terminal_echo(char: str) -> None:
    """--print: the text as it is written, flushed per character (like a typewriter)."""
    sys.stdout.write(char)
    sys.stdout.flush()
