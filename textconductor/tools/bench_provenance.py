"""`textconductor bench provenance`: what marking verbatim spans adds to the engine's tick.

In one run, on the same ticks: the conductor's step (mix, sample), the engine's marker after it
(`LiveProvenance.after_tick`, the incremental matcher), and a search from scratch at every tick
(the longest suffix of the last 256 characters, by binary search over its length) as the
baseline the incremental matcher replaces. Then the matcher alone over a stretch of corpus text,
where every character extends a long match (the copying case). Wall and CPU time are both given:
on a shared machine the wall figure carries other processes' load.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from textconductor.engine.provenance import DEFAULT_MIN_SPAN, LiveProvenance, Matcher
from textconductor.engine.suffix_index import CorpusIndex

SCRATCH_WINDOW = 256


def longest_from_scratch(ix: CorpusIndex, recent: bytes, min_length: int) -> int:
    """The longest suffix of `recent` found in the index (0 below min_length), with no state kept."""
    good, bad = 0, len(recent) + 1
    if ix.count(recent[-min_length:]) == 0:
        return 0
    good = min_length
    while bad - good > 1:
        mid = (good + bad) // 2
        if ix.count(recent[-mid:]):
            good = mid
        else:
            bad = mid
    return good


def _stats(xs: list[float]) -> str:
    a = np.array(xs) * 1e6
    return f"median {np.median(a):.0f} us, p99 {np.percentile(a, 99):.0f} us, max {a.max():.0f} us"


def run(index: Path, source, ticks: int = 3000, active: int = 3, min_span: int | None = None, seed: int = 0,
        temperature: float | None = None) -> str:
    from textconductor.engine.root import Settings, build_conductor, open_bank
    min_span = min_span or DEFAULT_MIN_SPAN
    ix = CorpusIndex.open(index)
    warm_s = ix.warm()  # as the engine does in the background when it opens the index
    bank, names = open_bank(source, "cpu", 1)
    weights = tuple((n, 1.0) for n in names[:active])
    step_w, mark_w, mark_c, scratch_w, scratch_c = [], [], [], [], []
    marks = 0
    # Runs of the same seeded performance (the same text), alternately marking as the engine does
    # and searching from scratch, twice each (so neither always runs on the other's warm caches);
    # each lookup comes right after a step, as it would in the engine.
    for mode in ("incremental", "scratch", "scratch", "incremental"):
        settings = Settings(rate=0.0, seed=seed, weights=weights)
        if temperature:
            settings = dataclasses.replace(settings, temperature=temperature)
        conductor = build_conductor(bank, names, settings)
        live = LiveProvenance(ix, lambda c=conductor: c.names, min_span)
        recent = bytearray()
        for _ in range(ticks):
            t0 = time.perf_counter()
            tick = conductor.tick()
            t1 = time.perf_counter()
            if mode == "incremental":
                step_w.append(t1 - t0)
                c0 = time.thread_time()
                out = live.after_tick(tick)
                mark_c.append(time.thread_time() - c0)
                mark_w.append(time.perf_counter() - t1)
                marks += out is not None
            else:
                c0 = time.thread_time()
                recent.append(ord(tick.char))
                del recent[:-SCRATCH_WINDOW]
                if len(recent) >= min_span:
                    longest_from_scratch(ix, bytes(recent), min_span)
                scratch_c.append(time.thread_time() - c0)
                scratch_w.append(time.perf_counter() - t1)
    # The copying case: corpus text fed as if generated; every character extends a long match.
    m = Matcher(ix, min_span)
    start = ix.corpora[0].start + ix.corpora[0].chars // 3
    stretch = bytes(ix.text[start:start + 5000])
    c0, t0 = time.thread_time(), time.perf_counter()
    for b in stretch:
        m.push(b)
    copy_w, copy_c = (time.perf_counter() - t0) / len(stretch), (time.thread_time() - c0) / len(stretch)
    t0 = time.perf_counter()
    for i in range(min_span, len(stretch)):
        longest_from_scratch(ix, stretch[max(0, i + 1 - SCRATCH_WINDOW):i + 1], min_span)
    copy_scratch = (time.perf_counter() - t0) / (len(stretch) - min_span)
    text = "".join(conductor.history)[-ticks:]
    return "\n".join([
        f"# bench provenance: 2 x {ticks:,} ticks of {', '.join(names[:active])} (seed {seed}, "
        f"T={conductor.params.temperature:g}), spans of "
        f"{min_span}+ chars, index {index} ({ix.n:,} chars, pages mapped in {warm_s:.2f} s)",
        f"engine step (conductor.tick): {_stats(step_w)}",
        f"marking after it (incremental matcher): {_stats(mark_w)}; CPU median "
        f"{np.median(mark_c) * 1e6:.0f} us; {marks // 2} ticks inside a marked span",
        f"search from scratch each tick (last {SCRATCH_WINDOW} chars): {_stats(scratch_w)}; CPU median "
        f"{np.median(scratch_c) * 1e6:.0f} us",
        f"marking / step: {np.median(mark_w) / np.median(step_w):.2f} (medians); "
        f"from scratch / incremental: {np.median(scratch_w) / np.median(mark_w):.1f}x",
        f"copying case (5,000 chars of {ix.corpora[0].style}'s own text fed as generated): "
        f"{copy_w * 1e6:.0f} us wall, {copy_c * 1e6:.0f} us CPU per character; from scratch "
        f"{copy_scratch * 1e6:.0f} us wall",
        f"text sample: {text[-120:]!r}",
    ])
