"""Where the styles sit on the puck's circle, and the weights a puck position gives them.

Headless controllers (`OscSink.set_puck`, the osc-bridge's XY pad, the autopilot) must move the
weights exactly as the on-screen puck does, without importing Qt. The one definition is the
protocol's pure `textconductor/protocol/puck_geometry.py` (numpy only: styles evenly on the unit
circle, first at the top, clockwise; inverse-distance-squared weights with a snap circle around
each style), shared with the window; this module adapts it to names and plain tuples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from textconductor.protocol import puck_geometry


def style_positions(n: int) -> list[tuple[float, float]]:
    """`n` points evenly on the unit circle, the first at the top (0, 1), then clockwise."""
    return [(float(x), float(y)) for x, y in puck_geometry.style_positions(n)]


def puck_weights(x: float, y: float, names: Sequence[str]) -> dict[str, float]:
    """Weights (0..1, summing to 1) of the styles `names`, placed by `style_positions`, for the puck at (x, y).

    Raises ValueError for a non-finite position. Delegates to `puck_geometry.weights_by_name`, the one
    definition the window and the engine client use too.
    """
    return puck_geometry.weights_by_name(x, y, names)


def clamp_to_disc(x: float, y: float, radius: float = 1.0) -> tuple[float, float]:
    """(x, y) pulled back onto the disc of `radius` if it lies outside (direction kept)."""
    r = math.hypot(x, y)
    if r <= radius or r == 0.0:
        return x, y
    return x * radius / r, y * radius / r
