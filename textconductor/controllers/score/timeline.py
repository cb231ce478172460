"""The score's timeline, without I/O or a clock: given the time and the characters so far, what is due.

`Timeline.advance(t, chars)` fires every event whose moment has come (in file order) and returns the
`Action`s to send: settings as they are, an event's weights as the whole mix, a morph's frames as
the styles that moved. A `morph` is a pure
function of time, like a preset's morph in the window (eased by smoothstep): a player that ticks late
only skips frames, it never arrives late or overshoots. Timed events fire at their own time, not at
the moment the player noticed them, so a morph's midpoint is where the score says, whatever the
player's frame rate.

Weights in a score are the whole mix: a style an event does not name goes to 0 (`linux = 1` then
`bible = 1` is a hard switch, not a blend). The timeline keeps the weights the score wants now
(`weights`) whether or not they are sent, so a player whose performer has taken over can hand back
and glide from where the performer left the mix to where the score has got to (`blend`).

A pass ends at `length` seconds, or (without one) once the last event has fired and its morph has
ended. A looping score then starts its next pass: times and character counts count from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from textconductor.controllers.score.parse import Event, Score

EPS = 1e-6  # weights closer than this are the same (no datagram for a change nobody can hear)


@dataclass(frozen=True)
class Action:
    """One thing to send: kind is weights | temperature | rate | mix | guard | prime | pause | resume | say."""

    kind: str
    value: Any = None  # weights: {style: w} (only the changed ones); guard: (on | None, strength | None)
    event: int = 0  # the event number that caused it (a morph's frames carry their event's)


@dataclass(frozen=True)
class Morph:
    start: dict[str, float]
    end: dict[str, float]
    t0: float  # seconds since the score started
    seconds: float
    event: int

    def at(self, t: float) -> dict[str, float]:
        return blend(self.start, self.end, (t - self.t0) / self.seconds)


def smoothstep(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return u * u * (3 - 2 * u)


def blend(start: Mapping[str, float], end: Mapping[str, float], u: float) -> dict[str, float]:
    """Weights a fraction `u` (0..1, eased) of the way from `start` to `end`; a missing style counts as 0."""
    s = smoothstep(u)
    names = dict.fromkeys([*start, *end])
    return {n: (1 - s) * start.get(n, 0.0) + s * end.get(n, 0.0) for n in names}


def changed(new: Mapping[str, float], old: Mapping[str, float]) -> dict[str, float]:
    """The styles of `new` whose weight differs from `old`'s (a missing one counts as 0)."""
    return {n: w for n, w in new.items() if abs(w - old.get(n, 0.0)) > EPS}


class Timeline:
    """Where a score has got to. `start_weights`: the engine's mix when the score began (every style
    the engine has, so a score's weights can send the unnamed ones to 0)."""

    def __init__(self, score: Score, start_weights: Mapping[str, float] | None = None) -> None:
        self.score = score
        self.weights: dict[str, float] = {n: float(w) for n, w in (start_weights or {}).items()}
        for n in score.styles:
            self.weights.setdefault(n, 0.0)
        self.passes = 0  # completed passes (a looping score)
        self.next = 0  # index of the next event in this pass
        self.pass_t0 = 0.0  # when this pass began (seconds since the score started)
        self.pass_c0 = 0  # characters written when this pass began
        self.morph: Morph | None = None
        self.done = False
        self.fired: list[Event] = []  # the events the last `advance` fired
        self._last_fire = 0.0  # when the latest event of this pass fired
        self._morph_end = 0.0  # when the latest weights event of this pass arrives at its mix

    @property
    def pass_end(self) -> float | None:
        """When this pass ends (seconds since the score started), or None while that depends on what
        has not happened yet (an event waiting for characters)."""
        if self.score.length is not None:
            return self.pass_t0 + self.score.length
        if self.next < len(self.score.events):
            return None
        return max(self._last_fire, self._morph_end)

    def _due(self, e: Event, t: float, chars: int) -> bool:
        if e.at is not None:
            return t - self.pass_t0 >= e.at - 1e-9
        return chars - self.pass_c0 >= e.chars  # type: ignore[operator]

    def advance(self, t: float, chars: int) -> list[Action]:
        """Everything due by `t` seconds and `chars` characters since the score started, in order."""
        out: list[Action] = []
        self.fired = []
        if self.done:
            return out
        for _ in range(2):  # this pass, and (looping) the next one's first events at its very start
            events = self.score.events
            while self.next < len(events) and self._due(events[self.next], t, chars):
                e = events[self.next]
                self.next += 1
                self.fired.append(e)
                fired = self.pass_t0 + e.at if e.at is not None else t
                self._last_fire = max(self._last_fire, fired)
                out += self._fire(e, fired)
            out += self._morph_frame(t)
            end = self.pass_end
            if end is None or t < end:
                break
            if self.morph is not None:  # a pass cut short by its length: the morph lands where it was going
                out += self._morph_frame(self.morph.t0 + self.morph.seconds)
            if not self.score.loop:
                self.done = True
                break
            self.passes += 1
            self.next, self.pass_t0, self.pass_c0 = 0, end, chars
            self._last_fire = self._morph_end = end
        return out

    def _fire(self, e: Event, fired: float) -> list[Action]:
        """An event's actions in the order they should reach the engine: resume before anything plays,
        settings before the weights, the prime after them (so a style coming in reads it), pause last."""
        n = e.number
        out = [Action("say", e.say, n)] if e.say is not None else []
        if e.pause is False:
            out.append(Action("resume", None, n))
        for kind in ("mix", "temperature", "rate"):
            value = getattr(e, kind)
            if value is not None:
                out.append(Action(kind, value, n))
        if e.guard is not None or e.guard_strength is not None:
            out.append(Action("guard", (e.guard, e.guard_strength), n))
        if e.weights is not None:
            out += self._morph_frame(fired)  # a running morph first gets to where it is now
            self._morph_end = fired + e.morph
            target = {name: float(e.weights.get(name, 0.0)) for name in dict.fromkeys([*self.weights, *e.weights])}
            if e.morph > 0:
                self.morph = Morph(dict(self.weights), target, fired, e.morph, n)
            else:
                self.morph = None
                self.weights.update(target)
                out.append(Action("weights", target, n))  # the whole mix: the engine then holds exactly it
        if e.prime is not None:
            out.append(Action("prime", e.prime, n))
        if e.pause is True:
            out.append(Action("pause", None, n))
        return out

    def _morph_frame(self, t: float) -> list[Action]:
        m = self.morph
        if m is None or t < m.t0:
            return []
        now = m.at(t)
        if t >= m.t0 + m.seconds:
            now, self.morph = dict(m.end), None
        diff = changed(now, self.weights)
        self.weights.update(now)
        return [Action("weights", diff, m.event)] if diff else []
