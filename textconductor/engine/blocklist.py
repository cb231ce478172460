"""The operator's blocklist: words and phrases the engine never completes. Pure, no I/O.

Matching is on whole words, ignoring case and punctuation: text is read as words (runs of letters
and digits, lower-cased) separated by anything else, and an entry is the sequence of words it
reads as (`Foo-bar!` and `foo bar` are the same entry, and match `FOO, bar` but not `foobar` or
`foo barn`).

A word is finished by the character after it. So while the text ends in the letters of a blocked
entry, `completing()` is true and the conductor masks every character that would end the word:
everything except letters and digits. The word then runs on into a longer one (`foo` -> `food`,
`fooe`), which is not blocked: whole words. Letters and digits are never masked, so the masked
distribution always has somewhere to go; when every likely character was masked (all the mass on
`.` and ` ` at a low temperature), the conductor samples the untempered mixture restricted to
letters and digits instead (`guard.mask`'s fallback).

A letter is shown before the engine knows how the word ends: for one character the screen can
read `foo` before it becomes `food`. The entry is never written as a word of its own.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from textconductor.protocol.charset import CHARS, fold

log = logging.getLogger(__name__)

WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
BOUNDARY_IDX = np.array([i for i, c in enumerate(CHARS) if c not in WORD_CHARS], dtype=np.int64)
MAX_WORD = 64  # a longer run of letters matches no entry (and is not kept)
CONTEXT_CHARS = 512  # history a prime is read against (a phrase may begin before the prime)


def words_of(text: str) -> list[str]:
    """The words of `text` as matching sees them: lower-cased runs of letters and digits."""
    out, cur = [], []
    for ch in fold(text):
        if ch in WORD_CHARS:
            cur.append(ch.lower())
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out


def normalise(entry: str) -> str:
    """An entry as matching sees it: its words joined by one space ('' when it has none)."""
    return " ".join(words_of(entry))


def parse(text: str) -> list[str]:
    """Entries from a blocklist file: one word or phrase a line; `#` starts a comment line."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        entry = normalise(line)
        if entry and len(entry) <= MAX_WORD * 4:
            out.append(entry)
        else:
            log.warning("blocklist: ignoring %r (no letters or digits, or too long)", line[:40])
    return sorted(set(out))


@dataclass(frozen=True)
class Blocklist:
    """A set of normalised entries (see `normalise`)."""

    entries: frozenset[str] = frozenset()
    max_words: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_words", max((e.count(" ") + 1 for e in self.entries), default=0))

    @classmethod
    def of(cls, entries: Iterable[str]) -> Blocklist:
        return cls(frozenset(e for e in (normalise(x) for x in entries) if e))

    def __len__(self) -> int:
        return len(self.entries)

    def ends_with_entry(self, words: list[str]) -> bool:
        """True when the last words of `words` are an entry."""
        for k in range(1, min(self.max_words, len(words)) + 1):
            if " ".join(words[-k:]) in self.entries:
                return True
        return False

    def occurrences(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, entry) of every entry in `text`, by character offsets of its first and last word."""
        spans = _word_spans(text)
        out = []
        for i in range(len(spans)):
            for k in range(1, min(self.max_words, len(spans) - i) + 1):
                phrase = " ".join(w for _, _, w in spans[i:i + k])
                if phrase in self.entries:
                    out.append((spans[i][0], spans[i + k - 1][1], phrase))
        return out


def _word_spans(text: str) -> list[tuple[int, int, str]]:
    spans, start = [], None
    for i, ch in enumerate(text):
        if ch in WORD_CHARS:
            if start is None:
                start = i
        elif start is not None:
            spans.append((start, i, text[start:i].lower()))
            start = None
    if start is not None:
        spans.append((start, len(text), text[start:].lower()))
    return spans


class BlockMatcher:
    """Where the text stands against the blocklist: the word being written and the ones before it.

    `push` every character of the history in order; `completing()` says whether the next
    character must not end the current word. O(words per entry) a character.
    """

    def __init__(self, blocklist: Blocklist | None = None) -> None:
        self.blocklist = blocklist or Blocklist()
        self.clear()

    def clear(self) -> None:
        self.current: list[str] = []
        self.too_long = False
        self.previous: deque[str] = deque(maxlen=max(self.blocklist.max_words - 1, 1))

    def set_blocklist(self, blocklist: Blocklist, history: str) -> None:
        self.blocklist = blocklist
        self.rebuild(history)

    def rebuild(self, text: str) -> None:
        self.clear()
        for ch in text[-CONTEXT_CHARS:]:
            self.push(ch)

    def push(self, ch: str) -> None:
        if ch in WORD_CHARS:
            if len(self.current) < MAX_WORD:
                self.current.append(ch.lower())
            else:
                self.too_long = True
            return
        if self.current:
            self.previous.append("" if self.too_long else "".join(self.current))
            self.current, self.too_long = [], False

    def completing(self) -> bool:
        """The text ends in the letters of an entry: a boundary character now would finish it."""
        if not self.current or self.too_long or not self.blocklist.entries:
            return False
        return self.blocklist.ends_with_entry([*self.previous, "".join(self.current)])


def filter_prime(blocklist: Blocklist, context: str, text: str) -> tuple[str, int]:
    """(what of `text` may enter after `context`, entries dropped). `text` is already folded.

    Every entry that the prime would finish is dropped from it: the part of the entry inside the
    prime is cut out (an entry that began in the history loses its prime part); an entry at the
    very end of the prime counts as finished, since it stands on screen as typed. When the prime
    would finish an entry that lies wholly in the history (the history ends in its letters and the
    prime begins with a space), the whole prime is dropped: the history cannot be unwritten.
    """
    if not blocklist.entries or not text:
        return text, 0
    context = context[-CONTEXT_CHARS:]
    dropped = 0
    while True:
        joined = context + text
        cut = len(context)
        hits = [(s, e) for s, e, _ in blocklist.occurrences(joined) if e > cut or (e == cut and s < cut)]
        if not hits:
            return text, dropped
        s, e = hits[0]
        dropped += 1
        if e <= cut:  # the entry is all history; the prime's first character would finish it
            log.info("prime dropped: it would finish a blocked word begun in the text")
            return "", dropped
        text = text[:max(s, cut) - cut] + text[e - cut:]
        if not text:
            return "", dropped
