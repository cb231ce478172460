"""Seeded sampling: one uniform draw per character, so a run is reproducible from its seed."""

from __future__ import annotations

import numpy as np


class Sampler:
    def __init__(self, seed: int = 0) -> None:
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)

    def draw(self, p: np.ndarray) -> int:
        cum = np.cumsum(p, dtype=np.float64)
        u = self.rng.random() * cum[-1]
        return int(min(np.searchsorted(cum, u, side="right"), len(p) - 1))
