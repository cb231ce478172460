"""The one character set every style predicts over, and folding arbitrary text into it.

Mixing distributions only makes sense when every model's index i means the same symbol, so the
set is fixed for the whole project (newline, tab and printable ASCII: 97 symbols), stored with
every checkpoint and checked when one is loaded. Text is folded into it before training and
before priming, so a performer can type curly quotes or accented letters and nothing breaks.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

CHARS: str = "\n\t" + "".join(chr(c) for c in range(32, 127))
VOCAB_SIZE: int = len(CHARS)  # 97
CHAR_TO_INDEX: dict[str, int] = {c: i for i, c in enumerate(CHARS)}
UNKNOWN_INDEX: int = -1

# Replacements applied before Unicode decomposition. Anything not listed here is decomposed
# (NFKD: ligatures, full-width forms, accented letters) and whatever is still outside the set
# is dropped.
_REPLACEMENTS: dict[str, str] = {
    "\r\n": "\n", "\r": "\n", "\f": "\n", "\v": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n\n",
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2000": " ", "\u2001": " ", "\u2002": " ",
    "\u2003": " ", "\u2004": " ", "\u2005": " ", "\u2006": " ", "\u2008": " ", "\u2009": " ",
    "\u200a": " ", "\u3000": " ", "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "",
    "\ufeff": "", "\u00ad": "",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
    "\u0060": "`", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"', "\u2039": "'", "\u203a": "'",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "--", "\u2015": "--",
    "\u2212": "-", "\u2e3a": "--", "\u2e3b": "---", "\u2500": "-", "\u2501": "-", "\u2502": "|",
    "\u2503": "|", "\u250c": "+", "\u2510": "+", "\u2514": "+", "\u2518": "+", "\u251c": "+",
    "\u2524": "+", "\u252c": "+", "\u2534": "+", "\u253c": "+",
    "\u2044": "/", "\u2215": "/", "\u2026": "...", "\u2022": "*", "\u00b7": ".", "\u2027": ".",
    "\u00c6": "AE", "\u00e6": "ae", "\u0152": "OE", "\u0153": "oe", "\u00df": "ss",
    "\u00d8": "O", "\u00f8": "o", "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d",
    "\u00de": "Th", "\u00fe": "th", "\u00d0": "D", "\u00f0": "d", "\u0131": "i",
    "\u00a3": "L", "\u00a7": "S.", "\u00b6": "P.", "\u00d7": "x", "\u00f7": "/", "\u00b1": "+/-",
    "\u2248": "~", "\u2260": "!=", "\u2264": "<=", "\u2265": ">=", "\u2192": "->", "\u2190": "<-",
    "\u00a9": "(c)", "\u00ae": "(R)", "\u2122": "(TM)", "\u00b0": " deg",
}
_MULTI = {k: v for k, v in _REPLACEMENTS.items() if len(k) > 1}
_SINGLE = str.maketrans({k: v for k, v in _REPLACEMENTS.items() if len(k) == 1})
_ALLOWED = frozenset(CHARS)
# ASCII control characters (other than \n and \t) that survive the replacements are dropped.
_ASCII_DROP = str.maketrans({chr(c): None for c in [*range(0, 32), 127] if chr(c) not in "\n\t"})


def fold(text: str) -> str:
    """Map any Unicode text into CHARS: readable ASCII equivalents first, then drop the rest.

    Idempotent: folding text that is already inside the set returns it unchanged.
    """
    for k, v in _MULTI.items():
        text = text.replace(k, v)
    text = text.translate(_SINGLE)
    if not text.isascii():
        text = "".join(_fold_char(c) for c in text)
    return text.translate(_ASCII_DROP)


def _fold_char(c: str) -> str:
    if c in _ALLOWED:
        return c
    decomposed = unicodedata.normalize("NFKD", c)
    decomposed = decomposed.translate(_SINGLE)  # NFKD can produce e.g. a non-breaking space
    return "".join(ch for ch in decomposed if ch in _ALLOWED)


_LUT = np.full(256, UNKNOWN_INDEX, dtype=np.int16)
for _i, _c in enumerate(CHARS):
    _LUT[ord(_c)] = _i


def encode(text: str) -> np.ndarray:
    """Indices (uint8) of already-folded text; raises ValueError naming the first stray char."""
    raw = np.frombuffer(text.encode("ascii", errors="replace"), dtype=np.uint8)
    idx = _LUT[raw]
    bad = np.flatnonzero(idx < 0)
    if bad.size:
        raise ValueError(f"character {text[bad[0]]!r} at {bad[0]} is not in the character set; fold() first")
    return idx.astype(np.uint8)


def decode(indices: np.ndarray | list[int]) -> str:
    return "".join(CHARS[int(i)] for i in indices)


@dataclass(frozen=True)
class FoldReport:
    """How much folding altered one text: what a corpus loses to the shared character set."""

    chars_in: int
    chars_out: int
    changed: int  # input characters that were outside the set (replaced or dropped)
    dropped: int  # of those, characters with no replacement at all

    @property
    def changed_fraction(self) -> float:
        return self.changed / max(self.chars_in, 1)

    @property
    def dropped_fraction(self) -> float:
        return self.dropped / max(self.chars_in, 1)


def fold_report(text: str) -> FoldReport:
    """Count the characters fold() has to touch; \\r\\n line ends count as changed once per \\r."""
    counts: dict[str, int] = {}
    for c in text:
        if c not in _ALLOWED:
            counts[c] = counts.get(c, 0) + 1
    changed = sum(counts.values())
    dropped = sum(n for c, n in counts.items() if fold(c) == "" and c != "\r")
    return FoldReport(len(text), len(fold(text)), changed, dropped)
