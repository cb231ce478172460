"""Where the engine's ticks sit in the text view, and the marks it reported, without Qt.

The text view knows characters, the engine knows ticks: a selection must become a tick range
(`/tc/keep START END`) and a `/tc/marked` range must become a stretch of the view to draw its margin
mark beside. `TickMap` remembers, for each tick, the absolute offset of its character: the number of
characters ever appended to the view before it (the view counts them in `chars_total`; trimming the
top of the view and clearing it never change an absolute offset).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass

MARK_CONTROLS = ("keep", "reject")
KEEP_TICKS = 60000  # ticks whose place is remembered: more than the view's scrollback holds
KEEP_MARKS = 500


class TickMap:
    """tick <-> absolute character offset, for the ticks still in (or near) the view.

    Plain lists searched by bisection (a paint looks up every visible mark); trimmed to `keep` in
    batches, so appending stays O(1) amortised.
    """

    def __init__(self, keep: int = KEEP_TICKS) -> None:
        self.keep = keep
        self.offsets: list[int] = []
        self.ticks: list[int] = []

    def add(self, first_offset: int, ticks: list[int]) -> None:
        """Ticks whose characters were appended one after the other from `first_offset` on."""
        for k, t in enumerate(ticks):
            if self.ticks and t <= self.ticks[-1]:
                # The engine restarted behind what we saw (from a lagging snapshot): ticks from t on
                # are written anew further down the view, so forget where they were; the ticks
                # before t stay where their characters are, and so do their margin marks.
                cut = bisect_left(self.ticks, t)
                del self.offsets[cut:]
                del self.ticks[cut:]
            self.offsets.append(first_offset + k)
            self.ticks.append(t)
        if len(self.ticks) > self.keep + self.keep // 2:
            del self.offsets[:-self.keep]
            del self.ticks[:-self.keep]

    def ticks_in(self, a: int, b: int) -> tuple[int, int] | None:
        """The tick range [start, end) of the characters at offsets [a, b), or None when none is a tick."""
        i, j = bisect_left(self.offsets, a), bisect_left(self.offsets, b)
        if i >= j:
            return None
        return self.ticks[i], self.ticks[j - 1] + 1

    def offsets_of(self, start: int, end: int) -> tuple[int, int] | None:
        """The offsets [a, b) of the characters of ticks [start, end) (primed text between them included)."""
        i, j = bisect_left(self.ticks, start), bisect_left(self.ticks, end)
        if i >= j:
            return None
        return self.offsets[i], self.offsets[j - 1] + 1


@dataclass(frozen=True)
class ShownMark:
    kind: str
    start: int
    end: int


class MarkList:
    """The marks the engine reported (`/tc/marked`), a re-marked range replacing its kind, and its counts."""

    def __init__(self, keep: int = KEEP_MARKS) -> None:
        self.keep = keep
        self.marks: OrderedDict[tuple[int, int], str] = OrderedDict()
        self.kept = self.rejected = 0

    def add(self, kind: str, start: int, end: int, kept: int, rejected: int) -> None:
        self.marks.pop((start, end), None)
        self.marks[(start, end)] = kind
        while len(self.marks) > self.keep:
            self.marks.popitem(last=False)
        self.kept, self.rejected = kept, rejected

    def shown(self) -> list[ShownMark]:
        return [ShownMark(k, s, e) for (s, e), k in self.marks.items()]

    def label(self) -> str:
        return f"kept {self.kept}" + (f" · rejected {self.rejected}" if self.rejected else "")
