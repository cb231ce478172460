"""Colouring the bars: each character's bar in the colour of the style that gives it most mass, and the
small multiples ordered by weight. Kept apart from the widgets (`bars.py`) because it is about the
bank (names, looks) and the tick, and apart from the window because it runs at the display rate.

Brushes are cached per colour: building a QBrush per bar per frame showed up in the frame time.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QBrush, QColor

from textconductor import protocol
from textconductor.frontend.bars import MixedBars, StyleMultiples
from textconductor.frontend.theme import StyleLook
from textconductor.protocol.charset import CHARS

CHAR_INDEX = {c: i for i, c in enumerate(CHARS)}
NEUTRAL = "#9aa0aa"  # bars no style can be credited with (a tick from another bank)


class BarColours:
    """Draws a tick into the mixed bars and the small multiples, coloured by the bank's looks."""

    def __init__(self, bars: MixedBars, multiples: StyleMultiples) -> None:
        self.bars, self.multiples = bars, multiples
        self.names: list[str] = []
        self.looks: dict[str, StyleLook] = {}
        self._cache: dict[str, QBrush] = {}
        self._brushes: list[QBrush] = [self.brush(NEUTRAL)]

    def brush(self, colour: str) -> QBrush:
        b = self._cache.get(colour)
        if b is None:
            b = self._cache[colour] = QBrush(QColor(colour))
        return b

    def set_bank(self, names: list[str], looks: dict[str, StyleLook]) -> None:
        """The styles in bank order (tick indices refer to it) and how each looks."""
        self.names, self.looks = list(names), looks
        self._brushes = [self.brush(looks[n].colour) for n in self.names] + [self.brush(NEUTRAL)]

    def draw(self, t: protocol.Tick) -> None:
        n = len(self.names)
        chosen = CHAR_INDEX.get(t.char)
        active = [int(i) for i in t.active if 0 <= i < n]
        dists = None
        if n and active and len(t.weights) == n and t.dists.shape[0] == len(t.active):
            w = t.weights[active]
            dists = t.dists[[k for k, i in enumerate(t.active) if 0 <= i < n]]
            colour_idx = np.asarray(active)[np.argmax(w[:, None] * dists, axis=0)]
            brushes = self._brushes
        else:
            colour_idx, brushes = None, [self.brush(NEUTRAL)]
        if self.bars.isVisible():
            self.bars.show_distribution(t.mixed, colour_idx, brushes, chosen)
        if self.multiples.isVisible() and dists is not None:
            order = sorted(range(len(active)), key=lambda k: -float(t.weights[active[k]]))
            rows = []
            for k in order:
                look = self.looks[self.names[active[k]]]
                rows.append((look.display, look.colour, dists[k], float(t.weights[active[k]])))
            self.multiples.show_styles(rows, chosen)
