"""Held-out bits per character, for a CharLSTM and for the n-gram baseline on the same positions.

The held-out blocks are cut into windows; each window starts with up to WARMUP characters of the
text before it (scored by nobody) so the LSTM is judged with context, like the n-gram is.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from textconductor.model.charlstm import CharLSTM

WARMUP = 128
PIECE = 1024
LN2 = math.log(2.0)


def scored_windows(n: int, blocks: list[tuple[int, int]], max_chars: int | None = None
                   ) -> list[tuple[int, int, int]]:
    """Windows (input_start, first_scored, end): predict data[t] for t in [first_scored, end).

    With max_chars, keep pieces evenly spread over all blocks so a quick estimate is unbiased
    by position in the file.
    """
    pieces = []
    for s, e in blocks:
        for p in range(max(s, 1), e, PIECE):
            pieces.append((p, min(p + PIECE, e)))
    if max_chars is not None and pieces:
        keep = max(1, min(len(pieces), max_chars // PIECE))
        idx = np.linspace(0, len(pieces) - 1, keep).round().astype(int)
        pieces = [pieces[i] for i in sorted(set(idx))]
    return [(max(0, p - 1 - WARMUP), p, q) for p, q in pieces]


@torch.no_grad()
def model_bpc(model: CharLSTM, data: np.ndarray, windows: list[tuple[int, int, int]],
              batch: int = 64) -> float:
    """Mean bits/char of `model` over the scored positions of `windows`."""
    device = model.head.weight.device
    was_training = model.training
    model.eval()
    total_nats, total = 0.0, 0
    for i in range(0, len(windows), batch):
        chunk = windows[i:i + batch]
        length = max(q - a - 1 for a, _, q in chunk)
        x = np.zeros((len(chunk), length), dtype=np.int64)
        y = np.zeros((len(chunk), length), dtype=np.int64)
        mask = np.zeros((len(chunk), length), dtype=bool)
        for r, (a, p, q) in enumerate(chunk):
            n = q - a - 1
            x[r, :n] = data[a:q - 1]
            y[r, :n] = data[a + 1:q]
            mask[r, p - a - 1:n] = True
        logits, _ = model(torch.from_numpy(x).to(device))
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).to(device).reshape(-1),
                              reduction="none")
        m = torch.from_numpy(mask).to(device).reshape(-1)
        total_nats += float(nll[m].sum())
        total += int(m.sum())
    model.train(was_training)
    return total_nats / max(total, 1) / LN2


def scored_positions(windows: list[tuple[int, int, int]]) -> np.ndarray:
    return np.concatenate([np.arange(p, q) for _, p, q in windows]) if windows else np.zeros(0, int)
