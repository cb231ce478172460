"""The corpus index, read side: the folded corpora and their suffix array, memory-mapped, and
the lookups the verbatim marker makes on them (`provenance.Matcher`).

`textconductor index` (tools/corpus_index.py) writes a folder: `text.npy` (every corpus folded into
the shared character set, joined with a NUL between corpora and one at the end, so no match can
cross from one book into the next), `sa.npy` (its suffix array, int32), `newlines.npy`,
`buckets.npy` (where each two-byte prefix starts in the suffix array) and `manifest.json` (style,
file, hashes and where each corpus starts in the joined text). No pickles: the arrays are opened
memory-mapped, so an engine starts with a 200 MB index in milliseconds and pages in only what
lookups touch. The names of those files and the format number are defined here, once, for the
writer and the reader.
"""

from __future__ import annotations

import bisect
import json
import mmap
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textconductor.errors import UserError

FORMAT = 1
SEPARATOR = 0  # NUL: never in folded text, so never in a pattern
MANIFEST = "manifest.json"
TEXT = "text.npy"
SA = "sa.npy"
NEWLINES = "newlines.npy"
BUCKETS = "buckets.npy"  # where each two-byte prefix starts in the suffix array (65,537 entries)
MADV_POPULATE_READ = 22  # Linux 5.14+: fault every page of a mapping in (not in Python's mmap constants)


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
