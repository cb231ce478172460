"""The toy styles the tools' tests share: two generated corpora that differ in one persistent
feature (the same words, lower case or UPPER CASE), a shared base on both, and each style
fine-tuned from it with and without re-entry. The smallest faithful copy of the real failure:
without re-entry, a style that takes over reads the other's text and continues it (the base's
habit: the case persists), exactly as linux -> bible kept writing C.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

WORDS = "lord thy thee shall unto and the of his heart praise mercy for ever amen".split()


def toy_text(upper: bool, chars: int, seed: int) -> str:
    rng = random.Random(seed)
    lines, n = [], 0
    while n < chars:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 14))) + "."
        lines.append(line.upper() if upper else line)
        n += len(line) + 1
    return "\n".join(lines)[:chars] + "\n"


@pytest.fixture(scope="session")
def toy_banks(tmp_path_factory) -> Path:
    """A folder with low.txt and up.txt, a shared base on both, and each style fine-tuned from it
    with and without re-entry: NAME.plain.safetensors and NAME.reentry.safetensors."""
    from textconductor.training.train import TrainConfig, train
    d = tmp_path_factory.mktemp("toy")
    (d / "low.txt").write_text(toy_text(False, 60_000, 0))
    (d / "up.txt").write_text(toy_text(True, 60_000, 1))
    small = dict(layers=1, hidden=64, embed=16, batch=16, seq_len=64, warmup_steps=10)
    train([d / "low.txt", d / "up.txt"], d / "base.safetensors",
          TrainConfig(name="base", chars=150_000, lr=1e-2, **small), progress_bar=False, threads=1)
    for name, other in (("low", "up"), ("up", "low")):
        for kind, share in (("plain", 0.0), ("reentry", 0.8)):
            cfg = TrainConfig(name=name, chars=30_000, lr=2e-3, base=str(d / "base.safetensors"), line_starts=True,
                              segment=64, reentry=share, prefix_max=48, **small)
            train([d / f"{name}.txt"], d / f"{name}.{kind}.safetensors", cfg, progress_bar=False, threads=1,
                  foreign_paths=[d / f"{other}.txt"] if share else None)
    return d
