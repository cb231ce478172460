"""The score player: a thin shell that runs a `Timeline` against a clock and sends what is due.

It speaks to a `ScoreSink`: the protocol's `EngineConnection` headless (`textconductor perform`), the
window in the window (so a score moves the sliders and the puck like any controller). What it needs
to know comes in as two callables: `chars()`, the characters the engine has written (from the
subscription's ticks), and `weights()`, the mix as it stands (where a morph or a hand-back starts).

Taking over: `take_over()` suspends the score's weights (its settings, prime and pauses still play),
while the timeline goes on computing where the score's mix would be; `hand_back()` glides over
`rejoin_s` from wherever the performer left the mix to where the score has got to, then follows it.

Drive it with its own thread (`start`, headless) or by calling `tick()` from a UI timer, as the
autopilot is driven. Everything it sends reaches the engine as ordinary commands, so the engine's
performance record holds the score's every move at its tick, and `textconductor replay` replays it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from textconductor.controllers.base import guarded
from textconductor.controllers.score.parse import Score
from textconductor.controllers.score.timeline import Action, Timeline, blend, changed
from textconductor.protocol.client import EngineConnection
from textconductor.protocol.messages import Output, Status, Tick

log = logging.getLogger(__name__)

DEFAULT_FPS = 30.0  # morph frames a second: smooth at a typewriter's 10-20 chars/s
DEFAULT_REJOIN_S = 2.0


class ScoreSink(Protocol):
    """What a score plays: the `ControlSink` words plus prime and guard (an `EngineConnection` fits)."""

    def set_weights(self, weights: Mapping[str, float]) -> None: ...

    def control(self, name: str, value: float | str | None = None) -> None: ...

    def prime(self, text: str) -> None: ...

    def guard(self, on: bool | None = None, strength: float | None = None) -> None: ...


class ScorePlayer:
    """One performance of `score` on `sink`. `clock` is injectable (tests step time by hand)."""

    name = "score"

    def __init__(self, score: Score, sink: ScoreSink, chars: Callable[[], int],
                 weights: Callable[[], Mapping[str, float]], *, clock: Callable[[], float] = time.monotonic,
                 fps: float = DEFAULT_FPS, rejoin_s: float = DEFAULT_REJOIN_S,
                 on_say: Callable[[str], None] | None = None) -> None:
        if fps <= 0 or rejoin_s < 0:
            raise ValueError("fps must be > 0 and rejoin_s >= 0")
        self.score, self.sink = score, sink
        self.chars, self.weights, self.clock = chars, weights, clock
        self.fps, self.rejoin_s = fps, rejoin_s
        self.on_say = on_say
        self.timeline: Timeline | None = None
        self.taken_over = False
        self.sent = 0  # actions sent to the sink
        self._t0 = 0.0
        self._c0 = 0
        self._t = 0.0
        self._rejoin: tuple[float, dict[str, float]] | None = None  # (when handed back, the mix then)
        self._rejoin_sent: dict[str, float] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self.finished = threading.Event()
        self._thread: threading.Thread | None = None
        self._tick_guarded = guarded(self.tick, "score tick", log)

    # -- state ---------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        tl = self.timeline
        return tl is not None and tl.done

    @property
    def elapsed(self) -> float:
        """Seconds since the score began (as of the last tick)."""
        return self._t

    def describe(self) -> str:
        """One line for a status bar: "score 'Talk demo' 1:05, event 6/14 (pass 2), taken over"."""
        tl = self.timeline
        title = f"score {self.score.title!r}" if self.score.title else "score"
        if tl is None:
            return f"{title}: ready"
        if tl.done:
            return f"{title}: ended"
        m, s = divmod(int(self._t), 60)
        where = f"event {tl.next}/{len(self.score.events)}" + (f" (pass {tl.passes + 1})" if self.score.loop else "")
        state = ", taken over (hand back: H)" if self.taken_over else ", rejoining" if self._rejoin else ""
        return f"{title} {m}:{s:02d}, {where}{state}"

    # -- hand-over -----------------------------------------------------------------------------
    def take_over(self) -> None:
        """The performer moved a weight control: the score's weights stop reaching the engine."""
        with self._lock:
            if not self.taken_over:
                log.info("score: the performer took over the weights")
            self.taken_over, self._rejoin = True, None

    def hand_back(self, now: float | None = None) -> None:
        """The score has the weights again: a glide of `rejoin_s` from the mix as it stands."""
        with self._lock:
            if not self.taken_over:
                return
            self.taken_over = False
            self._rejoin = (self.clock() if now is None else now, dict(self.weights()))
            self._rejoin_sent = dict(self._rejoin[1])
            log.info("score: handed back; rejoining the score's mix over %g s", self.rejoin_s)

    # -- the clock -------------------------------------------------------------------------------
    def begin(self, now: float | None = None) -> None:
        """Time and characters count from here; the timeline starts from the engine's mix as it stands."""
        with self._lock:
            self._t0 = self.clock() if now is None else now
            self._c0 = self.chars()
            self._t = 0.0
            self.timeline = Timeline(self.score, self.weights())
            log.info("score %s: %d events%s", self.score.title or self.score.source, len(self.score.events),
                     ", looping" if self.score.loop else "")

    def tick(self, now: float | None = None) -> list[Action]:
        """Advance to `now`; the actions sent (weights while taken over are computed, not sent)."""
        with self._lock:
            if self.timeline is None:
                self.begin(now)
            tl = self.timeline
            assert tl is not None
            now = self.clock() if now is None else now
            self._t = max(now - self._t0, 0.0)
            actions = tl.advance(self._t, max(self.chars() - self._c0, 0))
            for e in tl.fired:
                log.info("score event %d (%s)%s", e.number, e.describe_trigger(),
                         " [weights held: taken over]" if self.taken_over and e.weights is not None else "")
            out = [a for a in actions if a.kind != "weights" or not (self.taken_over or self._rejoin)]
            if self._rejoin is not None:
                out += self._rejoin_frame(now)
            for a in out:
                self._send(a)
            if tl.done:
                self.finished.set()
            return out

    def _rejoin_frame(self, now: float) -> list[Action]:
        """One frame of the glide from the performer's mix to the score's (which may itself be morphing)."""
        assert self.timeline is not None and self._rejoin is not None
        t0, start = self._rejoin
        target = self.timeline.weights
        if self.rejoin_s <= 0 or now - t0 >= self.rejoin_s:
            self._rejoin = None
            return [Action("weights", dict(target))]
        w = blend(start, target, (now - t0) / self.rejoin_s)
        diff = changed(w, self._rejoin_sent)
        self._rejoin_sent.update(w)
        return [Action("weights", diff)] if diff else []

    def _send(self, a: Action) -> None:
        s = self.sink
        if a.kind == "weights":
            if a.value:
                s.set_weights(a.value)
        elif a.kind in ("temperature", "rate", "mix"):
            s.control(a.kind, a.value)
        elif a.kind in ("pause", "resume"):
            s.control(a.kind)
        elif a.kind == "guard":
            s.guard(*a.value)
        elif a.kind == "prime":
            s.prime(a.value)
        elif a.kind == "say":
            log.info("score, event %d: %s", a.event, a.value)
            if self.on_say is not None:
                self.on_say(a.value)
        self.sent += 1

    # -- its own thread ----------------------------------------------------------------------------
    def start(self) -> None:
        """Begin now and tick at `fps` on an own thread until the score ends or `stop()`."""
        self._stop.clear()
        self.begin()
        self._thread = threading.Thread(target=self._loop, name="score", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._tick_guarded()
            if self.done:
                return
            self._stop.wait(1.0 / self.fps)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def wait(self, timeout: float | None = None) -> bool:
        """True once the score has ended (a looping score never does)."""
        return self.finished.wait(timeout)


class ScoreConnection:
    """The engine as a score needs it headless: an `EngineConnection` that subscribes (ticks arrive),
    counts the characters the engine has written, and knows its mix. `on_tick` sees every tick."""

    def __init__(self, host: str, port: int, on_tick: Callable[[Tick], None] | None = None) -> None:
        self.on_tick = on_tick
        self._written = 0
        self.counting = threading.Event()  # set once the engine has said how much it has written
        self.conn = EngineConnection(host, port, subscribe=True, on_message=self._on_message)

    def _on_message(self, msg: Output) -> None:
        if isinstance(msg, Tick):
            self._written = max(self._written, msg.tick + 1)
            self.counting.set()
            if self.on_tick is not None:
                self.on_tick(msg)
        elif isinstance(msg, Status):
            self._written = max(self._written, msg.tick)
            self.counting.set()

    def wait_for_engine(self, timeout: float) -> bool:
        """True once the engine has answered with its styles and its character count (a score that
        began before the count was known would take the engine's whole past for its own)."""
        deadline = time.monotonic() + timeout
        return (self.conn.wait_for_engine(timeout)
                and self.counting.wait(max(deadline - time.monotonic(), 0.0)))

    @property
    def styles(self) -> list[str]:
        return self.conn.styles

    def chars(self) -> int:
        """Characters the engine has written since it started (a lost tick datagram does not matter:
        the count is the engine's own tick number)."""
        return self._written

    def weights(self) -> dict[str, float]:
        return self.conn.client.weights

    def player(self, score: Score, **kwargs) -> ScorePlayer:
        return ScorePlayer(score, self.conn, self.chars, self.weights, **kwargs)

    def close(self) -> None:
        self.conn.close()
