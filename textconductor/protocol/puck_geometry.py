"""The puck's geometry as pure functions (numpy only), so the weight law is testable without Qt.

Styles sit evenly on the unit circle, the first at the top, going clockwise (as a performer reads
a clock). The puck's weights are inverse distance squared, normalised, with one twist: distances
are measured to the edge of a small *snap circle* around each style instead of to its centre.
Inside a snap circle that style is alone (weight 1); approaching it from outside, its weight grows
continuously to 1 (1/d^2 diverges at the edge), so there is no jump when the puck enters or leaves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

DEFAULT_SNAP_RADIUS = 0.18
_EPS = 1e-12


def style_positions(n: int, radius: float = 1.0) -> np.ndarray:
    """[n, 2] positions of n styles on a circle (y up), first at 12 o'clock, clockwise."""
    if n <= 0:
        return np.zeros((0, 2))
    angles = np.pi / 2 - 2 * np.pi * np.arange(n) / n
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def max_snap(positions: np.ndarray) -> float:
    """The largest snap radius that keeps a gap between neighbours' snap circles.

    With many styles (24 on the circle are 0.26 apart) a fixed snap radius would make the circles
    touch, and the whole rim would snap from one style to the next with no blend between them.
    """
    pos = np.asarray(positions, dtype=float).reshape(-1, 2)
    if len(pos) < 2:
        return np.inf
    d = np.hypot(*(pos[:, None, :] - pos[None, :, :]).transpose(2, 0, 1))
    return 0.35 * float(d[~np.eye(len(pos), dtype=bool)].min())


def puck_weights(puck: tuple[float, float] | np.ndarray, positions: np.ndarray,
                 snap_radius: float = DEFAULT_SNAP_RADIUS) -> np.ndarray:
    """Normalised weights (sum 1) of the styles at `positions` for a puck at `puck`.

    w_i ~ 1 / max(d_i - snap_radius, 0)^2; a puck within `snap_radius` of a style gives that style alone.
    The radius is capped by `max_snap`, so neighbouring snap circles never touch.
    """
    pos = np.asarray(positions, dtype=float).reshape(-1, 2)
    n = len(pos)
    if n == 0:
        return np.zeros(0)
    if n == 1:
        return np.ones(1)
    d = np.hypot(*(pos - np.asarray(puck, dtype=float).reshape(1, 2)).T)
    gap = d - min(max(float(snap_radius), 0.0), max_snap(pos))
    nearest = int(np.argmin(d))
    if gap[nearest] <= _EPS ** 0.5:
        w = np.zeros(n)
        w[nearest] = 1.0
        return w
    inv = 1.0 / np.maximum(gap, _EPS) ** 2
    return inv / inv.sum()


def puck_weights_many(pucks: np.ndarray, positions: np.ndarray,
                      snap_radius: float = DEFAULT_SNAP_RADIUS) -> np.ndarray:
    """`puck_weights` for many pucks at once: [P, 2] -> [P, n], each row as `puck_weights` gives it.

    The same law, vectorised, for the audience server: hundreds of phones, each a puck, several
    times a second (one call per phone costs ~100 us; tests check the rows against `puck_weights`).
    """
    pos = np.asarray(positions, dtype=float).reshape(-1, 2)
    pk = np.asarray(pucks, dtype=float).reshape(-1, 2)
    n = len(pos)
    if n == 0 or len(pk) == 0:
        return np.zeros((len(pk), n))
    if n == 1:
        return np.ones((len(pk), 1))
    d = np.hypot(pos[None, :, 0] - pk[:, None, 0], pos[None, :, 1] - pk[:, None, 1])
    gap = d - min(max(float(snap_radius), 0.0), max_snap(pos))
    nearest = np.argmin(d, axis=1)
    rows = np.arange(len(pk))
    inv = 1.0 / np.maximum(gap, _EPS) ** 2
    w = inv / inv.sum(axis=1, keepdims=True)
    snapped = gap[rows, nearest] <= _EPS ** 0.5
    w[snapped] = 0.0
    w[rows[snapped], nearest[snapped]] = 1.0
    return w


def puck_from_weights(weights: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Where to *show* the puck for weights set elsewhere (sliders, MIDI): their weighted centroid.

    Not an exact inverse of `puck_weights` (most weight vectors have no exact puck position), but it
    puts the puck on a style's icon when that style is alone and at the centre when all are equal,
    which is what a performer glancing at the puck expects. Zero weights give the centre.
    """
    w = np.clip(np.asarray(weights, dtype=float).reshape(-1), 0.0, None)
    pos = np.asarray(positions, dtype=float).reshape(-1, 2)
    total = w.sum()
    if len(w) == 0 or total <= 0:
        return np.zeros(2)
    return (w[:, None] * pos).sum(axis=0) / total


def clamp_to_disc(xy: np.ndarray, radius: float = 1.15) -> np.ndarray:
    """Keep the puck inside the drawing area (a little beyond the style circle)."""
    v = np.asarray(xy, dtype=float).reshape(2)
    r = float(np.hypot(*v))
    return v if r <= radius else v * (radius / r)


def weights_by_name(x: float, y: float, names: Sequence[str]) -> dict[str, float]:
    """`puck_weights` for styles `names` placed by `style_positions`, as {name: weight}.

    The form every headless player needs (the engine client, the osc-bridge, the autopilot), so
    they move the weights exactly as the on-screen puck does without importing Qt.
    """
    if not names:
        return {}
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError("puck position must be finite")
    w = puck_weights((x, y), style_positions(len(names)))
    return {name: float(v) for name, v in zip(names, w, strict=True)}
