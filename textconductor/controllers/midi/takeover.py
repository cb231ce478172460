"""Soft takeover ("pickup"): a fader drives its value only once it has reached that value. Pure.

Why: a preset, a morph, the autopilot or a score moves a style while the physical fader stays
where the performer left it. Without pickup the next touch of that fader makes the value jump to
the fader's position, audibly (the text lurches into another style). With pickup the move is held
until the fader reaches the value, and from there on it drives it smoothly, as on a DAW's
control surface. Positions are the fader's travel, 0..1; values the engine reports are converted
to that scale by the mapping (`mapping.MidiMap`), so a log-scaled knob picks up where it looks right.

The rules, for one target (one style, temperature or rate):

1. Nothing known about the value yet (no engine heard from, no value source): a move acts, as
   before pickup existed; there is nothing to protect.
2. A fader that has picked the value up drives it; each position it sends is remembered.
3. A fader that has not picked up yet is held, unless its position is within `tolerance` of the
   value (about two MIDI steps), or it crossed the value since its previous position (a fast
   move skips steps, so "equal" alone would miss it). Then it picks up and acts on this move.
   The first message of a control seen for the first time has no previous position: only the
   tolerance counts.
4. A report of the value (`observe`) that matches a position this fader sent in the last `ECHO_S`,
   or the value it took over from, is its own echo or older (the engine's answers lag the fader
   by a few milliseconds): nothing changes, nothing is fed back (a motorised fader must not be
   pulled back to where it just was). Not even when the fader has lost pickup meanwhile: then
   the echo is older than the change that took the pickup away (it crossed it on the wire).
   After `ECHO_S` the same value is news again (a preset recalling where the fader once was).
5. Any other change is someone else's: the value is updated, the fader loses pickup unless it
   stands within tolerance of the new value, and the change is worth showing on the controller
   (MIDI feedback). The first value ever learned counts as such a change.
6. Another physical control starting to drive the same target (a positional CC and a learned
   one) starts unpicked: its position says nothing about where the value is.
7. Mode "jump" acts on every move (the behaviour before pickup); rules 4-5 still keep the value
   known so feedback works the same.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

TAKEOVER_MODES = ("pickup", "jump")
DEFAULT_TAKEOVER = "pickup"
# Close enough to take over: two 7-bit steps. One step would miss a fader that moves in steps of 2-3
# (most do, moved at a normal speed); the crossing rule covers faster moves.
PICKUP_TOLERANCE = 2 / 127
# Two positions closer than this are the same value: float32 on the wire and log-scale round trips
# move a position by ~1e-7, while the smallest change a fader makes (one MIDI step) is 0.008.
SAME = 1e-4
# How long, and how many of, its own positions a fader recognises as echoes. The value sources lag
# the fader by a round trip or a GUI-thread hop (milliseconds; a stalled window a few hundred), and a
# fader sends ~100-300 messages a second. Longer would mistake a preset recalling a value the fader
# passed just before for an echo: that change is then taken up only when the echo window has passed,
# and a fader touched again within it would still drive (a sweep, a preset and a touch within half a
# second: a machine's timing, not a performer's).
ECHO_S = 0.5
RECENT = 256


class Pickup:
    """The soft-takeover state of one target. Not thread-safe: the owning `MidiMap` locks around it."""

    __slots__ = ("by", "fader", "picked", "recent", "tolerance", "value")

    def __init__(self, tolerance: float = PICKUP_TOLERANCE) -> None:
        self.value: float | None = None  # the target's value as a fader position, if known
        self.fader: float | None = None  # where the driving control was last seen
        self.by: object | None = None  # which control that was (a `mapping.Source`)
        self.picked = False
        self.tolerance = tolerance
        self.recent: deque[tuple[float, float]] = deque(maxlen=RECENT)  # (position, when)

    def move(self, pos: float, by: object = None, jump: bool = False, now: float = 0.0) -> bool:
        """The control `by` moved to `pos` at time `now` (s); True if the move acts (rules 1-3, 6, 7)."""
        if by != self.by:
            self.by, self.fader, self.picked = by, None, False
        prev, self.fader = self.fader, pos
        if not (jump or self.picked or self.value is None):
            near = abs(pos - self.value) <= self.tolerance
            crossed = prev is not None and (prev - self.value) * (pos - self.value) < 0
            if not (near or crossed):
                return False
        if not self.picked and self.value is not None:
            self.recent.append((self.value, now))  # a report of the value it took over from may be on its way
        self.picked = True
        self.value = pos
        self.recent.append((pos, now))
        return True

    def observe(self, pos: float, now: float = 0.0) -> bool:
        """The value is now `pos` (from the engine, a preset, the autopilot...) at time `now` (s); True
        if that is a change by someone other than this fader (rules 4, 5)."""
        if self.value is not None and abs(pos - self.value) <= SAME:
            return False
        if any(abs(pos - r) <= SAME for r in self._echoes(now)):
            return False
        self.value = pos
        self.picked = self.fader is not None and abs(self.fader - pos) <= self.tolerance
        return True

    def _echoes(self, now: float) -> Iterator[float]:
        return (p for p, t in self.recent if now - t <= ECHO_S)

    def direction(self) -> str:
        """Which way the held fader must move to take over: 'up', 'down' or '' (not held)."""
        if self.picked or self.value is None or self.fader is None:
            return ""
        return "up" if self.value > self.fader else "down"

    def __repr__(self) -> str:
        return f"Pickup(value={self.value}, fader={self.fader}, picked={self.picked})"
