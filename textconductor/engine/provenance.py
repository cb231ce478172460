"""Is it copying? The marker that finds verbatim spans live, over the corpus index.

The index (`textconductor index`, tools/corpus_index.py) is read by `suffix_index.CorpusIndex`:
the corpora folded and joined, and their suffix array, memory-mapped. This module is the live side.

The marker runs in the engine, not the window, because the engine already has the text in order and
one computation serves every subscriber (the window, a second frontend, a recorder, a visual
artist's patch); the window stays free of a 250 MB index and of work on its paint thread.

`Matcher` keeps the longest suffix of the text so far that occurs in the corpora, and the range of
the suffix array whose suffixes start with it. Each new character narrows the range by two binary
searches on the character after the match (O(log n)); when nothing in the range continues with it,
the match loses characters from its front until one does. Which front cut is the shortest that
works is itself found by binary search (if P[k:]+c occurs in the corpora, so does P[k+1:]+c), so a
long match that breaks costs O(log m * log n) comparisons, not m re-searches.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textconductor.engine.suffix_index import MANIFEST, SEPARATOR, CorpusIndex, Location
from textconductor.protocol.defaults import VERBATIM_MIN_CHARS
from textconductor.protocol.messages import Tick, Verbatim

log = logging.getLogger(__name__)

DEFAULT_MIN_SPAN = VERBATIM_MIN_CHARS  # characters; why this length: docs/models.md (memorisation)
MAX_MATCH = 4096  # a match is kept at most this long (a screen of spaces copied from assembly)
MIN_DISTINCT = 5  # a span needs this many distinct visible characters to be text, not layout
SCAN_FOR_PREFERRED = 64  # occurrences looked through for one in a preferred style

_BLANK = frozenset(b" \t\n")


def informative(span: bytes | bytearray) -> bool:
    """Whether a span is text worth naming a book for: a run of spaces, of zeros or of asterisks
    matches some book verbatim (assembly listings are full of them), but it says nothing about copying."""
    return len(set(span) - _BLANK) >= MIN_DISTINCT


# -- the live matcher --------------------------------------------------------------------------------

class Matcher:
    """The longest suffix of the text pushed so far that occurs in the index, when it is at least
    `min_length` long (shorter ones are reported as 0: the marker never needs them, and skipping
    them is what keeps a tick cheap).

    Outside a match each character costs one lookup of the last `min_length` characters. Inside
    one, the suffix-array range of the match is narrowed by the next character (two binary searches
    over the range, which is small: a long string occurs in few places). When the match breaks, the
    longest suffix that still occurs is found by binary search over its length (if the last l
    characters occur, so do the last l - 1). Exact, as the brute-force tests check, up to
    `max_match`: a longer match is cut to half of it and goes on from there.
    """

    def __init__(self, index: CorpusIndex, min_length: int = DEFAULT_MIN_SPAN, max_match: int = MAX_MATCH) -> None:
        self.index = index
        self.min_length = max(1, int(min_length))
        self.max_match = max(2 * self.min_length, int(max_match))
        self.reset()

    def reset(self) -> None:
        self.recent = bytearray()  # the last characters: at least the match, or min_length of them
        self.lo = self.hi = self.length = 0

    def push(self, byte: int) -> int:
        """Add one character (its code, e.g. ord(c)); returns the length of the match now ending here
        (0 when shorter than `min_length`)."""
        ix, k = self.index, self.min_length
        rec = self.recent
        rec.append(byte)
        if len(rec) > self.max_match + k:
            del rec[:len(rec) - self.max_match]
        if byte == SEPARATOR:
            self.length = 0
            return 0
        if self.length:
            lo, hi = ix.narrow(self.lo, self.hi, self.length, byte)
            if lo < hi:
                self.lo, self.hi, self.length = lo, hi, self.length + 1
                if self.length >= self.max_match:
                    self._set(self.max_match // 2)
                return self.length
            # The match breaks here: the longest suffix that still occurs, between k and the old length.
            good, bad = 0, self.length + 1
            best = (0, 0)
            while bad - good > 1:
                mid = max((good + bad) // 2, k) if good < k else (good + bad) // 2
                rng = ix.find(bytes(rec[-mid:])) if mid <= len(rec) else (0, 0)
                if rng[0] < rng[1]:
                    good, best = mid, rng
                else:
                    bad = mid
                    if mid == k:
                        break
            self.length = good if good >= k else 0
            self.lo, self.hi = best
            return self.length
        if len(rec) < k:
            return 0
        # Not in a match: the last k characters occur or not. If they do, the match is exactly k
        # long: a longer one would hold the k characters before this one, which did not occur.
        lo, hi = ix.find(bytes(rec[-k:]))
        if lo < hi:
            self.lo, self.hi, self.length = lo, hi, k
        return self.length

    def _set(self, keep: int) -> None:
        self.lo, self.hi = self.index.find(bytes(self.recent[-keep:]))
        self.length = keep

    def occurrence(self, prefer: Sequence[str] = ()) -> int:
        """The start (in the joined text) of one occurrence of the current match: in the first of
        the `prefer` styles that has one among the first few, else the first in suffix order."""
        ix = self.index
        if prefer and self.hi - self.lo <= SCAN_FOR_PREFERRED:
            starts = [int(ix.sa[i]) for i in range(self.lo, self.hi)]
            ranked = {s: r for r, s in enumerate(prefer)}
            return min(starts, key=lambda p: (ranked.get(ix.corpora[ix.style_of(p)].style, len(ranked)), p))
        return int(ix.sa[self.lo])


@dataclass(frozen=True)
class Mark:
    """Characters of ticks start_tick..end_tick (inclusive) occur verbatim in a corpus, at `where`."""

    start_tick: int
    end_tick: int
    where: Location


class Marker:
    """Feeds generated characters to a `Matcher` and reports the verbatim spans of at least `min_span`.

    A span is reported at every tick that ends it while it is at least `min_span` long (and holds at
    least MIN_DISTINCT distinct visible characters: `informative`), so the window
    sees it as soon as it qualifies and then grow; a later mark with the same start supersedes the
    earlier one. Only generated characters count: a prime (performer text) or a reset starts afresh.
    """

    def __init__(self, index: CorpusIndex, min_span: int = DEFAULT_MIN_SPAN) -> None:
        self.index, self.min_span = index, max(1, int(min_span))
        self.matcher = Matcher(index, self.min_span)
        self.marks = 0

    def reset(self) -> None:
        self.matcher.reset()

    def push(self, tick: int, char: str, prefer: Sequence[str] | Callable[[], Sequence[str]] = ()) -> Mark | None:
        """The mark this character makes (None when the match ending here is shorter than `min_span`).

        `prefer`: styles in order of preference for naming the place (or a function giving them,
        called only when there is a mark)."""
        code = ord(char)
        length = self.matcher.push(code if code < 128 else SEPARATOR)
        if length < self.min_span or not informative(self.matcher.recent[-length:]):
            return None
        start = tick - length + 1
        # Located anew at every tick: the occurrence that continues with this character may be another one.
        where = self.index.locate(self.matcher.occurrence(prefer() if callable(prefer) else prefer))
        self.marks += 1
        return Mark(start, tick, where)


class LiveProvenance:
    """The engine's side: one `Marker` over the generated text, its cost per tick, and the message.

    Where several books hold a span, the place named is in the style that weighs most in the mix
    that wrote it, if one of them does (a span of Austen's text is shown as Austen's even when the
    Bible has it too).
    """

    def __init__(self, index: CorpusIndex, names: Callable[[], list[str]], min_span: int = DEFAULT_MIN_SPAN) -> None:
        self.marker = Marker(index, min_span)
        self.names = names
        self.cost_s: deque[float] = deque(maxlen=1000)

    @property
    def min_span(self) -> int:
        return self.marker.min_span

    def reset(self) -> None:
        """The text was broken by a prime or a reset: no span runs across it."""
        self.marker.reset()

    def after_tick(self, tick: Tick) -> bytes | None:
        """The /tc/verbatim datagram if this tick's character ends a verbatim span, else None."""
        t0 = time.perf_counter()
        names = self.names()

        def prefer() -> list[str]:
            w = tick.weights
            return [names[i] for i in np.argsort(-w, kind="stable") if w[i] > 0 and i < len(names)]
        mark = self.marker.push(tick.tick, tick.char, prefer)
        out = None
        if mark is not None:
            w = mark.where
            out = Verbatim(mark.start_tick, mark.end_tick, w.style, w.offset, w.line).encode()
        self.cost_s.append(time.perf_counter() - t0)
        return out


def open_live(folder: Path | None, names: Callable[[], list[str]], min_span: int = DEFAULT_MIN_SPAN,
              required: bool = False) -> LiveProvenance | None:
    """The engine's marker over the index at `folder`; None when there is none (and it was not asked for)."""
    if folder is None:
        return None
    folder = Path(folder)
    if not (folder / MANIFEST).exists() and not required:
        log.info("no corpus index at %s: verbatim spans are not marked (`textconductor index CORPORA`)", folder)
        return None
    index = CorpusIndex.open(folder)
    threading.Thread(target=index.warm, name="index-warm", daemon=True).start()  # not in the start's path
    log.info("corpus index %s: %d corpora, %s characters; marking verbatim spans of %d+ characters",
             folder, len(index.corpora), f"{index.n:,}", min_span)
    return LiveProvenance(index, names, min_span)
