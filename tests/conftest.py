"""Shared fixtures: tiny generated corpora and tiny trained models, so no test needs ../shared."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

WORDS = {
    "psalm": "lord thy thee shall unto and the of his heart praise mercy for ever amen".split(),
    "code": "int static void return if else while for unsigned long struct char 0 1 NULL".split(),
}


def tiny_text(style: str = "psalm", chars: int = 30_000, seed: int = 0) -> str:
    """Text with strong, learnable regularities: lines of words from a small vocabulary."""
    rng = random.Random(seed)
    words = WORDS[style]
    lines, n = [], 0
    while n < chars:
        if style == "code":
            line = f"\t{rng.choice(words)} {rng.choice(words)}({rng.choice(words)});"
        else:
            line = f"{rng.randint(1, 30)} " + " ".join(rng.choice(words) for _ in range(rng.randint(4, 10))) + "."
        lines.append(line)
        n += len(line) + 1
    return "\n".join(lines)[:chars] + "\n"


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpora") / "psalm.txt"
    path.write_text(tiny_text("psalm"))
    return path


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_corpus, tmp_path_factory) -> Path:
    """A 1x32 model trained for a few seconds on the tiny corpus."""
    from textconductor.training.train import TrainConfig, train
    out = tmp_path_factory.mktemp("ckpt") / "psalm.safetensors"
    cfg = TrainConfig(name="psalm", layers=1, hidden=32, embed=16, batch=8, seq_len=32, chars=150_000, lr=1e-2,
                      warmup_steps=10)
    train([tiny_corpus], out, cfg, progress_bar=False, threads=1)
    return out
