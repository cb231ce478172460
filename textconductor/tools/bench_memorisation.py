"""`textconductor bench memorisation`: how much of what each style writes is copied from a book.

For each style and temperature, many sequences are sampled side by side through the model layer
(one batched LSTM step per character for all of them, as model/sample.py samples one: softmax of
logits / T, no nucleus cut, no guards, starting from a newline), and each sequence is matched
against the corpus index with the engine's own `Matcher`. Reported: the share of characters that
lie inside a verbatim span of at least 20 and 40 characters, in the style's own corpus and in any
corpus of the index, and the longest span with the book and line it comes from.

Own-corpus spans lie inside any-corpus spans (an own match is a match), so the own corpus is
matched only over the stretches the any-corpus pass already covered: cheap, and still exact.

A second table picks the engine's default span length from the same data: for each span length,
in how many places of the corpora the maximal spans occur, and the share found in two or more
books. A phrase several authors wrote ("in the midst of the") is the language's, not a copy; the
default is the shortest length from which at most 5% of the spans are shared between books.
Spans with fewer than five distinct visible characters (runs of spaces, zeros, asterisks: layout
found in any assembly listing) count nowhere (engine/provenance.informative).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from textconductor.engine.provenance import Matcher, informative
from textconductor.engine.suffix_index import CorpusIndex
from textconductor.tools.corpus_index import in_memory

log = logging.getLogger(__name__)

MIN_TRACKED = 16  # the any-corpus matcher keeps exact lengths from here (the span-length table starts here)
THRESHOLDS = (20, 40)
LENGTH_BINS = (16, 20, 24, 28, 32, 40, 64, 128)
SCAN_PLACES = 256  # a span found in more places than this is a stock phrase whatever its books
MANY_BOOKS = 99


def sample_batch(model, seqs: int, chars: int, temperature: float, seed: int) -> np.ndarray:
    """[seqs, chars] character codes (ASCII) sampled side by side from one model."""
    import torch

    from textconductor.protocol.charset import CHAR_TO_INDEX, CHARS
    codes = np.frombuffer(CHARS.encode("ascii"), dtype=np.uint8)
    gen = torch.Generator().manual_seed(seed)
    x = torch.full((seqs, 1), CHAR_TO_INDEX["\n"], dtype=torch.long)
    out = np.empty((seqs, chars), dtype=np.uint8)
    state = None
    t = max(float(temperature), 1e-3)
    with torch.no_grad():
        for i in range(chars):
            logits, state = model(x, state)
            probs = torch.softmax(logits[:, -1].float() / t, dim=-1)
            x = torch.multinomial(probs, 1, generator=gen)
            out[:, i] = codes[x[:, 0].numpy()]
    return out


def books(ix: CorpusIndex, lo: int, hi: int) -> int:
    """In how many corpora the suffixes [lo, hi) start (MANY_BOOKS when there are too many to look at)."""
    if hi - lo > SCAN_PLACES:
        return MANY_BOOKS
    return len({ix.style_of(int(ix.sa[i])) for i in range(lo, hi)})


def match_lengths(matcher: Matcher, text: bytes) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Per character the length of the verbatim match ending there (0 below the matcher's minimum), and
    every maximal span as (end, length, places in the corpora, corpora it is found in)."""
    matcher.reset()
    lengths = np.zeros(len(text), dtype=np.int64)
    spans: list[tuple[int, int, int, int]] = []
    prev, rng = 0, (0, 0)
    for t, b in enumerate(text):
        n = matcher.push(b)
        lengths[t] = n
        if prev and n != prev + 1:  # the span ending at t - 1 could not go on
            spans.append((t - 1, prev, rng[1] - rng[0], books(matcher.index, *rng)))
        prev, rng = n, (matcher.lo, matcher.hi)
    if prev:
        spans.append((len(text) - 1, prev, rng[1] - rng[0], books(matcher.index, *rng)))
    return lengths, spans


def covered(lengths: np.ndarray, threshold: int) -> np.ndarray:
    """Which characters lie inside some match of at least `threshold` (a match ending at t of length L
    covers t - L + 1 .. t)."""
    n = len(lengths)
    start = np.where(lengths >= threshold, np.arange(n) - lengths + 1, n)
    reach = np.minimum.accumulate(start[::-1])[::-1]  # the earliest start of a match ending at or after p
    return reach <= np.arange(n)


@dataclass
class StyleResult:
    style: str
    temperature: float
    chars: int = 0
    any_cov: dict[int, int] = field(default_factory=dict)
    own_cov: dict[int, int] = field(default_factory=dict)
    longest: int = 0
    longest_text: str = ""
    longest_where: str = ""
    own_longest: int = 0
    spans: list[tuple[int, int, int]] = field(default_factory=list)  # (length, places, books) of maximal spans
    sample_s: float = 0.0
    match_s: float = 0.0


def span_cover(spans: Sequence[tuple[int, int]], threshold: int, n: int) -> np.ndarray:
    """Which of n characters lie inside one of these (end, length) spans of at least `threshold`."""
    diff = np.zeros(n + 1, dtype=np.int64)
    for end, length in spans:
        if length >= threshold:
            diff[end - length + 1] += 1
            diff[end + 1] -= 1
    return np.cumsum(diff[:n]) > 0


def measure(ix: CorpusIndex, own: CorpusIndex | None, style: str, temperature: float, texts: np.ndarray) -> StyleResult:
    """Counted over informative spans only (engine/provenance.informative): a run of spaces or zeros
    matches some listing in the corpora, but it is layout, not copied text."""
    r = StyleResult(style, temperature)
    m_any = Matcher(ix, MIN_TRACKED)
    m_own = Matcher(own, THRESHOLDS[0]) if own is not None else None
    t0 = time.perf_counter()
    for row in texts:
        text = row.tobytes()
        lengths, spans = match_lengths(m_any, text)
        spans = [s for s in spans if informative(text[s[0] - s[1] + 1:s[0] + 1])]
        r.chars += len(text)
        r.spans += [(n, c, k) for _, n, c, k in spans]
        for thr in THRESHOLDS:
            r.any_cov[thr] = r.any_cov.get(thr, 0) + int(span_cover([s[:2] for s in spans], thr, len(text)).sum())
        if spans:
            end, n, _, _ = max(spans, key=lambda s: s[1])
            if n > r.longest:
                r.longest = n
                r.longest_text = text[end - n + 1:end + 1].decode("ascii")
                m_any.reset()
                for b in r.longest_text.encode("ascii"):
                    m_any.push(b)
                where = ix.locate(m_any.occurrence([style]))
                r.longest_where = f"{where.style}:{where.line}"
        if m_own is not None:
            own_spans: list[tuple[int, int]] = []
            cov = covered(lengths, THRESHOLDS[0])
            edges = np.flatnonzero(np.diff(np.concatenate([[0], cov.astype(np.int8), [0]])))
            for a, b in zip(edges[::2], edges[1::2], strict=True):  # each stretch the any-corpus pass covered
                _, found = match_lengths(m_own, text[a:b])
                own_spans += [(a + e, n) for e, n, _, _ in found if informative(text[a + e - n + 1:a + e + 1])]
            for thr in THRESHOLDS:
                r.own_cov[thr] = r.own_cov.get(thr, 0) + int(span_cover(own_spans, thr, len(text)).sum())
            r.own_longest = max([r.own_longest] + [n for _, n in own_spans])
    r.match_s = time.perf_counter() - t0
    return r


def own_index(ix: CorpusIndex, style: str) -> CorpusIndex | None:
    """An in-memory index of one style's corpus, cut from the joined text (None if the index lacks it)."""
    for c in ix.corpora:
        if c.style == style:
            return in_memory([(style, bytes(ix.text[c.start:c.start + c.chars]).decode("ascii"))])
    return None


def span_table(results: Sequence[StyleResult], shared_max: float = 0.05) -> tuple[str, int]:
    """Markdown: per span length, how many maximal spans there are, in how many places they occur, and
    the share found in two or more books (a phrase that several authors wrote is the language's, not a
    copy); and the shortest length from which at most `shared_max` of the spans are shared."""
    spans = np.array([s for r in results for s in r.spans] or [(0, 0, 0)], dtype=np.int64)
    lines = ["| span length | spans | in one place | in 2-9 places | in 10+ places | in 2+ books |",
             "|---|---:|---:|---:|---:|---:|"]
    chosen = 0
    for lo, hi in zip(LENGTH_BINS, (*LENGTH_BINS[1:], 1 << 30), strict=True):
        sel = spans[(spans[:, 0] >= lo) & (spans[:, 0] < hi)]
        if not len(sel):
            continue
        one = float(np.mean(sel[:, 1] == 1))
        few = float(np.mean((sel[:, 1] > 1) & (sel[:, 1] < 10)))
        many = float(np.mean(sel[:, 1] >= 10))
        shared = float(np.mean(sel[:, 2] >= 2))
        label = f"{lo}-{hi - 1}" if hi < 1 << 30 else f"{lo}+"
        lines.append(f"| {label} | {len(sel):,} | {one:.0%} | {few:.0%} | {many:.0%} | {shared:.0%} |")
        if not chosen and shared <= shared_max:
            chosen = lo
        elif shared > shared_max:
            chosen = 0  # only a length from which every longer bin stays below counts
    return "\n".join(lines), chosen


def table(results: Sequence[StyleResult]) -> str:
    lines = ["| style | T | chars | >=20 own | >=20 any | >=40 own | >=40 any | longest own / any | "
             "longest span (any corpus), from |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        n = max(r.chars, 1)
        example = r.longest_text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n").replace("\t", "\\t")
        if len(example) > 70:
            example = example[:67] + "..."
        lines.append(f"| {r.style} | {r.temperature:g} | {r.chars:,} | {r.own_cov.get(20, 0) / n:.1%} | "
                     f"{r.any_cov.get(20, 0) / n:.1%} | {r.own_cov.get(40, 0) / n:.1%} | "
                     f"{r.any_cov.get(40, 0) / n:.1%} | {r.own_longest} / {r.longest} | "
                     f"`{example}` ({r.longest_where}) |")
    return "\n".join(lines)


def report(results: Sequence[StyleResult], head: str) -> str:
    spans, chosen = span_table(results)
    chars = max(sum(r.chars for r in results), 1)
    match_us = sum(r.match_s for r in results) / chars * 1e6
    sample_us = sum(r.sample_s for r in results) / chars * 1e6
    return "\n\n".join([f"{head}; sampling {sample_us:.0f} us/char, matching {match_us:.0f} us/char (wall)",
                         table(results),
                         "Maximal verbatim spans (any corpus) by length, and in how many places of the corpora "
                         "each occurs:", spans,
                         f"Shortest span length from which at most 5% of spans are found in two or more books: "
                         f"{chosen or 'none'}"])


def run(index: Path, checkpoints: Sequence[Path], temperatures: Sequence[float], seqs: int, chars: int,
        seed: int = 0, threads: int = 1, out: Path | None = None) -> str:
    """The report; with `out`, also rewritten there after every style and temperature, so a run cut
    short still leaves the rows it finished."""
    import torch

    from textconductor.model.checkpoint import load_checkpoint
    torch.set_num_threads(max(1, threads))
    ix = CorpusIndex.open(index)
    results: list[StyleResult] = []
    head = (f"# bench memorisation: {len(checkpoints)} styles x T={', '.join(f'{t:g}' for t in temperatures)}, "
            f"{seqs} sequences x {chars:,} chars each (seed {seed}), index {index} "
            f"({len(ix.corpora)} corpora, {ix.n:,} chars)")
    for path in checkpoints:
        model, meta = load_checkpoint(path)
        model.eval()
        style = meta.name
        own = own_index(ix, style)
        if own is None:
            log.warning("%s: not in the index; only the any-corpus columns are measured", style)
        for temperature in temperatures:
            t0 = time.perf_counter()
            texts = sample_batch(model, seqs, chars, temperature, seed)
            sample_s = time.perf_counter() - t0
            r = measure(ix, own, style, temperature, texts)
            r.sample_s = sample_s
            results.append(r)
            log.info("%s T=%g: %d chars sampled in %.1f s, matched in %.1f s (%.0f us/char); >=20 any %.1f%%, "
                     "longest %d", style, temperature, r.chars, sample_s, r.match_s, r.match_s / r.chars * 1e6,
                     100 * r.any_cov.get(20, 0) / max(r.chars, 1), r.longest)
            if out is not None:
                Path(out).write_text(report(results, head + f" ({len(results)} runs done)") + "\n")
    return report(results, head)
