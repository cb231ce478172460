"""Reading a corpus: refuse what is not text, fold it, and split off a fixed held-out part.

The held-out 5% is taken as contiguous blocks spread through the file (the tail of each of up to
20 equal chunks), so evaluation sees every part of a corpus but never text the model trained on a
few characters away. The split depends only on the text, so train and eval always agree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textconductor.errors import UserError
from textconductor.protocol.charset import encode, fold

HELDOUT_FRACTION = 0.05
MAX_BLOCKS = 20
MIN_CORPUS_CHARS = 10_000  # held-out part is then at least 500 characters
BINARY_SNIFF_BYTES = 1 << 16


class CorpusError(UserError):
    """A corpus that cannot be trained on; the message says which file and why."""


@dataclass
class Corpus:
    path: Path
    sha256: str
    data: np.ndarray  # folded text as character indices (uint8)
    heldout: list[tuple[int, int]]  # [start, end) blocks of `data`

    @property
    def train(self) -> np.ndarray:
        """The training split: everything outside the held-out blocks, joined."""
        keep = np.ones(len(self.data), dtype=bool)
        for s, e in self.heldout:
            keep[s:e] = False
        return self.data[keep]

    @property
    def heldout_chars(self) -> int:
        return sum(e - s for s, e in self.heldout)


def read_text(path: str | Path) -> tuple[str, str]:
    """Folded text and sha256 of the raw bytes, or a CorpusError saying what is wrong."""
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"{path}: no such file")
    if not path.is_file():
        raise CorpusError(f"{path}: not a regular file")
    raw = path.read_bytes()
    if not raw.strip():
        raise CorpusError(f"{path}: file is empty")
    sniff = raw[:BINARY_SNIFF_BYTES]
    controls = sum(1 for b in sniff if b < 32 and b not in (9, 10, 12, 13))
    if b"\x00" in sniff or controls > 0.01 * len(sniff):
        raise CorpusError(f"{path}: looks like a binary file, not text (NUL or control bytes); "
                          "give a plain-text corpus")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # older Gutenberg files
    return fold(text), hashlib.sha256(raw).hexdigest()


def heldout_blocks(n: int) -> list[tuple[int, int]]:
    blocks = int(np.clip(n // 50_000, 1, MAX_BLOCKS))
    edges = np.linspace(0, n, blocks + 1).astype(int)
    out = []
    for a, b in zip(edges[:-1], edges[1:], strict=False):
        size = int(round((b - a) * HELDOUT_FRACTION))
        out.append((b - size, b))
    return out


def load_corpus(path: str | Path) -> Corpus:
    text, sha = read_text(path)
    if len(text) < MIN_CORPUS_CHARS:
        raise CorpusError(f"{path}: too small to hold out 5% for evaluation: {len(text):,} characters "
                          f"after folding, need at least {MIN_CORPUS_CHARS:,}")
    data = encode(text)
    return Corpus(Path(path), sha, data, heldout_blocks(len(data)))
