"""What a phone may send, as pure functions: one websocket text frame -> a `Move`, `Prime`, `Ping`
or a `Bad` with a fixed reason (counted per reason, never raised). And the per-connection rate limit.

A phone sends small JSON objects: `{"t": "move", "x": 0.3, "y": -0.2}` (its puck, circle units,
y up), `{"t": "ping"}` (still here), and, only if the operator allows it, `{"t": "prime", "text":
"..."}`. Anything else is rejected: frames over MAX_FRAME bytes, binary frames, bad JSON, NaN or
infinity (JSON's `NaN` literal included), numbers out of range, unknown types. The reasons are
fixed phrases so the counters stay few and an operator can read them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

MAX_FRAME = 512  # bytes: a move is ~40; a prime's text is capped far below this
MAX_PRIME = 140  # characters a phone may write into the text at once
COORD_LIMIT = 1.2  # |x|, |y| beyond this is not a puck on the page (the page clamps to 1.15)
PUCK_DISC = 1.15  # the window's puck is kept inside this radius (puck_geometry.clamp_to_disc)


@dataclass(frozen=True)
class Move:
    x: float
    y: float


@dataclass(frozen=True)
class Prime:
    text: str


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Bad:
    reason: str


Incoming = Move | Prime | Ping | Bad


def _no_constants(name: str) -> float:
    raise ValueError(name)  # NaN, Infinity, -Infinity: Python's json would accept them


def _coordinate(v: object) -> float | Bad:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return Bad("coordinate is not a number")
    f = float(v)
    if not math.isfinite(f):
        return Bad("NaN or infinite")
    if abs(f) > COORD_LIMIT:
        return Bad("out of range")
    return f


def parse_frame(text: str) -> Incoming:
    """One text frame from a phone; never raises."""
    if len(text) > MAX_FRAME or len(text.encode("utf-8", "replace")) > MAX_FRAME:
        return Bad("oversized frame")
    try:
        obj = json.loads(text, parse_constant=_no_constants)
    except ValueError as e:
        return Bad("NaN or infinite" if str(e) in ("NaN", "Infinity", "-Infinity") else "bad JSON")
    except RecursionError:
        return Bad("bad JSON")
    if not isinstance(obj, dict):
        return Bad("not an object")
    kind = obj.get("t")
    if kind == "move":
        x, y = _coordinate(obj.get("x")), _coordinate(obj.get("y"))
        for v in (x, y):
            if isinstance(v, Bad):
                return v
        r = math.hypot(x, y)  # type: ignore[arg-type]
        if r > PUCK_DISC:  # a finger just past the rim: on the rim, as the window's puck does
            x, y = x * PUCK_DISC / r, y * PUCK_DISC / r  # type: ignore[operator]
        return Move(float(x), float(y))  # type: ignore[arg-type]
    if kind == "ping":
        return Ping()
    if kind == "prime":
        t = obj.get("text")
        if not isinstance(t, str) or not t.strip():
            return Bad("prime text is not a string")
        if len(t) > MAX_PRIME:
            return Bad("prime text too long")
        return Prime(t)
    return Bad("unknown message type")


class TokenBucket:
    """At most `rate` events a second on average, `burst` at once. The caller passes `now`."""

    def __init__(self, rate: float, burst: float, now: float = 0.0) -> None:
        self.rate, self.burst = float(rate), float(burst)
        self.tokens, self.last = float(burst), now

    def allow(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
