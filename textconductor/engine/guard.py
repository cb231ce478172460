"""The loop guard: notice that the text is repeating itself, and steer it out. Pure, no I/O.

A char-LSTM sampled at a low temperature falls into attractors: `the conception of the
conception of ...`, a line of `*` that never ends, tabs for ever. A gallery runs for days, so the
engine must notice and leave them by itself, without the performer, and without touching text
that only looks repetitive because real text is (code repeats whole lines; scripture repeats its
formulas).

What counts as repeating (measured against the held-out text of every corpus, docs/performance.md):

* a *repeat* is a character that completes a 24-character string already written in the previous
  2,000 characters (the benchmark's own measure); a *repeat run* is a stretch of consecutive
  repeats, i.e. one copied span;
* **whitespace**: a whitespace-only run of `whitespace_limit` characters (no corpus has one longer
  than 47);
* **one character**: the same character `run_limit` times in a row (an escape breaks it), and
  `char_limit` times for a visible one (always cut);
* **a periodic loop**: a copied span at least as long as the distance it was copied from, i.e.
  the last stretch of text has come twice or more back to back (`The LORD said unto him, The LORD
  said unto him, ...`). Real text almost never does that at 24 characters or more;
* **babble**: `episodes` separate repeat runs (or attempts at one that the guard turned away)
  within the last `episode_window` characters. One copied line is one run; a model stuck on its
  favourite phrases starts a new run every few words;
* **a copy**: `copy_limit` repeats in a row, i.e. a copied span of 31 characters or more.

Real text babbles and copies too (code copies a line, or a function and renames it), so on babble,
copies and one-character runs the guard acts only where the temperature is what pushes the text
into the repeat: the tempered mixture gives the repeat more probability than the untempered one.
At T=1 it never does, which is why the guard leaves the models' own predictions of real text
alone (docs/performance.md). Periodic loops and the hard limits act at any temperature.

Detection is O(1) a character: a dictionary from each 23-character string of the window to the
characters that followed it (and where), updated with one insertion and at most one eviction.

Escapes (what happens while the text is looping) are pure functions of the mixed distribution,
the active styles' own distributions and the continuation set `C` (the characters that would
make the next repeat). The conductor holds the state (`LoopGuard`), so a replay is exact.

* `penalty` (the default): a repetition penalty on the untempered mixture: `C`'s probability is
  multiplied by `penalty_factor(strength)` (1e-4 at strength 1), then the temperature applies.
* `shift` (only an ensemble can do it): for a few characters move `strength` of the weight to
  the style, among the active ones and the current style's neighbours on the puck circle, whose
  most likely next character is not in `C` (the most confident such style that reads the text);
  then hand the weight back. When every style expects the loop, it falls back to `penalty`.
* `block`: n-gram blocking: `C` gets no probability at all.
* `heat`: a temperature lift for a few characters.

docs/performance.md compares them on the worst cases: the penalty and blocking leave loops best
and write the fewest broken words; the shift is close on loops but hands words over mid-way (more
non-words); the temperature lift lets loops through. The penalty ships because, unlike blocking,
it never makes a character impossible.

Whatever the escape, a run of one character is broken by the penalty (no style helps there: every
style that has read a screen of spaces predicts more), and the hard limits (`whitespace_limit`,
`char_limit`) are masks, so their bounds hold whatever the models do.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from textconductor.protocol.charset import CHAR_TO_INDEX
from textconductor.protocol.defaults import DEFAULT_GUARD_ESCAPE, DEFAULT_GUARD_STRENGTH, GUARD_ESCAPES

ESCAPES = GUARD_ESCAPES
DEFAULT_ESCAPE = DEFAULT_GUARD_ESCAPE
DEFAULT_STRENGTH = DEFAULT_GUARD_STRENGTH
WHITESPACE = frozenset("\n\t ")
WHITESPACE_IDX = np.array(sorted(CHAR_TO_INDEX[c] for c in WHITESPACE), dtype=np.int64)


@dataclass(frozen=True)
class LoopRules:
    """What counts as repeating; the defaults are the ones measured in docs/performance.md."""

    ngram: int = 24  # a repeat completes a string of this length ...
    window: int = 2000  # ... already written within this many characters
    whitespace_limit: int = 64  # a whitespace-only run this long is ended, always
    char_limit: int = 128  # the same visible character this many times in a row is ended, always
    run_limit: int = 24  # from this many of one character in a row, the run is a loop to escape (the
    # next one would repeat a 24-character string: the run itself)
    episode_window: int = 512  # babble: this many repeat runs ...
    episodes: int = 4  # ... within this many characters
    copy_limit: int = 8  # a copy: this many repeats in a row (a copied span of ngram + 7 characters)
    attempt_mass: float = 0.5  # an attempt: the mixture gives the continuation set this much
    escape_chars: int = 12  # shift and heat act for this many characters after the last act
    escape_ngram: int = 24  # while looping, steer away from repeating strings this long

    @property
    def history_needed(self) -> int:
        """Characters of history from which `LoopDetector.rebuild` recovers the whole detector."""
        return self.window + self.ngram + self.episode_window


class NgramIndex:
    """Which character followed each (n-1)-character string of the last `window` characters.

    `push` returns where the n-gram just completed was last completed (within the window), so a
    repeat is known the moment it is written; `next_chars` says which characters would make one.
    One insertion and at most one eviction a character.
    """

    def __init__(self, n: int, window: int) -> None:
        self.n, self.window = n, window
        self.tail = ""  # the last n-1 characters
        self._next: dict[str, dict[str, int]] = {}  # (n-1)-string -> {next char: its position}
        self._order: deque[tuple[str, str, int]] = deque()  # insertion order, for eviction

    def next_chars(self, pos: int) -> list[str]:
        """Characters that, written at `pos`, would complete an n-gram of the window."""
        if len(self.tail) < self.n - 1:
            return []
        seen = self._next.get(self.tail)
        return [c for c, p in seen.items() if pos - p <= self.window] if seen else []

    def push(self, ch: str, pos: int) -> int | None:
        """Add the character written at `pos`; the position of its earlier copy, if any."""
        full = len(self.tail) == self.n - 1
        earlier = None
        if full:
            seen = self._next.setdefault(self.tail, {})
            earlier = seen.get(ch)
            if earlier is not None and pos - earlier > self.window:
                earlier = None
            seen[ch] = pos
            self._order.append((self.tail, ch, pos))
        # An entry is useful while a character at pos + 1 could still be its repeat.
        limit = pos + 1 - self.window
        order = self._order
        while order and order[0][2] < limit:
            key, c, p = order.popleft()
            seen = self._next.get(key)
            if seen is not None and seen.get(c) == p:
                del seen[c]
                if not seen:
                    del self._next[key]
        self.tail = (self.tail + ch)[-(self.n - 1):] if self.n > 1 else ""
        return earlier


class LoopDetector:
    """Rolling state over the text written so far; `push` every character, in order.

    Everything it knows is a function of the last `rules.history_needed` characters plus the
    guard's attempts (`note_attempt`), which the conductor saves in its snapshot.
    """

    def __init__(self, rules: LoopRules | None = None) -> None:
        self.rules = rules or LoopRules()
        self.clear()

    def clear(self) -> None:
        r = self.rules
        self.pos = 0  # characters pushed
        self.index = NgramIndex(r.ngram, r.window)
        self.short = NgramIndex(r.escape_ngram, r.window) if r.escape_ngram != r.ngram else self.index
        self.last = ""
        self.same_run = 0
        self.whitespace_run = 0
        self.repeat_run = 0  # consecutive repeats ending at the last character
        self.lag = 0  # distance to the earlier copy of the last character's string (when a repeat)
        self.episodes: deque[int] = deque()  # start positions of repeat runs and attempts
        self.last_attempt = -2  # position of the last attempt the guard turned away

    def rebuild(self, text: str) -> None:
        """Start again from `text` (a restored snapshot's history); attempts are not in the text."""
        self.clear()
        for ch in text[-self.rules.history_needed:]:
            self.push(ch)

    # -- reading --------------------------------------------------------------------------------

    def continuations(self) -> list[str]:
        """The characters that would make the next character a repeat (in first-seen order)."""
        return self.index.next_chars(self.pos)

    def escape_continuations(self) -> list[str]:
        """What the escapes steer away from: continuations of the shorter `escape_ngram`.

        Steering away only from 24-character repeats comes too late: by then the phrase is
        written but for its last letter. A shorter n-gram acts where the words are chosen.
        """
        return self.short.next_chars(self.pos)

    def babbling(self) -> bool:
        return len(self.episodes) >= self.rules.episodes

    def copying(self) -> bool:
        """A long copy is under way (code copies whole lines, so only the temperature-made ones count)."""
        return self.repeat_run >= self.rules.copy_limit

    def periodic(self) -> bool:
        """The copied span is at least as long as its distance: the text repeats back to back.

        One character over and over (lag 1) is `char_run`'s business.
        """
        return self.repeat_run > 0 and self.lag > 1 and self.repeat_run + self.rules.ngram - 1 >= self.lag

    def char_run(self) -> bool:
        """One character `run_limit` times or more in a row (rows of `*` and tabs of a few dozen are
        ordinary in code; the corpora's longest whitespace run is 47)."""
        return self.same_run >= self.rules.run_limit

    def hard_mask(self) -> tuple[str, np.ndarray] | None:
        """(kind, character indices) that must not come next, for runs past their limits."""
        r = self.rules
        if self.whitespace_run >= r.whitespace_limit:
            return "whitespace", WHITESPACE_IDX
        if self.last and self.last not in WHITESPACE and self.same_run >= r.char_limit:
            return "repeat-char", np.array([CHAR_TO_INDEX[self.last]], dtype=np.int64)
        return None

    # -- writing --------------------------------------------------------------------------------

    def push(self, ch: str) -> None:
        r = self.rules
        earlier = self.index.push(ch, self.pos)
        if self.short is not self.index:
            self.short.push(ch, self.pos)
        if earlier is not None:
            if self.repeat_run == 0:
                self.episodes.append(self.pos)
            self.repeat_run += 1
            self.lag = self.pos - earlier
        else:
            self.repeat_run = 0
            self.lag = 0
        self.pos += 1
        self.same_run = self.same_run + 1 if ch == self.last else 1
        self.whitespace_run = self.whitespace_run + 1 if ch in WHITESPACE else 0
        self.last = ch
        while self.episodes and self.pos - self.episodes[0] > r.episode_window:
            self.episodes.popleft()

    def note_attempt(self) -> None:
        """The guard turned a likely repeat away: count it as a repeat run for `babbling` (one run of
        attempts on consecutive characters is one episode, as one copied span is)."""
        if self.last_attempt != self.pos - 1 and (not self.episodes or self.episodes[-1] != self.pos):
            self.episodes.append(self.pos)
        self.last_attempt = self.pos

    def state(self) -> dict[str, Any]:
        """What the text cannot tell a rebuilt detector: the episodes, attempts included, by age."""
        return {"episode_ages": [self.pos - p for p in self.episodes], "attempt_age": self.pos - self.last_attempt}

    def restore_state(self, state: dict[str, Any]) -> None:
        """After `rebuild`: the saved episodes replace the ones the text alone implies."""
        if "episode_ages" in state:
            ages = sorted({int(a) for a in state["episode_ages"] if 0 <= int(a) <= self.rules.episode_window},
                          reverse=True)
            self.episodes = deque(self.pos - a for a in ages)
        if "attempt_age" in state:
            self.last_attempt = self.pos - int(state["attempt_age"])


# -- escapes: pure functions on distributions ---------------------------------------------------

def indices(chars: list[str] | str) -> np.ndarray:
    return np.fromiter((CHAR_TO_INDEX[c] for c in chars), dtype=np.int64, count=len(chars))


def mask(p: np.ndarray, idx: np.ndarray, fallback: np.ndarray | None = None) -> np.ndarray:
    """`p` with no mass on `idx`, renormalised.

    When `p` has all its mass on `idx` (a low temperature or top-p can do that), the masked
    `fallback` (the untempered mixture, whose every entry is positive) is used instead, then a
    uniform distribution over what is left: masking never dead-ends while `idx` is not everything.
    """
    out = p.copy()
    out[idx] = 0.0
    total = out.sum()
    if total > 0 and np.isfinite(total):
        return out / total
    if fallback is not None:
        return mask(fallback, idx)
    out = np.ones_like(p)
    out[idx] = 0.0
    total = out.sum()
    if total == 0:
        return p  # nothing is allowed: refuse to mask rather than divide by zero
    return out / total


def penalise(p: np.ndarray, idx: np.ndarray, factor: float, fallback: np.ndarray | None = None) -> np.ndarray:
    """Multiply the probability of `idx` by `factor` (0..1) and renormalise; factor 0 is `mask`."""
    if factor <= 0:
        return mask(p, idx, fallback)
    out = p.copy()
    out[idx] *= factor
    return out / out.sum()


def way_out(logps: np.ndarray, idx: np.ndarray, candidates: np.ndarray) -> int | None:
    """The row of `logps` among `candidates` to hand the text to, or None when none leads out.

    A style leads out when its most likely character is not in `idx` (at a low temperature the
    most likely character is what gets written). Of those, the one most sure of its character:
    not simply the one that gives `idx` the least probability, which is the style that least
    understands the text (LaTeX under a psalm), whose way out is noise.
    """
    probs = np.exp(logps[candidates])
    inside = probs[:, idx].max(axis=1)
    probs[:, idx] = 0.0
    outside = probs.max(axis=1)
    leads = outside > inside
    if not leads.any():
        return None
    return int(candidates[int(np.argmax(np.where(leads, outside, -1.0)))])


def shift_weights(w: np.ndarray, target: int, strength: float) -> np.ndarray:
    """Move `strength` of the weight to row `target`: (1 - s) w + s e_target (still sums to 1)."""
    out = (1.0 - strength) * w
    out[target] += strength
    return out


def penalty_factor(strength: float) -> float:
    """What `penalty` multiplies a continuation's probability by: 1 at strength 0, 1e-4 at 1.

    On a log scale, because a low temperature raises the factor to the power 1/T: a halving is
    nothing at T=0.3 when the continuation had 95% of the mass.
    """
    return float(10.0 ** (-4.0 * strength))


def heat(temperature: float, strength: float) -> float:
    """The lifted temperature: at least 1 at full strength, never lower than the performer's."""
    return max(temperature, temperature + strength * (1.2 - temperature))


def neighbours(style: int, enabled: np.ndarray) -> list[int]:
    """The styles next to `style` on the puck circle (the enabled styles in bank order, wrapping)."""
    on = [int(i) for i in np.flatnonzero(enabled)]
    if style not in on or len(on) < 2:
        return []
    k = on.index(style)
    out = [on[(k - 1) % len(on)], on[(k + 1) % len(on)]]
    return list(dict.fromkeys(s for s in out if s != style))


# -- the guard's state in the conductor ---------------------------------------------------------

@dataclass
class GuardCounts:
    """Totals since start, reported in /tc/guards."""

    loop_acts: int = 0  # times the loop guard started acting
    loop_chars: int = 0  # characters whose distribution it changed
    blocked: int = 0  # characters at which the blocklist took probability away
    prime_dropped: int = 0  # blocked words dropped from primes

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class LoopGuard:
    """The loop guard's settings and escape state; the conductor drives it once a tick."""

    on: bool = True
    strength: float = DEFAULT_STRENGTH
    escape: str = DEFAULT_ESCAPE
    rules: LoopRules = field(default_factory=LoopRules)
    detector: LoopDetector = field(init=False)
    escape_left: int = 0  # characters the current shift / heat still lasts
    target: int = -1  # style the shift moves weight to (bank index), -1 for none yet
    extra: list[int] = field(default_factory=list)  # styles kept active for the shift (bank indices)
    acting: str = ""  # what it did at the last tick ("" for nothing)

    def __post_init__(self) -> None:
        if self.escape not in ESCAPES:
            raise ValueError(f"unknown escape {self.escape!r} (one of {', '.join(ESCAPES)})")
        self.detector = LoopDetector(self.rules)

    def state(self) -> dict[str, Any]:
        return {"on": self.on, "strength": self.strength, "escape": self.escape, "escape_left": self.escape_left,
                "target": self.target, "extra": list(self.extra), **self.detector.state()}

    def restore(self, state: dict[str, Any], history: str) -> None:
        self.on = bool(state.get("on", self.on))
        self.strength = float(np.clip(float(state.get("strength", self.strength)), 0.0, 1.0))
        if state.get("escape") in ESCAPES:
            self.escape = state["escape"]
        self.escape_left = int(state.get("escape_left", 0))
        self.target = int(state.get("target", -1))
        self.extra = [int(s) for s in state.get("extra", [])]
        self.detector.rebuild(history)
        self.detector.restore_state(state)


# -- the measures the targets are stated in (docs/performance.md) -------------------------------

def repeat_share(text: str, n: int = 24, window: int = 2000) -> float:
    """Share of characters that start an n-character string already seen in the previous `window`.

    Character i counts when text[i:i+n] also starts somewhere in [i - window, i). The denominator
    is every character, so a text shorter than n has share 0.
    """
    if len(text) < n:
        return 0.0
    last: dict[str, int] = {}
    hits = 0
    for i in range(len(text) - n + 1):
        gram = text[i:i + n]
        j = last.get(gram)
        if j is not None and i - j <= window:
            hits += 1
        last[gram] = i
    return hits / len(text)


def longest_whitespace_run(text: str) -> int:
    best = run = 0
    for ch in text:
        run = run + 1 if ch in WHITESPACE else 0
        best = max(best, run)
    return best
