"""Burn-in care: in fullscreen the whole text moves by a few pixels every few minutes.

A gallery screen shows the same layout for days: the text's margins, its line grid and the
status line stay where they are, and OLED and plasma panels (and some LCDs) keep a ghost of what
never moves. Moving the text a little, rarely, spreads that wear without anyone noticing: a step
of a pixel or two every few minutes is below what a visitor sees, and over a cycle of a few hours
the offsets cover a small square evenly.

This module is the pure part, without Qt (so `ui --help` can parse the option): the settings and
`burn_in_offset`, an offset for a time (tested with an injected clock). `burn_in_shift.BurnInShift`
applies it to a text view while its window is fullscreen; in a normal window the offset is 0 (a
performer's window moves and resizes anyway).
Settings: `[screen] burn_in_px` and `burn_in_every_s` in frontend.toml, `ui --burn-in PX[/SECONDS]`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_PX = 3
DEFAULT_EVERY_S = 180.0
CYCLE_STEPS = 60  # steps in one full Lissajous figure (3 hours at the default step)


@dataclass(frozen=True)
class BurnInSettings:
    """`px`: the largest offset each way (0: off); `every_s`: seconds between moves."""

    px: int = DEFAULT_PX
    every_s: float = DEFAULT_EVERY_S

    @classmethod
    def from_screen(cls, screen: dict) -> BurnInSettings:
        """From frontend.toml's `[screen]` table (`burn_in_px`, `burn_in_every_s`)."""
        return cls(int(screen.get("burn_in_px", DEFAULT_PX)), float(screen.get("burn_in_every_s", DEFAULT_EVERY_S)))

    @property
    def on(self) -> bool:
        return self.px > 0 and self.every_s > 0


def parse_burn_in(text: str) -> BurnInSettings:
    """'PX' or 'PX/SECONDS' (the `ui --burn-in` option); ValueError for anything else."""
    px_s, _, every_s = text.partition("/")
    px = int(px_s)
    every = float(every_s) if every_s else DEFAULT_EVERY_S
    if px < 0 or px > 50 or not math.isfinite(every) or every <= 0:
        raise ValueError("expected PX (0..50) or PX/SECONDS (SECONDS > 0)")
    return BurnInSettings(px, every)


def burn_in_offset(t: float, px: int, every_s: float) -> tuple[int, int]:
    """The text's offset (dx, dy) in pixels at time `t` (seconds, any origin).

    Constant for `every_s` seconds, then a step along a 3:2 Lissajous figure of amplitude `px`:
    the figure fills the square rather than circling its edge, and with `CYCLE_STEPS` steps per
    cycle one step moves at most about px/3 + 1 pixels. Both components stay within -px..px.
    """
    if px <= 0 or every_s <= 0 or not math.isfinite(t):
        return 0, 0
    k = math.floor(t / every_s)
    theta = 2 * math.pi * (k % CYCLE_STEPS) / CYCLE_STEPS
    return round(px * math.sin(3 * theta)), round(px * math.sin(2 * theta))
