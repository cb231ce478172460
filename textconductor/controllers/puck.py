"""Where the styles sit on the puck's circle, and the weights a puck position gives them.

Headless controllers (`OscSink.set_puck`, the osc-bridge's XY pad, the autopilot) need the same
puck -> weights rule as the on-screen puck, without importing Qt. The frontend's pure
`textconductor/frontend/puck_math.py` is meant to be the one definition; until it exists this
module is the local stand-in: the enabled styles evenly spaced on the unit circle (first at the
top, then clockwise) and inverse-distance-squared weights. Replacing the two functions below
with calls into puck_math is the whole migration.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# Softening so the weight at a style's own position is finite (1.0 after normalising, not inf).
_EPS = 1e-4


def style_positions(n: int) -> list[tuple[float, float]]:
    """`n` points evenly on the unit circle, the first at the top (0, 1), then clockwise."""
    return [(math.sin(2 * math.pi * i / n), math.cos(2 * math.pi * i / n)) for i in range(n)]


def puck_weights(x: float, y: float, names: Sequence[str]) -> dict[str, float]:
    """Raw weights (0..1, summing to 1) of the styles `names` placed by `style_positions`.

    Inverse distance squared: a style's weight grows sharply as the puck approaches it, so the
    style under the puck dominates while the neighbours still colour the text.
    """
    if not names:
        return {}
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError("puck position must be finite")
    inv = [1.0 / ((x - px) ** 2 + (y - py) ** 2 + _EPS) for px, py in style_positions(len(names))]
    total = sum(inv)
    return {name: v / total for name, v in zip(names, inv, strict=True)}


def clamp_to_disc(x: float, y: float, radius: float = 1.0) -> tuple[float, float]:
    """(x, y) pulled back onto the disc of `radius` if it lies outside (direction kept)."""
    r = math.hypot(x, y)
    if r <= radius or r == 0.0:
        return x, y
    return x * radius / r, y * radius / r
