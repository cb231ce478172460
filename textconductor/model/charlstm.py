"""CharLSTM: embedding -> L-layer LSTM -> linear to the shared character set.

Read top to bottom: defaults, the module, then the stateful API the engine and the sampler use.
Training uses the batch-first `forward`; live playing uses `step` (one character) and `prime`
(a string), which must agree with `forward` exactly (tested), because the engine's batched bank
re-implements the same arithmetic on stacked weights and is checked against this module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from textconductor.protocol.charset import CHAR_TO_INDEX, VOCAB_SIZE

State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each [layers, batch, hidden]


@dataclass(frozen=True)
class CharLSTMConfig:
    layers: int = 2
    hidden: int = 256
    embed: int = 64
    vocab: int = VOCAB_SIZE
    dropout: float = 0.0  # between LSTM layers, training only

    def to_dict(self) -> dict:
        return asdict(self)


class CharLSTM(nn.Module):
    def __init__(self, config: CharLSTMConfig | None = None) -> None:
        super().__init__()
        self.config = config or CharLSTMConfig()
        c = self.config
        self.embed = nn.Embedding(c.vocab, c.embed)
        self.lstm = nn.LSTM(c.embed, c.hidden, num_layers=c.layers, batch_first=True,
                            dropout=c.dropout if c.layers > 1 else 0.0)
        self.head = nn.Linear(c.hidden, c.vocab)

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """x: [batch, time] character indices -> logits [batch, time, vocab] and the final state."""
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state

    def initial_state(self, batch: int = 1) -> State:
        p = self.head.weight
        z = torch.zeros(self.config.layers, batch, self.config.hidden, dtype=p.dtype, device=p.device)
        return z, z.clone()

    @torch.no_grad()
    def step(self, char: int | str, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Feed one character; return the logits [vocab] for the next one and the new state."""
        idx = CHAR_TO_INDEX[char] if isinstance(char, str) else int(char)
        x = torch.tensor([[idx]], device=self.head.weight.device)
        logits, state = self.forward(x, state)
        return logits[0, -1], state

    @torch.no_grad()
    def prime(self, text: str, state: State | None = None) -> State:
        """Feed a whole (folded) string in one pass; return the state after its last character."""
        if not text:
            return state if state is not None else self.initial_state()
        x = torch.tensor([[CHAR_TO_INDEX[c] for c in text]], device=self.head.weight.device)
        _, state = self.lstm(self.embed(x), state)
        return state

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
