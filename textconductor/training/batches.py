"""What each batch row reads: segments of a corpus, line starts, and re-entry prefixes.

Each of the `batch` rows reads its own stream: a segment of up to `segment` characters from one
corpus, read `seq_len` at a time with the LSTM state carried across steps (truncated BPTT), then a
jump to a fresh random segment with a zeroed state. With several corpora the segment's corpus is
drawn uniformly, so a shared base model sees every style equally however large its file is.

Every random choice is derived from (seed, step, row), so a resumed run reads exactly what an
uninterrupted one would have.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from textconductor.protocol.charset import CHAR_TO_INDEX
from textconductor.training.config import IGNORE, PREFIX_MIN, TrainConfig


@dataclass
class Streams:
    """Where each batch row is reading: corpus index, position, characters left in its segment."""

    corpus: np.ndarray
    pos: np.ndarray
    left: np.ndarray
    reset: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


def _rng(seed: int, step: int, row: int) -> np.random.Generator:
    return np.random.default_rng([seed, step, row])


def newline_starts(trains: list[np.ndarray], seq_len: int) -> list[np.ndarray]:
    """Per corpus, the positions of "\n" from which a whole sequence can still be read."""
    nl = CHAR_TO_INDEX["\n"]
    out = []
    for t in trains:
        pos = np.flatnonzero(t[:len(t) - seq_len - 1] == nl)
        out.append(pos if len(pos) else np.zeros(1, dtype=np.int64))  # no newline: start at the top
    return out


def foreign_prefix(g: np.random.Generator, foreign: list[np.ndarray], cfg: TrainConfig) -> np.ndarray:
    """A random piece of another style's text to open a re-entry segment with."""
    f = foreign[int(g.integers(len(foreign)))]
    k = int(g.integers(PREFIX_MIN, max(PREFIX_MIN, min(cfg.prefix_max, cfg.seq_len - 8)) + 1))
    q = int(g.integers(0, len(f) - k))
    piece = f[q:q + k]
    if g.random() < 1 / 3:  # the switch comes at a line break
        nl = np.flatnonzero(piece == CHAR_TO_INDEX["\n"])
        if len(nl) and nl[-1] + 1 >= PREFIX_MIN:
            piece = piece[:nl[-1] + 1]
    return piece


def advance_streams(streams: Streams, trains: list[np.ndarray], cfg: TrainConfig, step: int,
                    starts: list[np.ndarray] | None = None,
                    foreign: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Batch (x, y) for this step, jumping rows whose segment is used up; marks rows to reset.

    `starts` (from newline_starts) restricts where a fresh segment may begin. With `foreign`
    corpora, a share `cfg.reentry` of fresh segments opens with a foreign prefix whose targets are
    IGNORE; the own text then starts at a line start or mid-line, half and half.
    """
    T = cfg.seq_len
    streams.reset = np.zeros(cfg.batch, dtype=bool)
    x = np.empty((cfg.batch, T), dtype=np.int64)
    y = np.empty((cfg.batch, T), dtype=np.int64)
    for b in range(cfg.batch):
        c, p = int(streams.corpus[b]), int(streams.pos[b])
        if streams.left[b] <= 0 or c < 0 or p + T + 1 > len(trains[c]):
            g = _rng(cfg.seed, step, b)
            c = int(g.integers(len(trains)))
            if starts is None:
                p = int(g.integers(0, len(trains[c]) - T - 1))
            else:
                p = int(starts[c][g.integers(len(starts[c]))])
            streams.corpus[b], streams.left[b] = c, cfg.segment
            streams.reset[b] = True
            if foreign and cfg.reentry > 0 and g.random() < cfg.reentry:
                prefix = foreign_prefix(g, foreign, cfg)
                if g.random() < 0.5:  # mid-line: anywhere in the own text
                    p = int(g.integers(0, len(trains[c]) - T - 1))
                k = len(prefix)
                seq = np.concatenate([prefix, trains[c][p:p + T + 1 - k]])
                x[b], y[b] = seq[:T], seq[1:T + 1]
                y[b, :k - 1] = IGNORE  # targets inside the prefix; the first own character counts
                streams.pos[b] = p + T - k
                streams.left[b] -= T
                continue
        x[b] = trains[c][p:p + T]
        y[b] = trains[c][p + 1:p + T + 1]
        streams.pos[b] = p + T
        streams.left[b] -= T
    return x, y
