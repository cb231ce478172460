"""Grow a trained CharLSTM to more hidden units without changing what it predicts (Net2Net-style).

A larger style need not start from scratch: on this project's CPUs a 2x384 model from nothing
would need hours to reach a fine-tuned 2x256, and there is no 2x384 base. So the trained model is
embedded in the wider one: every old weight keeps its place, the new units get a fresh random
init for their own rows (so they compute something and receive gradients), and every weight
*from* a new unit (into the next layer, the recurrence, the head) starts at zero. Until training
moves those zeros, the new units are silent and the widened model's logits equal the original's
exactly (tested); from there training can only use the extra capacity.

PyTorch's LSTM stacks the four gates (input, forget, cell, output) in blocks of `hidden` rows, so
each block is copied separately.
"""

from __future__ import annotations

import torch

from textconductor.model.charlstm import CharLSTM, CharLSTMConfig


@torch.no_grad()
def widen(model: CharLSTM, hidden: int, seed: int = 0) -> CharLSTM:
    """A copy of `model` with `hidden` units per layer that predicts exactly as `model` does."""
    old = model.config
    if hidden < old.hidden:
        raise ValueError(f"cannot widen {old.hidden} units to fewer ({hidden})")
    torch.manual_seed(seed)
    wide = CharLSTM(CharLSTMConfig(old.layers, hidden, old.embed, old.vocab, old.dropout))
    h0 = old.hidden
    wide.embed.weight.copy_(model.embed.weight)
    for k in range(old.layers):
        w_ih, w_hh = getattr(wide.lstm, f"weight_ih_l{k}"), getattr(wide.lstm, f"weight_hh_l{k}")
        o_ih, o_hh = getattr(model.lstm, f"weight_ih_l{k}"), getattr(model.lstm, f"weight_hh_l{k}")
        if k > 0:
            w_ih[:, h0:] = 0  # nothing flows from the layer below's new units
        w_hh[:, h0:] = 0  # nor from this layer's own new units through the recurrence
        for g in range(4):
            rows_new, rows_old = slice(g * hidden, g * hidden + h0), slice(g * h0, (g + 1) * h0)
            w_ih[rows_new, : o_ih.shape[1]] = o_ih[rows_old]
            w_hh[rows_new, :h0] = o_hh[rows_old]
            for name in (f"bias_ih_l{k}", f"bias_hh_l{k}"):
                getattr(wide.lstm, name)[rows_new] = getattr(model.lstm, name)[rows_old]
    wide.head.weight.zero_()
    wide.head.weight[:, :h0] = model.head.weight
    wide.head.bias.copy_(model.head.bias)
    return wide.to(model.head.weight.device, model.head.weight.dtype)
