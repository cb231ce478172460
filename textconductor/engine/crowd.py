"""The crowd in the engine: the audience's weights beside the performer's, and how they combine.

The audience server sends `/tc/crowd` (the room's weights, like any controller) and the performer
sends `/tc/crowd_mode` (off | blend | crowd, and how much the crowd counts in blend). Both arrive
as commands, so the one place that mixes is the conductor: a switch acts at the next character,
the performance record holds every change, and a replay gives the same text. The performer's own
weights are never overwritten by the crowd: switching back to `off` gives the performer's mix at
once, exactly as it was left.

A crowd with no weight at all (an empty room: every phone timed out) is *no* crowd: in `blend` and
`crowd` the performer's mix plays, never silence and never a stale crowd.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from textconductor.protocol.commands import CROWD_MODES

DEFAULT_BLEND = 0.5  # blend's starting share: half the room, half the performer


def combine(performer: np.ndarray | None, crowd: np.ndarray | None, mode: str, blend: float) -> np.ndarray | None:
    """The weights in effect from the performer's and the crowd's, both already normalised (or None).

    off: the performer's; crowd: the crowd's; blend: (1 - blend) performer + blend crowd. Where one
    side has no weight the other plays alone; None only when neither has any.
    """
    if mode == "off" or crowd is None:
        return performer
    if mode == "crowd" or performer is None:
        return crowd
    b = float(np.clip(blend, 0.0, 1.0))
    w = (1.0 - b) * performer + b * crowd
    total = w.sum()
    return w / total if total > 0 else performer


@dataclass
class Crowd:
    """What the engine knows of the audience: its raw weights (bank order) and the performer's choice."""

    mode: str = "off"
    blend: float = DEFAULT_BLEND
    weights: np.ndarray | None = field(default=None)  # None: no phone plays

    def set_weights(self, raw: tuple | np.ndarray) -> None:
        w = np.asarray(raw, dtype=float)
        self.weights = w if w.size and float(w.sum()) > 0 else None

    def set_mode(self, mode: str, blend: float | None = None) -> None:
        if mode not in CROWD_MODES:
            raise ValueError(f"crowd mode must be one of {CROWD_MODES}")
        self.mode = mode
        if blend is not None:
            self.blend = float(np.clip(blend, 0.0, 1.0))

    def state(self) -> dict[str, Any]:
        """For the engine's snapshot: a restarted engine keeps the room's say (and the crowd's weights)."""
        return {"mode": self.mode, "blend": self.blend,
                "weights": None if self.weights is None else [float(x) for x in self.weights]}

    def restore(self, state: dict[str, Any], n_styles: int) -> None:
        mode = state.get("mode", "off")
        self.mode = mode if mode in CROWD_MODES else "off"
        self.blend = float(np.clip(float(state.get("blend", DEFAULT_BLEND)), 0.0, 1.0))
        w = state.get("weights")
        self.weights = None
        if isinstance(w, list) and len(w) == n_styles:
            self.set_weights(w)
