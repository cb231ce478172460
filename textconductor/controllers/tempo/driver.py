"""The tempo driver: characters on the beat grid, sent to the engine as `/tc/advance`.

One thread. It reads the source's timeline, sleeps until the next grid slot, and sends
`/tc/advance n` then (n is 1, or up to MAX_BURST after a stall). Between characters it sends
`/tc/advance 0` every KEEPALIVE_S so the engine keeps its own rate silent; when the beat stops (no
clock, MIDI Stop) it sends nothing and the engine plays on at its own rate after
EXTERNAL_CLOCK_HOLD_S, at the tempo's rate, which the driver keeps `/tc/rate` set to.

With bar lines on it subscribes to the engine's ticks and primes a newline after the first space
near each bar line (schedule.BarLines): a recorded `/tc/prime`, so the record replays it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from textconductor.controllers.tempo.schedule import BarLines, CharGrid, Timeline
from textconductor.protocol.client import EngineConnection
from textconductor.protocol.commands import ADDRESS, RATE_RANGE
from textconductor.protocol.defaults import EXTERNAL_CLOCK_HOLD_S
from textconductor.protocol.messages import Tick
from textconductor.protocol.ratelimit import FailureLog

log = logging.getLogger(__name__)

KEEPALIVE_S = EXTERNAL_CLOCK_HOLD_S / 4  # three lost datagrams in a row still hold the engine's clock
RATE_EVERY_S = 1.0  # /tc/rate follows the tempo at most this often ...
RATE_CHANGE = 0.02  # ... and only when it moved by more than 2%
LATE_OK_BEATS = 1 / 24  # after a jump, a slot this far behind still plays (the downbeat on Start)
COARSE_S = 0.02  # sleep in steps while the next slot is further than this, re-reading the timeline


class BeatSource(Protocol):
    epoch: int

    def timeline(self) -> Timeline | None: ...


class TempoDriver:
    """Plays `engine` on the beat grid of `source`. `start()`, `stop()`; thread-safe counters."""

    def __init__(self, source: BeatSource, engine: EngineConnection, chars_per_beat: float,
                 bars: BarLines | None = None, follow_rate: bool = True,
                 clock: Callable[[], float] = time.monotonic,
                 on_advance: Callable[[float, int], None] | None = None) -> None:
        self.source, self.engine = source, engine
        self.grid = CharGrid(chars_per_beat)
        self.bars = bars
        self.follow_rate = follow_rate
        self.clock = clock
        self.on_advance = on_advance  # (slot time, n): for the benchmark's ideal grid
        self.advanced = 0  # characters asked for
        self.newlines = 0
        self._epoch = -1
        self._last_send = float("-inf")
        self._rate_sent: float | None = None
        self._rate_at = float("-inf")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="tempo", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    # -- the loop ------------------------------------------------------------------------------
    def _run(self) -> None:
        failures = FailureLog(log, "the tempo driver")  # a failing source must not stop the beat, nor flood the log
        while not self._stop.is_set():
            try:
                self.step()
            except Exception as e:  # noqa: BLE001 - see above
                failures.failed(e)
                self._stop.wait(0.1)

    def step(self) -> None:
        """Wait for the next slot (at most COARSE_S at a time) and send what is due."""
        tl = self.source.timeline()
        now = self.clock()
        if tl is None:
            self._stop.wait(0.01)
            return
        if self.source.epoch != self._epoch:
            self._epoch = self.source.epoch
            self.grid.relocate(tl.beat_at(now) - LATE_OK_BEATS)
        t_next = tl.time_of(self.grid.next_beat(tl.beat_at(now)))
        wait = t_next - now
        if wait > COARSE_S:
            self._keepalive(now)
            self._follow_rate(tl, now)
            self._stop.wait(min(wait - COARSE_S / 2, 0.05))
            return
        if wait > 0:  # the last stretch in one sleep (measured: spinning instead is later on a busy machine)
            time.sleep(wait)
            now = self.clock()
        n = self.grid.due(tl.beat_at(max(now, t_next)))
        if n:
            self.engine.send(ADDRESS["advance"], n)
            self.advanced += n
            self._last_send = now
            if self.on_advance is not None:
                self.on_advance(t_next, n)
        self._follow_rate(tl, now)  # also here: at hundreds of characters a second no wait is coarse

    def _keepalive(self, now: float) -> None:
        if now - self._last_send >= KEEPALIVE_S:
            self.engine.send(ADDRESS["advance"], 0)
            self._last_send = now

    def _follow_rate(self, tl: Timeline, now: float) -> None:
        """Keep the engine's own rate at the tempo's, for when the beat stops (and for its window)."""
        if not self.follow_rate or now - self._rate_at < RATE_EVERY_S:
            return
        rate = min(max(tl.bpm / 60.0 * self.grid.chars_per_beat, RATE_RANGE[0]), RATE_RANGE[1])
        if self._rate_sent is None or abs(rate - self._rate_sent) > RATE_CHANGE * self._rate_sent:
            self.engine.send(ADDRESS["rate"], float(rate))
            self._rate_sent, self._rate_at = rate, now

    # -- the engine's ticks (bar lines) ------------------------------------------------------
    def on_message(self, msg: Any) -> None:
        """EngineConnection's callback: each tick through the bar-line rule."""
        if self.bars is None or not isinstance(msg, Tick):
            return
        tl = self.source.timeline()
        if tl is None:
            return
        if self.bars.after_char(msg.char, tl.beat_at(self.clock())):
            self.engine.send(ADDRESS["prime"], "\n")
            self.newlines += 1

    def transport(self, event: str) -> None:
        """MIDI Start / Continue resume the engine, Stop pauses it (a sequencer's transport)."""
        self.engine.control("pause" if event == "stop" else "resume")
        log.info("transport: %s", event)
