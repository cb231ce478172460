"""`textconductor bench train`: training throughput (chars/s) per model size and thread count.

The same training step as `train` (forward, cross-entropy, backward, clip, Adam) on batch 32 x 128
characters of real text, measured side by side in one run.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.protocol.charset import encode, fold
from textconductor.training.config import TrainConfig

SIZES = ((2, 256), (2, 512))


def step_rate(data: np.ndarray, layers: int, hidden: int, threads: int, seconds: float,
              batch: int = TrainConfig.batch, seq_len: int = TrainConfig.seq_len) -> float:
    """Training characters per second of `train`'s own step (its batch shape and clipping)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = CharLSTM(CharLSTMConfig(layers=layers, hidden=hidden))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    rng = np.random.default_rng(0)

    def one() -> None:
        starts = rng.integers(0, len(data) - seq_len - 1, batch)
        x = torch.from_numpy(np.stack([data[s:s + seq_len] for s in starts]).astype(np.int64))
        y = torch.from_numpy(np.stack([data[s + 1:s + seq_len + 1] for s in starts]).astype(np.int64))
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), TrainConfig.clip)
        opt.step()

    for _ in range(3):
        one()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        one()
        n += 1
    return n * batch * seq_len / (time.perf_counter() - t0)


def run(corpus: Path | None, seconds: float) -> str:
    """The `bench train` table: each model size on 1 and 2 threads, side by side in one run."""
    if corpus:
        text = fold(Path(corpus).read_text(encoding="utf-8", errors="replace"))[:2_000_000]
    else:
        text = ("In the beginning God created the heaven and the earth. " * 20_000)
    data = encode(text)
    lines = [f"# bench train: batch {TrainConfig.batch} x {TrainConfig.seq_len}, Adam, {seconds:.0f} s per cell, "
             f"text: {Path(corpus).name if corpus else 'repeated sentence'}", "",
             "| model | params | 1 thread chars/s | 2 threads chars/s | 2 / 1 |", "|---|---:|---:|---:|---:|"]
    for layers, hidden in SIZES:
        params = CharLSTM(CharLSTMConfig(layers=layers, hidden=hidden)).num_params()
        one = step_rate(data, layers, hidden, 1, seconds)
        two = step_rate(data, layers, hidden, 2, seconds)
        lines.append(f"| {layers}x{hidden} | {params / 1e6:.2f} M | {one:,.0f} | {two:,.0f} | {two / one:.2f}x |")
    return "\n".join(lines)
