"""Single-style sampling: the simplest way to hear what one checkpoint has learned."""

from __future__ import annotations

import torch

from textconductor.model.charlstm import CharLSTM
from textconductor.protocol.charset import CHARS, fold
from textconductor.protocol.defaults import DEFAULT_TEMPERATURE


@torch.no_grad()
def sample(model: CharLSTM, chars: int, temperature: float = DEFAULT_TEMPERATURE, prime: str = "\n",
           seed: int = 0) -> str:
    """Generate `chars` characters after `prime` (folded; a newline when empty)."""
    gen = torch.Generator().manual_seed(seed)
    prime = fold(prime) or "\n"
    state = model.prime(prime[:-1])
    last, out = prime[-1], []
    t = max(float(temperature), 1e-3)
    for _ in range(chars):
        logits, state = model.step(last, state)
        probs = torch.softmax(logits.float().cpu() / t, dim=-1)
        last = CHARS[int(torch.multinomial(probs, 1, generator=gen))]
        out.append(last)
    return "".join(out)
