"""Autopilot: when nobody has touched anything for a while, the puck wanders by itself.

For the gallery: the piece keeps moving for days, unattended. Two parts:

* `wander(t, seed, positions, leg_s)` (pure): the puck position at path time `t`. The path goes
  through one waypoint per leg, near a style on the circle; each cycle of legs visits every
  enabled style once, in an order shuffled per cycle from the seed. Between waypoints it follows
  a Catmull-Rom curve with eased timing, so it slows down near each style (that style's text
  settles in) and drifts through mixtures in between. Same seed and styles -> same path.
* `Autopilot` (the shell): counts idle time, and once `idle_s` passed without real input it
  advances path time and calls `sink.set_puck`. `input_seen()` (called for every real input,
  e.g. through `protocol.controls.ActivitySink`) stops it at once; it resumes after the idle time again, gliding
  from where the performer left the puck and continuing its path where it stopped.

Drive it either with its own thread (`start`) or by calling `tick()` from a UI timer.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Sequence

from textconductor.controllers.base import Controller, ControlSink, guarded
from textconductor.controllers.puck import clamp_to_disc, style_positions
from textconductor.protocol.defaults import AUTOPILOT_IDLE_S, AUTOPILOT_LEG_S

log = logging.getLogger(__name__)

Point = tuple[float, float]

# Waypoints sit this far out towards a style (the puck's circle has radius 1): close enough that
# the style dominates under inverse-distance weights, not on top of it, so neighbours still colour.
WAYPOINT_RADIUS = (0.72, 0.9)
WAYPOINT_JITTER = 0.12  # radians of sideways wobble, so repeated visits differ
MAX_RADIUS = 0.97


def _cycle_order(seed: int, cycle: int, n: int) -> list[int]:
    """The order the styles are visited in `cycle`: a permutation from (seed, cycle), never
    starting with the style the previous cycle ended on (no standing still across a boundary)."""
    order = list(range(n))
    random.Random(f"tc-autopilot:{seed}:{cycle}").shuffle(order)
    if cycle > 0 and n > 1:
        prev = list(range(n))
        random.Random(f"tc-autopilot:{seed}:{cycle - 1}").shuffle(prev)
        if order[0] == prev[-1]:
            order[0], order[-1] = order[-1], order[0]
    return order


def waypoint(k: int, seed: int, positions: Sequence[Point]) -> Point:
    """The k-th waypoint: near style `order[k mod n]` of cycle k // n (k may be negative)."""
    n = len(positions)
    if n == 0:
        return 0.0, 0.0
    cycle, i = divmod(k, n)
    style = _cycle_order(seed, cycle, n)[i]
    rng = random.Random(f"tc-autopilot-wp:{seed}:{k}")
    px, py = positions[style]
    angle = math.atan2(py, px) + rng.uniform(-WAYPOINT_JITTER, WAYPOINT_JITTER)
    r = rng.uniform(*WAYPOINT_RADIUS) * min(1.0, math.hypot(px, py) or 1.0)
    return r * math.cos(angle), r * math.sin(angle)


def _smoothstep(u: float) -> float:
    return u * u * (3 - 2 * u)


def _catmull_rom(p0: Point, p1: Point, p2: Point, p3: Point, u: float) -> Point:
    u2, u3 = u * u, u * u * u
    return tuple(  # type: ignore[return-value]
        0.5 * (2 * b + (-a + c) * u + (2 * a - 5 * b + 4 * c - d) * u2 + (-a + 3 * b - 3 * c + d) * u3)
        for a, b, c, d in zip(p0, p1, p2, p3, strict=True))


def wander(t: float, seed: int, positions: Sequence[Point], leg_s: float = AUTOPILOT_LEG_S) -> Point:
    """Puck position at path time `t` seconds: waypoint k at t = k * leg_s, smooth in between.

    Continuous with continuous velocity (zero at each waypoint, where it lingers), inside the
    disc of radius MAX_RADIUS. A cycle of len(positions) legs visits every style.
    """
    if leg_s <= 0:
        raise ValueError("leg_s must be > 0")
    if not positions:
        return 0.0, 0.0
    k = math.floor(t / leg_s)
    u = _smoothstep(t / leg_s - k)
    pts = [waypoint(k + j, seed, positions) for j in (-1, 0, 1, 2)]
    x, y = _catmull_rom(*pts, u)
    return clamp_to_disc(x, y, MAX_RADIUS)


class Autopilot(Controller):
    """Idle timer + path clock around `wander`, handing over to real input at once.

    `clock` is injectable (tests drive time by hand). `positions(names)` places the enabled styles
    (default: evenly on the circle, as the puck does).
    """

    name = "autopilot"

    def __init__(self, idle_s: float = AUTOPILOT_IDLE_S, seed: int = 0, leg_s: float = AUTOPILOT_LEG_S,
                 fps: float = 20.0, glide_s: float = 3.0, clock: Callable[[], float] = time.monotonic,
                 positions: Callable[[Sequence[str]], Sequence[Point]] | None = None,
                 on_state: Callable[[bool], None] | None = None) -> None:
        if idle_s < 0 or leg_s <= 0 or fps <= 0 or glide_s < 0:
            raise ValueError("idle_s and glide_s must be >= 0, leg_s and fps > 0")
        self.idle_s, self.seed, self.leg_s, self.fps, self.glide_s = idle_s, seed, leg_s, fps, glide_s
        self.clock = clock
        self.positions = positions or (lambda names: style_positions(len(names)))
        self.on_state = on_state
        self.path_t = 0.0  # seconds of wandering so far: the path resumes where it stopped
        self.active = False
        self.last_point: Point | None = None
        self._sink: ControlSink | None = None
        self._lock = threading.RLock()
        self._last_input = clock()
        self._last_tick: float | None = None
        self._glide_from: Point = (0.0, 0.0)
        self._glide_t = 0.0
        self._styles: tuple[str, ...] = ()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tick_guarded = guarded(self.tick, "autopilot tick", log)

    # -- Controller --------------------------------------------------------------------------
    def start(self, sink: ControlSink) -> None:
        """Run on an own thread at `fps`. (A UI may instead call `bind(sink)` and `tick()` from a timer.)"""
        self.bind(sink)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="autopilot", daemon=True)
        self._thread.start()
        log.info("autopilot: wanders after %g s without input (seed %d)", self.idle_s, self.seed)

    def bind(self, sink: ControlSink) -> None:
        with self._lock:
            self._sink = sink
            self._last_input = self.clock()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            self._set_active(False, "stopped")

    def _loop(self) -> None:
        while not self._stop.wait(1.0 / self.fps):
            self._tick_guarded()

    # -- hand-over -----------------------------------------------------------------------------
    def input_seen(self, puck: Point | None = None) -> None:
        """Real input happened: stop wandering now (no set_puck after this returns) and restart the idle
        timer. `puck`: where the performer put the puck, so the next wander glides from there."""
        with self._lock:
            self._last_input = self.clock()
            if puck is not None:
                self.last_point = (float(puck[0]), float(puck[1]))
            self._set_active(False)

    def _set_active(self, on: bool, why: str = "handed over to the performer") -> None:
        if on == self.active:
            return
        self.active = on
        log.info("autopilot %s", "wandering" if on else why)
        if self.on_state is not None:
            guarded(self.on_state, "autopilot state callback", log)(on)

    def tick(self, now: float | None = None) -> Point | None:
        """Advance to `now`; the point sent to the sink, or None while idle time has not passed."""
        with self._lock:
            now = self.clock() if now is None else now
            sink = self._sink
            if sink is None or now - self._last_input < self.idle_s:
                self._last_tick = None
                return None
            names = tuple(sink.enabled_styles())
            if not self.active or names != self._styles:
                # Start (or the style set changed): glide from the current puck onto the path.
                self._glide_from = self.last_point or (0.0, 0.0)
                self._glide_t = 0.0
                self._styles = names
                self._set_active(True)
                self._last_tick = now
            # A stalled timer (suspend, a long GC) must not jump the puck across the circle.
            dt = min(max(now - (self._last_tick if self._last_tick is not None else now), 0.0), 0.5)
            self._last_tick = now
            self.path_t += dt
            self._glide_t += dt
            x, y = wander(self.path_t, self.seed, self.positions(names), self.leg_s)
            if self._glide_t < self.glide_s:
                a = _smoothstep(self._glide_t / self.glide_s)
                fx, fy = self._glide_from
                x, y = fx + (x - fx) * a, fy + (y - fy) * a
            self.last_point = (x, y)
            sink.set_puck(x, y)
            return x, y
