"""Is it copying? The corpus index (read side) and the marker that finds verbatim spans live.

`textconductor index` (tools/corpus_index.py) writes a folder: `text.npy` (every corpus folded into
the shared character set, joined with a NUL between corpora and one at the end, so no match can
cross from one book into the next), `sa.npy` (its suffix array, int32) and `manifest.json` (style,
file, hashes and where each corpus starts in the joined text). No pickles: the arrays are opened
memory-mapped, so an engine starts with a 200 MB index in milliseconds and pages in only what
lookups touch.

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

import bisect
import json
import logging
import mmap
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textconductor.errors import UserError
from textconductor.protocol.defaults import VERBATIM_MIN_CHARS
from textconductor.protocol.messages import Tick, Verbatim

log = logging.getLogger(__name__)

FORMAT = 1
SEPARATOR = 0  # NUL: never in folded text, so never in a pattern
MANIFEST = "manifest.json"
TEXT = "text.npy"
SA = "sa.npy"
NEWLINES = "newlines.npy"
BUCKETS = "buckets.npy"  # where each two-byte prefix starts in the suffix array (65,537 entries)
DEFAULT_MIN_SPAN = VERBATIM_MIN_CHARS  # characters; why this length: docs/models.md (memorisation)
MAX_MATCH = 4096  # a match is kept at most this long (a screen of spaces copied from assembly)
MADV_POPULATE_READ = 22  # Linux 5.14+: fault every page of a mapping in (not in Python's mmap constants)
MIN_DISTINCT = 5  # a span needs this many distinct visible characters to be text, not layout
SCAN_FOR_PREFERRED = 64  # occurrences looked through for one in a preferred style


class CorpusIndexError(UserError):
    """An index folder that cannot be read; the message says which and why."""


@dataclass(frozen=True)
class CorpusEntry:
    style: str
    file: str
    sha256: str
    start: int  # offset of its first character in the joined text
    chars: int  # folded characters


@dataclass(frozen=True)
class Location:
    """Where a span occurs: style, character offset in the folded corpus, and its line (1-based)."""

    style: str
    offset: int
    line: int
    file: str = ""


def _npy_data_offset(path: Path) -> tuple[int, tuple[int, ...], np.dtype]:
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(f)
        if fortran:
            raise CorpusIndexError(f"{path}: unexpected Fortran order")
        return f.tell(), shape, dtype


class CorpusIndex:
    """The joined folded text and its suffix array, memory-mapped; lookups by pattern."""

    def __init__(self, text, sa, corpora: list[CorpusEntry], folder: Path | None, newlines: np.ndarray,
                 buckets: np.ndarray) -> None:
        self.text = text  # slicing gives bytes; indexing gives an int
        # The lookups' inner loops read the mapped file directly (a _Window's __getitem__ costs a call).
        self._raw, self._base = (text.mm, text.offset) if isinstance(text, _Window) else (text, 0)
        self.sa = sa  # a sequence of int (memoryview of int32)
        self.n = len(sa)
        self.corpora = corpora
        self.folder = folder
        self._starts = np.array([c.start for c in corpora], dtype=np.int64)
        self._by_style = {c.style: i for i, c in enumerate(corpora)}
        self._newlines = newlines  # positions of every newline in the joined text, ascending
        self.maps: list[mmap.mmap] = []  # the mapped files (empty for an index held in memory)
        self._buckets = [int(b) for b in buckets]  # a list: indexing it must not cost a numpy scalar

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: str | Path) -> CorpusIndex:
        folder = Path(folder)
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CorpusIndexError(f"{folder}: no corpus index here (make one with `textconductor index`)") from None
        except (OSError, ValueError) as e:
            raise CorpusIndexError(f"{folder}/{MANIFEST}: unreadable ({e})") from None
        if manifest.get("format") != FORMAT:
            raise CorpusIndexError(f"{folder}: index format {manifest.get('format')!r}, expected {FORMAT}; rebuild it")
        try:
            corpora = [CorpusEntry(str(c["style"]), str(c["file"]), str(c["sha256"]), int(c["start"]),
                                   int(c["chars"])) for c in manifest["corpora"]]
            offset, shape, dtype = _npy_data_offset(folder / TEXT)
            if dtype != np.uint8 or len(shape) != 1:
                raise CorpusIndexError(f"{folder}/{TEXT}: expected a 1-D uint8 array")
            text_map = _map(folder / TEXT)
            text = _Window(text_map, offset, shape[0])
            sa_offset, sa_shape, sa_dtype = _npy_data_offset(folder / SA)
            if sa_dtype not in (np.int32, np.int64) or sa_shape != (shape[0],):
                raise CorpusIndexError(f"{folder}/{SA}: does not fit {TEXT}; rebuild the index")
            sa_map = _map(folder / SA)
            sa = np.frombuffer(sa_map, dtype=sa_dtype, count=shape[0], offset=sa_offset)
            newlines = np.load(folder / NEWLINES, mmap_mode="r")
            buckets = np.load(folder / BUCKETS)
        except (OSError, KeyError, ValueError, TypeError) as e:
            raise CorpusIndexError(f"{folder}: unreadable index ({e}); rebuild it") from None
        if buckets.shape != (65537,):
            raise CorpusIndexError(f"{folder}/{BUCKETS}: not a bucket table; rebuild the index")
        ix = cls(text, _ints(sa), corpora, folder, newlines, buckets)
        ix.maps = [text_map, sa_map]
        return ix

    @classmethod
    def from_arrays(cls, text: np.ndarray, sa: np.ndarray, corpora: list[CorpusEntry]) -> CorpusIndex:
        """An index held in memory (built just now, e.g. by a benchmark or a test)."""
        text = np.ascontiguousarray(text, dtype=np.uint8)
        return cls(text.tobytes(), _ints(np.ascontiguousarray(sa)), corpora, None, np.flatnonzero(text == 10),
                   bucket_starts(text))

    def warm(self) -> float:
        """Map every page of the index into this process now (seconds taken). Lookups touch pages at
        random: without this, each first touch of a page is a fault inside a tick. The pages are the
        file's (shared with any other engine on the same index), not this process's own memory."""
        t0 = time.perf_counter()
        for mm in self.maps:
            try:
                mm.madvise(MADV_POPULATE_READ)
            except (OSError, ValueError):  # an older kernel: touch one byte per page instead
                for i in range(0, len(mm), mmap.PAGESIZE):
                    mm[i]
        return time.perf_counter() - t0

    @property
    def styles(self) -> list[str]:
        return [c.style for c in self.corpora]

    # -- lookups ---------------------------------------------------------------------------------

    def find(self, pattern: bytes, lo: int = 0, hi: int | None = None) -> tuple[int, int]:
        """[lo, hi) of the suffix array: the suffixes that start with `pattern` (empty when lo == hi)."""
        t, o, m = self._raw, self._base, len(pattern)
        if hi is None and lo == 0 and m:  # start from the bucket of the first two bytes: a dozen steps fewer
            x = pattern[0] << 8
            if m >= 2:
                lo, hi = self._buckets[x | pattern[1]], self._buckets[(x | pattern[1]) + 1]
            else:
                lo, hi = self._buckets[x], self._buckets[x + 256]
            if lo >= hi or m <= 2:  # the bucket is the answer
                return lo, hi
        hi = self.n if hi is None else hi

        def key(p: int) -> bytes:
            return t[p + o:p + o + m]
        lo = bisect.bisect_left(self.sa, pattern, lo, hi, key=key)
        return lo, _gallop_right(self.sa, pattern, lo, hi, key)

    def count(self, pattern: bytes) -> int:
        lo, hi = self.find(pattern)
        return hi - lo

    def positions(self, pattern: bytes, limit: int | None = None) -> list[int]:
        """Where `pattern` occurs in the joined text (sorted; the first `limit` of the suffix range)."""
        lo, hi = self.find(pattern)
        if limit is not None:
            hi = min(hi, lo + limit)
        return sorted(int(self.sa[i]) for i in range(lo, hi))

    def narrow(self, lo: int, hi: int, depth: int, byte: int) -> tuple[int, int]:
        """Of [lo, hi) (suffixes sharing a prefix of `depth` characters), those followed by `byte`."""
        t, d = self._raw, self._base + depth

        def key(p: int) -> int:
            return t[p + d]  # safe: the text ends with a separator, which no prefix contains
        lo2 = bisect.bisect_left(self.sa, byte, lo, hi, key=key)
        return lo2, _gallop_right(self.sa, byte, lo2, hi, key)

    def locate(self, position: int) -> Location:
        """The style, offset in its folded corpus and line number of a position in the joined text."""
        k = int(np.searchsorted(self._starts, position, side="right")) - 1
        c = self.corpora[max(k, 0)]
        nl = self._newlines
        line = int(np.searchsorted(nl, position) - np.searchsorted(nl, c.start)) + 1
        return Location(c.style, position - c.start, line, c.file)

    def style_of(self, position: int) -> int:
        return max(int(np.searchsorted(self._starts, position, side="right")) - 1, 0)


def bucket_starts(text: np.ndarray) -> np.ndarray:
    """Where the suffixes starting with each two bytes (b0 * 256 + b1) begin in the suffix array, and
    one past the last: 65,537 entries. The text ends with a separator, whose one-byte suffix sorts
    first of all."""
    t = np.asarray(text, dtype=np.uint8)
    counts = np.zeros(65536, dtype=np.int64)
    for a in range(0, max(len(t) - 1, 0), 1 << 22):  # in chunks: a whole-text pair array would be 190 MB
        b = min(a + (1 << 22), len(t) - 1)
        counts += np.bincount((t[a:b].astype(np.int32) << 8) | t[a + 1:b + 1], minlength=65536)
    return np.concatenate([[1], 1 + np.cumsum(counts)]).astype(np.int64)


def _gallop_right(sa, x, lo: int, hi: int, key) -> int:
    """bisect_right from `lo`, where key(sa[lo]) >= x, probing lo+1, lo+2, lo+4, ... first: a long
    pattern occurs in few places, so its range ends a step or two after it starts, and probing near
    `lo` touches memory a lookup has just touched instead of pages across the whole array."""
    if lo >= hi or key(sa[lo]) != x:
        return lo
    known, step = lo, 1  # key(sa[known]) == x
    while known + step < hi and key(sa[known + step]) == x:
        known += step
        step *= 2
    return bisect.bisect_right(sa, x, known + 1, min(known + step, hi), key=key)


_BLANK = frozenset(b" \t\n")


def informative(span: bytes | bytearray) -> bool:
    """Whether a span is text worth naming a book for: a run of spaces, of zeros or of asterisks
    matches some book verbatim (assembly listings are full of them), but it says nothing about copying."""
    return len(set(span) - _BLANK) >= MIN_DISTINCT


def _map(path: Path) -> mmap.mmap:
    with open(path, "rb") as f:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def _ints(a: np.ndarray) -> memoryview:
    """A memoryview that indexes as Python ints (bisect's C loop reads it without numpy scalars)."""
    return memoryview(a).cast("B").cast("i" if a.dtype == np.int32 else "q")


class _Window:
    """The data part of a memory-mapped .npy file, sliced like bytes."""

    def __init__(self, mm: mmap.mmap, offset: int, size: int) -> None:
        self.mm, self.offset, self.size = mm, offset, size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, k):
        o = self.offset
        if isinstance(k, slice):
            start = o + (k.start or 0)
            stop = o + min(self.size if k.stop is None else k.stop, self.size)
            return self.mm[start:stop]
        return self.mm[o + k]



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
