"""Build the corpus index that the engine's provenance marker reads (engine/provenance.py).

Each corpus is read and folded exactly as training reads it (`training.corpus.read_text`), so an
offset in the index is an offset in the text the model learnt from. The corpora are joined with a
NUL after each one, sorted by pydivsufsort (libdivsufsort: a maintained C library, O(n log n)),
and written as plain .npy arrays and a JSON manifest: nothing is unpickled when an engine opens it.
The folder is written beside the target and renamed into place, so a running engine never sees
half an index.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textconductor.engine.suffix_index import (
    BUCKETS,
    FORMAT,
    MANIFEST,
    NEWLINES,
    SA,
    SEPARATOR,
    TEXT,
    CorpusEntry,
    CorpusIndex,
    bucket_starts,
)
from textconductor.errors import UserError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildReport:
    corpora: int
    chars: int
    read_s: float
    sort_s: float
    write_s: float
    bytes_on_disk: int


def join(texts: Sequence[tuple[str, str]]) -> tuple[np.ndarray, list[CorpusEntry]]:
    """(style, folded text) pairs -> the joined uint8 text (NUL after each) and the entries.

    Entries carry no file or hash here; `build` fills them in."""
    parts, entries, start = [], [], 0
    for style, text in texts:
        raw = text.encode("ascii")
        if bytes([SEPARATOR]) in raw:
            raise UserError(f"{style}: the text holds a NUL character, which the index uses between corpora")
        parts.append(raw + bytes([SEPARATOR]))
        entries.append(CorpusEntry(style, "", "", start, len(raw)))
        start += len(raw) + 1
    joined = np.frombuffer(b"".join(parts), dtype=np.uint8).copy()
    return joined, entries


def suffix_array(text: np.ndarray) -> np.ndarray:
    from pydivsufsort import divsufsort
    return divsufsort(np.ascontiguousarray(text, dtype=np.uint8).copy())  # it refuses read-only arrays


def in_memory(texts: Sequence[tuple[str, str]]) -> CorpusIndex:
    """An index of these (style, folded text) pairs, never written (tests, benchmarks)."""
    joined, entries = join(texts)
    return CorpusIndex.from_arrays(joined, suffix_array(joined), entries)


def build(corpora: Sequence[Path], out: Path, progress: Callable[[str], None] | None = None) -> BuildReport:
    """Index these corpus files (style = file name without .txt) into the folder `out`."""
    from textconductor.training.corpus import read_text
    corpora = [Path(p) for p in corpora]
    if not corpora:
        raise UserError("no corpus files given")
    styles = [p.stem for p in corpora]
    dupes = sorted({s for s in styles if styles.count(s) > 1})
    if dupes:
        raise UserError(f"two corpora for the same style: {', '.join(dupes)}")
    t0 = time.perf_counter()
    texts, hashes = [], []
    for p in corpora:
        text, sha = read_text(p)  # a CorpusError (a UserError) says what is wrong with the file
        texts.append((p.stem, text))
        hashes.append(sha)
        if progress:
            progress(f"read {p.name}: {len(text):,} characters")
    joined, entries = join(texts)
    entries = [CorpusEntry(e.style, str(p.resolve()), sha, e.start, e.chars)
               for e, p, sha in zip(entries, corpora, hashes, strict=True)]
    t1 = time.perf_counter()
    if progress:
        progress(f"sorting {len(joined):,} suffixes")
    sa = suffix_array(joined)
    t2 = time.perf_counter()
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    np.save(tmp / TEXT, joined, allow_pickle=False)
    np.save(tmp / SA, sa, allow_pickle=False)
    np.save(tmp / NEWLINES, np.flatnonzero(joined == 10).astype(np.int64), allow_pickle=False)
    np.save(tmp / BUCKETS, bucket_starts(joined), allow_pickle=False)
    manifest = {"format": FORMAT, "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "chars": int(len(joined)), "separator": SEPARATOR,
                "folding": "textconductor.protocol.charset.fold (as training reads a corpus)",
                "corpora": [e.__dict__ for e in entries]}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    old = out.with_name(out.name + ".old")
    if out.exists():
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    t3 = time.perf_counter()
    size = sum(f.stat().st_size for f in out.iterdir())
    return BuildReport(len(corpora), int(len(joined)), t1 - t0, t2 - t1, t3 - t2, size)


def lookup_cost(folder: Path, patterns: int = 2000, length: int = 32, seed: int = 0) -> str:
    """One line: how long lookups take in the index at `folder`, opened as the engine opens it.

    Patterns are substrings of the corpora (so every lookup finds its range, the costlier case);
    the matcher is fed a stretch of corpus text, which keeps long matches going and breaking."""
    from textconductor.engine.provenance import Matcher
    ix = CorpusIndex.open(folder)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    ix.count(b"the")  # first touch of the mapped files
    first = time.perf_counter() - t0
    length = max(1, min(length, ix.n // 4))
    span = min(20_000, ix.n - 1)
    starts = rng.integers(0, ix.n - length - 1, size=patterns)
    pats = [ix.text[int(s):int(s) + length] for s in starts]
    pats = [p for p in pats if bytes([SEPARATOR]) not in p]
    t0 = time.perf_counter()
    for p in pats:
        ix.find(p)
    find_us = (time.perf_counter() - t0) / max(len(pats), 1) * 1e6
    m = Matcher(ix)
    s = int(rng.integers(0, ix.n - span))
    stretch = bytes(ix.text[s:s + span]).replace(bytes([SEPARATOR]), b" ")
    # Shuffle words so that matches break every few words, as in generated text.
    words = stretch.split(b" ")
    rng.shuffle(words)
    stretch = b" ".join(words)[:span]
    t0 = time.perf_counter()
    for b in stretch:
        m.push(b)
    push_us = (time.perf_counter() - t0) / len(stretch) * 1e6
    return (f"lookup cost: first touch {first * 1e3:.1f} ms; find a {length}-char pattern {find_us:.1f} us; "
            f"matcher {push_us:.1f} us per character ({len(stretch):,} characters of shuffled corpus words)")
