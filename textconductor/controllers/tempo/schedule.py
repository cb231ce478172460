"""The tempo controller's pure core: clock pulses -> a beat timeline -> a grid of characters.

No I/O and no clock of its own: every method takes the time it is about, so the tests feed pulse
trains with known jitter and the shells (MIDI clock, Ableton Link, a timer) feed real ones.

Why a timeline and not "one character per n pulses": a pulse's arrival carries the transport's
jitter (JACK delivers once per period, a USB interface in 1 ms frames); firing a character on
each arrival would pass that jitter on. A least-squares line through the last pulses estimates
the tempo and the phase together, and characters are scheduled on that line, ahead of time, so
their jitter is the line's error, not the last pulse's. And why not `/tc/rate` set from the tempo:
the engine's own clock would drift in phase against the beat (an error in the rate adds up), so
the characters are placed on the beat grid one by one (`/tc/advance`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

PPQN = 24  # MIDI clock: pulses per quarter note
BPM_RANGE = (20.0, 400.0)  # what the followers accept as a tempo; outside it the clock is ignored
CHARS_PER_BEAT_RANGE = (1 / 16, 64.0)
FIT_PULSES = 48  # two beats of pulses in the line: smooths ~20 ms of transport jitter to well under 1 ms
MIN_PULSES = 6  # a quarter of a beat before a tempo is believed
GAP_PULSES = 24.0  # a silence of a beat (or GAP_MIN_S) means the clock stopped; shorter ones, lost pulses
GAP_MIN_S = 0.3
LOST_GAP = 1.75  # a gap of this many intervals ...
LOST_AHEAD = 0.8  # ... that puts a pulse this far behind the line means lost pulses (a late one is less) ...
EARLY = 0.4  # ... unless the next one is this far ahead of the line (they were late, not lost)
MAX_BURST = 2  # after a stall, at most this many characters at once; the rest are skipped, counted


@dataclass(frozen=True)
class Timeline:
    """Where the beat is at any moment: beat(t) = beat0 + (t - t0) * bpm / 60."""

    t0: float
    beat0: float
    bpm: float

    def beat_at(self, t: float) -> float:
        return self.beat0 + (t - self.t0) * self.bpm / 60.0

    def time_of(self, beat: float) -> float:
        return self.t0 + (beat - self.beat0) * 60.0 / self.bpm


class ClockFollower:
    """MIDI clock (24 pulses per quarter note, Start / Stop / Continue / Song Position) -> Timeline.

    Beat 0 is the first pulse after Start (MIDI's rule: Start, then the first clock is the downbeat);
    a clock that runs without a Start counts from its first pulse. A silence longer than a few pulse
    intervals (a cable pulled, a clock source that stops without Stop) empties the fit, so a tempo
    after the gap is not averaged with the one before it.
    """

    def __init__(self, fit_pulses: int = FIT_PULSES) -> None:
        self.fit_pulses = fit_pulses
        self._pulses: deque[tuple[float, int]] = deque(maxlen=fit_pulses)  # (time, pulse count)
        self.count = 0  # the count the next pulse gets
        self.running = True  # False between Stop and Start/Continue: pulses then move nothing
        self.pulses = 0  # received, for status lines
        self.ignored = 0  # pulses that did not fit (while stopped, tempo out of range)
        self.lost = 0  # pulses inferred lost in transport (a gap of two intervals or more, up to a beat)
        self._inferred = 0  # of them, at the last pulse (undone if it was a burst after all)
        self._timeline: Timeline | None = None
        self._bpm_hint: float | None = None  # the last tempo: believed from the first pulse after Start

    # -- transport ---------------------------------------------------------------------------
    def start(self) -> None:
        self.count, self.running = 0, True
        self._forget()

    def stop(self) -> None:
        self.running = False
        self._forget()

    def _forget(self) -> None:
        if self._timeline is not None:
            self._bpm_hint = self._timeline.bpm
        self._pulses.clear()
        self._timeline = None

    def resume(self) -> None:
        """MIDI Continue: on from the position where it stopped (or where Song Position put it)."""
        self.running = True
        self._forget()

    def song_position(self, sixteenths: int) -> None:
        """Song Position Pointer: counted in sixteenth notes (6 pulses each); the fit starts again."""
        self.count = 6 * int(sixteenths)
        self._forget()

    # -- the clock ---------------------------------------------------------------------------
    def pulse(self, t: float) -> None:
        self.pulses += 1
        if not self.running:
            self.ignored += 1
            return
        if self._pulses:
            last_t = self._pulses[-1][0]
            interval = 60.0 / (self._timeline.bpm * PPQN) if self._timeline else 0.0
            if t - last_t > max(GAP_MIN_S, GAP_PULSES * interval):
                self._forget()
            elif self._timeline is not None and len(self._pulses) >= MIN_PULSES:
                self._account_for_losses((t - last_t) / interval, self._timeline.beat_at(t) * PPQN - self.count)
        self._pulses.append((t, self.count))
        self.count += 1
        self._fit()

    def _account_for_losses(self, gap: float, ahead: float) -> None:
        """A pulse two or more intervals after the last, and as far behind the line, means pulses
        were lost on the way (a starved JACK server drops some): count them, or beat 0 slides by a
        pulse for each. If the next pulse then comes early by the line, they were only late (a
        burst): undo. Twice in a row is no loss but a sudden slower tempo: undo, fit afresh.
        (`gap`: since the last pulse, in intervals; `ahead`: where the line puts this pulse, in
        pulses, minus the number it would get.)"""
        if LOST_GAP <= gap < GAP_PULSES - 0.5 and LOST_AHEAD <= ahead:
            if self._inferred > 0:  # again: the tempo dropped
                self.count -= self._inferred
                self.lost -= self._inferred
                self._inferred = 0
                self._forget()
                return
            lost = round(gap) - 1
            self.count += lost
            self.lost += lost
            self._inferred = lost
        elif ahead < -EARLY and self._inferred > 0:
            t_prev, k_prev = self._pulses[-1]
            self._pulses[-1] = (t_prev, k_prev - 1)
            self.count -= 1
            self.lost -= 1
            self._inferred -= 1
        else:
            self._inferred = 0

    def _recount_first(self) -> None:
        """The first pulses have no line to be judged by: among them, a gap about twice the usual
        (the median) is a lost pulse, unless the next follows at once (a late one, in a burst)."""
        pulses = list(self._pulses)
        gaps = [b[0] - a[0] for a, b in zip(pulses, pulses[1:], strict=False)]
        usual = sorted(gaps)[len(gaps) // 2]
        if usual <= 0:
            return
        shifts = []
        for i, g in enumerate(gaps):
            r = g / usual
            late = i + 1 < len(gaps) and gaps[i + 1] < EARLY * usual
            shifts.append(round(r) - 1 if LOST_GAP <= r < GAP_PULSES - 0.5 and abs(r - round(r)) < 0.25
                          and not late else 0)
        shift, out = 0, [pulses[0]]
        for (t, k), sh in zip(pulses[1:], shifts, strict=True):
            shift += sh
            out.append((t, k + shift))
        if shift:
            self._pulses = deque(out, maxlen=self.fit_pulses)
            self.count += shift
            self.lost += shift

    def _fit(self) -> None:
        n = len(self._pulses)
        if n == MIN_PULSES and self._timeline is None:
            self._recount_first()
        if n < MIN_PULSES:
            if self._bpm_hint is not None:  # after Start: the downbeat on the first pulse, at the last tempo
                t, k = self._pulses[-1]
                self._timeline = Timeline(t, k / PPQN, self._bpm_hint)
            return
        ts = [p[0] for p in self._pulses]
        ks = [p[1] for p in self._pulses]
        tm, km = sum(ts) / n, sum(ks) / n
        stt = sum((t - tm) ** 2 for t in ts)
        if stt <= 0:
            return
        slope = sum((t - tm) * (k - km) for t, k in zip(ts, ks, strict=True)) / stt  # pulses per second
        bpm = slope * 60.0 / PPQN
        if not BPM_RANGE[0] <= bpm <= BPM_RANGE[1]:
            self.ignored += 1
            return
        t_last = ts[-1]
        self._timeline = Timeline(t_last, (km + slope * (t_last - tm)) / PPQN, bpm)

    def timeline(self) -> Timeline | None:
        """The current estimate; None before enough pulses, after Stop, or after a gap."""
        return self._timeline


class PortStamps:
    """A message's arrival time from the port's own clock, in ours.

    rtmidi gives each message the time since the previous one, measured where it arrived (JACK's
    frame time, ALSA's queue), but we only see it when our poll comes round. Summing the deltas
    gives the true spacing; the offset to our clock is the smallest (seen - sum) lately seen, since
    a poll can only see a message late, never early. So a message's time is exact to the port's
    precision, not the poll's, and never later than when it was seen. The window lets a slow drift
    between the two clocks through."""

    def __init__(self, window: int = 4 * PPQN) -> None:
        self._sum = 0.0
        self._offsets: deque[float] = deque(maxlen=window)

    def stamp(self, delta: float, seen_at: float) -> float:
        self._sum += max(delta, 0.0)
        self._offsets.append(seen_at - self._sum)
        return self._sum + min(self._offsets)


class CharGrid:
    """Characters on the beat grid: the k-th character falls on beat k / chars_per_beat.

    `due(beat)` says how many characters are due by `beat` and moves past them. A position that
    jumps back (Start, a corrected estimate a hair behind the last) waits until the grid is reached
    again rather than repeating a slot; one that jumps ahead (a stall, a Song Position forward)
    plays at most MAX_BURST at once and skips the rest, counted, like the engine's own clock that
    never bursts to catch up.
    """

    def __init__(self, chars_per_beat: float, max_burst: int = MAX_BURST) -> None:
        self.chars_per_beat = check_chars_per_beat(chars_per_beat)
        self.max_burst = max_burst
        self.next_k: int | None = None
        self.skipped = 0

    def relocate(self, beat: float) -> None:
        """The next character is the first grid slot at or after `beat` (after Start or a jump)."""
        self.next_k = math.ceil(beat * self.chars_per_beat - 1e-9)

    def next_beat(self, beat_now: float) -> float:
        """The beat of the next character to come."""
        if self.next_k is None:
            self.relocate(beat_now)
        return self.next_k / self.chars_per_beat  # type: ignore[operator]

    def due(self, beat: float) -> int:
        """Characters due by `beat` (0 if none); the grid moves past them."""
        if self.next_k is None:
            self.relocate(beat)
        last = math.floor(beat * self.chars_per_beat + 1e-9)
        n = last - self.next_k + 1  # type: ignore[operator]
        if n <= 0:
            return 0
        if n > self.max_burst:
            self.skipped += n - self.max_burst
            n = self.max_burst
        self.next_k = last + 1
        return n

    def set_chars_per_beat(self, chars_per_beat: float, beat_now: float) -> None:
        self.chars_per_beat = check_chars_per_beat(chars_per_beat)
        self.relocate(beat_now)


class BarLines:
    """Line breaks near bar lines: the first word boundary (a space) within `window` beats after a
    bar line gets a newline after it; a newline the text makes itself within `window` before or
    after a bar line counts as that bar's. Words are never cut: a bar with no space in the window
    gets no break."""

    def __init__(self, beats_per_bar: int = 4, window: float = 1.0) -> None:
        if beats_per_bar < 1:
            raise ValueError("beats per bar must be at least 1")
        if not 0 < window <= beats_per_bar:
            raise ValueError("the window must be within a bar")
        self.beats_per_bar, self.window = beats_per_bar, window
        self.done_bar: int | None = None  # the last bar that has its line break
        self.breaks = 0

    def after_char(self, char: str, beat: float) -> bool:
        """True if a newline should follow `char`, written at `beat`."""
        bar = math.floor(beat / self.beats_per_bar + 1e-9)
        into = beat - bar * self.beats_per_bar
        if char == "\n":
            self.done_bar = bar + 1 if self.beats_per_bar - into <= self.window else bar if into <= self.window \
                else self.done_bar
            return False
        if bar == self.done_bar or into > self.window or char != " ":
            return False
        self.done_bar = bar
        self.breaks += 1
        return True


def check_chars_per_beat(v: float) -> float:
    lo, hi = CHARS_PER_BEAT_RANGE
    if not (math.isfinite(v) and lo <= v <= hi):
        raise ValueError(f"characters per beat must be in {lo:g}..{hi:g}, got {v:g}")
    return float(v)


def clock_pulses(bpm: float, beats: float, t0: float = 0.0) -> list[float]:
    """Ideal pulse times of a MIDI clock at `bpm` for `beats` beats (for tests and the bench)."""
    dt = 60.0 / (bpm * PPQN)
    return [t0 + k * dt for k in range(int(beats * PPQN))]
