"""The room as pure functions: the phones' pucks in, the crowd's weights out. No I/O, no clock.

Each phone is a puck on the same circle of styles as the window's (`puck_geometry`), and gives
the same inverse-distance weights the window's puck would. The crowd's weights are the plain mean
of the phones' weights: every phone counts the same, and a phone in a style's snap circle adds
exactly 1/N to that style. A phone that has said nothing for `stale_s` no longer counts (its
owner put it away); a room with no phone counting has no weights at all (all zeros on the wire),
which the engine reads as "no crowd" and plays the performer's mix.

`Room` keeps the phones' last positions and when each was heard; the caller passes `now`, so the
time-outs are tested without sleeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from textconductor.protocol.puck_geometry import DEFAULT_SNAP_RADIUS, puck_weights_many, style_positions

STALE_S = 10.0  # a phone silent this long stops counting (the page sends a keepalive every 2 s)
POINTS_CAP = 200  # phone positions sent on for the window's crowd cloud


def phone_weights(positions: np.ndarray, n_styles: int, snap_radius: float = DEFAULT_SNAP_RADIUS) -> np.ndarray:
    """[P, 2] puck positions -> [P, n_styles] weights, each row what the window's puck gives there."""
    return puck_weights_many(np.asarray(positions, dtype=float).reshape(-1, 2), style_positions(n_styles),
                             snap_radius)


def crowd_weights(per_phone: np.ndarray, n_styles: int) -> np.ndarray:
    """The mean of the phones' weight rows ([P, n] -> [n]); zeros when no phone counts."""
    w = np.asarray(per_phone, dtype=float).reshape(-1, n_styles)
    return w.mean(axis=0) if len(w) else np.zeros(n_styles)


def fresh(last_seen: np.ndarray, now: float, stale_s: float = STALE_S) -> np.ndarray:
    """Mask of the phones heard from within `stale_s` of `now`."""
    return (now - np.asarray(last_seen, dtype=float)) < stale_s


def sample_points(positions: np.ndarray, cap: int = POINTS_CAP) -> np.ndarray:
    """At most `cap` of the positions, evenly through the list (deterministic: the cloud does not flicker)."""
    pos = np.asarray(positions, dtype=np.float32).reshape(-1, 2)
    if len(pos) <= cap:
        return pos
    return pos[np.linspace(0, len(pos) - 1, cap).round().astype(int)]


def by_bank(weights: Sequence[float], playing: Sequence[str], bank: Sequence[str]) -> list[float]:
    """Weights over the `playing` styles (the puck's, in order) as a bank-order list (0 for the rest)."""
    index = {name: w for name, w in zip(playing, weights, strict=True)}
    return [float(index.get(name, 0.0)) for name in bank]


@dataclass
class Room:
    """The phones that have played: id -> last position and when it was heard."""

    stale_s: float = STALE_S
    _pos: dict[int, tuple[float, float]] = field(default_factory=dict)
    _seen: dict[int, float] = field(default_factory=dict)

    def move(self, phone: int, x: float, y: float, now: float) -> None:
        self._pos[phone] = (float(x), float(y))
        self._seen[phone] = now

    def heard(self, phone: int, now: float) -> None:
        """A keepalive: the phone still counts where it is (if it has ever played)."""
        if phone in self._pos:
            self._seen[phone] = now

    def leave(self, phone: int) -> bool:
        """The phone disconnected; True if it was counting."""
        self._seen.pop(phone, None)
        return self._pos.pop(phone, None) is not None

    def expire(self, now: float) -> list[int]:
        """Drop the phones silent for `stale_s`; returns their ids."""
        gone = [p for p, t in self._seen.items() if now - t >= self.stale_s]
        for p in gone:
            self.leave(p)
        return gone

    def live(self, now: float) -> tuple[list[int], np.ndarray]:
        """(ids, [P, 2] positions) of the phones that count at `now`."""
        ids = list(self._pos)
        if not ids:
            return [], np.zeros((0, 2))
        keep = fresh(np.array([self._seen[p] for p in ids]), now, self.stale_s)
        ids = [p for p, k in zip(ids, keep, strict=True) if k]
        return ids, np.array([self._pos[p] for p in ids], dtype=float).reshape(-1, 2)

    def __len__(self) -> int:
        return len(self._pos)
